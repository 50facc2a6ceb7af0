//! The list of configuration keys the engine knows, with help text, and which of them are secret.
//!
//! docs/configuration.md and the configurator are written from this list; keeping it in one place
//! stops them drifting apart.

/// The Pispas web app's origin: the only browser page allowed by default. Exact, not
/// `https://*.unpispas.es`: a wildcard would also admit `local.unpispas.es` itself and any
/// subdomain anyone can get a page onto (docs/configuration.md, ALLOWED_ORIGINS).
pub(crate) const DEFAULT_ORIGINS: &str = "https://app.unpispas.es";

/// `(key, default, help)` for every fixed key.
pub const KEYS: &[(&str, &str, &str)] = &[
    ("LOCAL_HOST", "127.0.0.1", "Address to listen on. Anything but loopback needs LAN_TOKEN/ADMIN_TOKEN from clients."),
    ("LOCAL_PORT", "5005", "Port for both TLS (wss://) and plain (ws://) WebSocket."),
    ("MODULES", "base,print,scale,rfid", "Comma-separated modules to enable; base is always on."),
    ("ALLOWED_ORIGINS", DEFAULT_ORIGINS, "Browser origins allowed to connect; `https://*.example.com` matches subdomains."),
    ("CERT_DIR", "certs (beside the .env)", "Folder with cert.pem and key.pem for TLS; a self-signed one is generated when absent, or used (with a warning) when the pair cannot be used."),
    ("DATA_DIR", "platform data folder", "Where the database, logs, generated certificate and tokens live."),
    ("LOG_LEVEL", "info", "error, warn, info, debug or trace, or a tracing filter such as `info,pispas_modules=debug`."),
    ("ADMIN_TOKEN", "generated on first run", "Token for administrative actions (command log, configuration). At least 32 characters."),
    ("LAN_TOKEN", "none", "Token LAN clients present when LOCAL_HOST is not loopback. At least 32 characters."),
    ("ADMIN_FROM_LAN", "off", "on: the admin token is honoured from other computers too. Off, administrative actions are for this computer only."),
    ("LAN_PLAIN_TOKENS", "off", "on: LAN clients may present their token over plain ws://, where anyone on the network can read it. Off, tokens from the network are taken over wss:// only."),
    ("LAN_IDLE_TIMEOUT_S", "120", "Seconds a connection from the network may stay silent (the service pings it every quarter of this) before it is closed; 0 = never."),
    ("LAN_MAX_PENDING_PER_ADDRESS", "16", "Connections from one network address that may be in their handshake at once; more are closed at accept."),
    ("MAX_CONNECTIONS", "2048", "Connections served at once; more are closed at accept."),
    ("MAX_FRAME_BYTES", "33554432", "Largest WebSocket message accepted (32 MiB)."),
    ("MAX_IN_FLIGHT", "256", "Requests one connection may have in flight; reading pauses beyond it."),
    ("MAX_IN_FLIGHT_BYTES", "67108864", "Bytes of requests one connection may have in flight (64 MiB); reading pauses beyond it."),
    ("MAX_TOTAL_IN_FLIGHT_BYTES", "536870912", "Bytes of requests all connections together may have in flight (512 MiB); a connection whose frame does not fit waits, reading nothing more."),
    ("HANDSHAKE_TIMEOUT_MS", "10000", "Time allowed for the TLS and WebSocket handshakes."),
    ("SHUTDOWN_GRACE_MS", "5000", "On shutdown, how long in-flight requests may take to finish."),
    ("HEARTBEAT_SECS", "30", "Period of the BASE heartbeat event to subscribers; 0 disables it."),
    ("PRINTER_<NAME>", "none", "A printer by URI: tcp://host:9100, serial://COM3?baud=19200, usb://04b8:0e28, spooler://<queue>, epos://host, file://path; options width, codepage, cut, drawer_pin, drawer_open, status, timeout_ms."),
    ("DEFAULT_PRINTER", "the only printer, else RECEIPT", "Printer used when a request names none."),
    ("PRINT_RESUME_WINDOW", "300", "Seconds: jobs not printed within this long of being accepted (after a restart, or waiting for paper) expire instead of printing late; 0 expires every pending job at start."),
    ("PRINT_RENDER_TIMEOUT_MS", "10000", "Longest an HTML or PDF render may take (a resource that never loads fails with RENDER_FAILED)."),
    ("PRINT_MAX_DATA_BYTES", "16777216", "Largest decoded DATA accepted by PRINT (16 MiB)."),
    ("PRINT_MAX_PAGES", "50", "Most pages of a PDF that are printed."),
    ("PRINT_REPLY_TIMEOUT_MS", "30000", "Longest a PRINT reply waits for the job to be delivered before answering with its current state."),
    ("PRINT_QUEUE_MAX_MB", "256", "Documents waiting to print may take at most this many MiB; a new job beyond it is refused with PRINT_QUEUE_FULL (nothing is stored)."),
    ("PRINT_MAX_PENDING_RENDERS", "50", "HTML, PDF and image jobs one client (one browser origin, or native clients together) may have waiting to be rendered; more are refused with PRINT_QUEUE_FULL, so one page cannot keep the browser busy for every till."),
    ("PRINT_KEEP_MB", "512", "Finished jobs are kept a week for re-sending, within this many MiB of documents (the oldest go first)."),
    ("PRINT_HTML_SCRIPTS", "off", "Run JavaScript in HTML receipts (off: a receipt is a document; an order note with a script in it does nothing)."),
    ("PRINT_HTML_FETCH", "public", "What an HTML receipt may load: public (internet addresses only, never this computer, the shop's network or cloud metadata), none (only data: URIs), or a list of host names (cdn.example.com,img.example.com)."),
    ("PRINT_PREWARM", "true", "Start the rendering browser when PRINT starts, so the first HTML receipt is fast."),
    ("CHROME_PATH", "Edge, Chrome or Chromium in their usual places", "Browser used to render HTML receipts."),
    ("PDFIUM_PATH", "beside the app, its resources, /usr/local/lib, the system", "pdfium library (file or folder) used to render PDFs."),
    ("CACHE_MAX_VALUE_BYTES", "1048576", "Largest CACHE VALUE (its JSON text) one key may hold (1 MiB); a larger SET is refused with VALUE_TOO_LARGE."),
    ("CACHE_MAX_BYTES", "268435456", "Total of every CACHE key and value (256 MiB); a SET beyond it is refused with CACHE_FULL (nothing is stored)."),
    ("CACHE_SWEEP_SECS", "60", "How often expired CACHE keys are deleted from the disk (readers never see them once expired)."),
    ("REMOTE_HOST", "none (off)", "The Pispas cloud gateway to connect out to (a host name, no scheme); empty keeps the remote gateway off."),
    ("REMOTE_PORT", "8765", "The gateway's port."),
    ("REMOTE_TLS", "on", "wss:// (certificate checked against the system's roots plus REMOTE_CA) or, off, plain ws:// (tests only)."),
    ("REMOTE_CA", "none", "An extra CA certificate (PEM file) to trust for the gateway, beside the system's roots."),
    ("REMOTE_PATH", "/", "The WebSocket path on the gateway."),
    ("REMOTE_TOKEN", "none", "This shop's token, sent as Authorization: Bearer; never shown or logged."),
    ("REMOTE_DEVICE_ID", "generated once, kept in the data folder", "How this till names itself to the cloud (1–64 letters, digits, - _ .)."),
    ("REMOTE_TARGETS", "BASE,PRINT,CACHE,ORDER_KITCHEN", "TARGETs the cloud may reach; payments, CASHGUARD and LOG only when listed. Admin actions never."),
    ("REMOTE_PROXY", "none", "An HTTP CONNECT proxy to reach the gateway through: http://[user:password@]host:port."),
    ("REMOTE_REPLY_BUFFER", "1000", "Replies and events kept for the cloud while the link is down (the oldest go first)."),
    ("REMOTE_PING_SECS", "15", "A ping goes to the gateway this often; the link is dead after three periods with nothing heard."),
    ("REMOTE_BACKOFF_MAX_SECS", "60", "Longest wait between reconnection attempts (a refused token waits five times this)."),
    ("VIEWER_PORT", "8081", "Loopback port where the status, configurator and command log pages are served to a browser (http://127.0.0.1:PORT). 0 picks a free port; `off` disables it."),
    ("MYPOS_<NAME>", "none", "A myPOS card terminal (MYPOS= is DEFAULT): tcp://<terminal-ip>:<port> in ECR mode, or serial://<port>?baud=115200."),
    ("PAYTEF_<NAME>", "none", "A Paytef pinpad (PAYTEF= is DEFAULT): http://<pinpad-ip>:8887 (local API) or https://cloud.api.paytef.es?pinpad=<terminal code> (cloud); option poll_ms (default 1000)."),
    ("PAYTEF_ACCESS_KEY", "none", "Paytef Cloud access key (secret), with PAYTEF_SECRET_KEY; needed by cloud pinpads only."),
    ("PAYTEF_SECRET_KEY", "none", "Paytef Cloud secret key (secret)."),
    ("CASHGUARD", "none", "The CashGuard cash recycler through the vendor's library: lib://<path to cglogics.dll>?port=COM1 (options register, cashier, settings). Loads a library, so it is set in the .env file only."),
    ("PAYMENT_MAX_AMOUNT", "1000000", "Largest payment AMOUNT accepted, in cents; more is INVALID_AMOUNT, refused before the terminal is contacted."),
    ("PAYMENT_CURRENCY", "EUR", "Currency (ISO 4217 letters) of a payment that names none."),
    ("PAYMENT_TIMEOUT_S", "180", "Seconds a SALE or REFUND may take before the service reconciles with the terminal instead (never re-sending it); what stays unknown is PAYMENT_UNKNOWN_OUTCOME."),
    ("KITCHEN_STATIONS", "KITCHEN", "ORDER_KITCHEN: the kitchen's stations in order (GRILL,COLD,BAR); a line goes to its STATION, else its CATEGORY's KITCHEN_ROUTE_<CATEGORY>, else the first."),
    ("KITCHEN_ROUTE_<CATEGORY>", "none", "ORDER_KITCHEN: the station (one of KITCHEN_STATIONS) that cooks lines of that CATEGORY (KITCHEN_ROUTE_DRINKS=BAR)."),
    ("KITCHEN_STAGES", "NEW,PREPARING,READY,SERVED", "ORDER_KITCHEN: a ticket's stages in order, at least two; BUMP moves to the next, the last one is served (off the screens); all lines done moves a ticket to READY (else the one before the last)."),
    ("KITCHEN_ALERTS", "NEW:300,PREPARING:900,READY:300", "ORDER_KITCHEN: STAGE:seconds a ticket may stay in a stage before its card changes colour."),
    ("KITCHEN_RETENTION", "24", "ORDER_KITCHEN: hours served and voided tickets (and their events and request keys) are kept for RECALL and support; pruned at start and while running (every quarter of this, at most every 10 minutes)."),
    ("KITCHEN_PRINT_<STATION>", "none", "ORDER_KITCHEN: the printer (a PRINTER_<NAME>) that gets that station's chits through PRINT's queue: a new ticket, then only what an UPDATE or VOID changed, marked ** UPDATE **; each ticket version printed once."),
    ("KITCHEN_PRINT_WHEN", "always", "ORDER_KITCHEN: always, or no_display: chits print only while no display of that station (or EXPO) is subscribed."),
    ("KITCHEN_LAN", "off", "ORDER_KITCHEN: on opens a second listener for kitchen tablets on the network (KITCHEN_LAN_HOST:KITCHEN_LAN_PORT): only the kitchen pages and a WebSocket that reaches only ORDER_KITCHEN's display actions, for tablets paired from the till's kitchen window."),
    ("KITCHEN_LAN_HOST", "0.0.0.0", "ORDER_KITCHEN: the address the kitchen LAN listener binds (0.0.0.0: every network of this computer)."),
    ("KITCHEN_LAN_PORT", "8082", "ORDER_KITCHEN: the port of the kitchen LAN listener."),
    ("COMMAND_LOG", "on", "Record every request, reply and event in the command log (on/off). Secrets and card numbers are always redacted."),
    ("COMMAND_LOG_DAYS", "14", "Command log entries older than this many days are deleted."),
    ("COMMAND_LOG_MAX_MB", "200", "The command log is trimmed, oldest first, to stay under this size in MiB."),
];

/// Prefixes of device keys owned by modules (`PRINTER_RECEIPT`, `SCALE_DELI`…).
const DEVICE_PREFIXES: &[&str] = &[
    "PRINTER_",
    "DEFAULT_PRINTER",
    "PRINT_",
    "SCALE",
    "RFID",
    "CHROME_PATH",
    "PDFIUM_PATH",
    "CASHGUARD",
    "PAYTEF",
    "MYPOS",
    "PAYMENT_",
    "KITCHEN",
    "CACHE_",
    "LOG_",
    "REMOTE_",
];

/// Whether an environment variable belongs to this service (and so overrides the file).
pub fn is_config_key(key: &str) -> bool {
    KEYS.iter().any(|(k, _, _)| *k == key) || DEVICE_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Keys that name a program the service runs (or where it writes what a client sends): the
/// admin token must not be enough to change them, so CONFIG_SAVE refuses them and they are set
/// by editing the `.env` file. `PRINTER_*` keys with `file://` are checked separately.
pub const FILE_ONLY_KEYS: &[&str] = &["CHROME_PATH", "PDFIUM_PATH", "CASHGUARD"];

/// The folder under DATA_DIR where `file://` printers set over the protocol may write.
pub const PRINTER_OUTPUT_DIR: &str = "printer-output";

/// Whether a key's value must never be shown or logged.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD", "PASS", "KEY"]
        .iter()
        .any(|s| k.contains(s))
}

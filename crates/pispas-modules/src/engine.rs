//! Starting and stopping the whole engine: configuration → TLS, tokens, modules, router → listener.
//!
//! [`Engine::start`] is what the headless binary, the desktop app and the tests call. The returned
//! [`RunningEngine`] owns the shutdown token and task tracker; dropping it does not stop the engine,
//! [`RunningEngine::shutdown`] does, letting in-flight requests finish for SHUTDOWN_GRACE_MS.

use crate::commandlog::{self, CommandLog, Retention};
use crate::config::ConfigEnv;
use crate::events::{Audience, EventBus};
use crate::host::Control;
use crate::modules::{self, base, ModuleContext, ModuleKind};
use crate::protocol::Failure;
use crate::router::{Router, Service};
use crate::server::security::AccessPolicy;
use crate::server::tls::{self, CertSource, TlsError};
use crate::server::{self, tokens, viewer, Shared};
use crate::store::{Store, StoreError};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How many recent failures the status window can show.
const LAST_ERRORS: usize = 20;

/// Why the engine did not start. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("port {port} on {host} is already in use by another program: close it (is another Pispas running?) or set LOCAL_PORT to a free port")]
    PortInUse { host: String, port: u16 },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("module {module} cannot start: {message}")]
    Module {
        module: &'static str,
        message: String,
    },
}

/// Live counters.
#[derive(Debug, Default)]
pub struct Stats {
    connections_open: AtomicUsize,
    connections_total: AtomicU64,
    requests_ok: AtomicU64,
    requests_failed: AtomicU64,
}

impl Stats {
    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn request_done(&self, ok: bool) {
        let counter = if ok {
            &self.requests_ok
        } else {
            &self.requests_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Clients connected right now.
    pub fn connections_open(&self) -> usize {
        self.connections_open.load(Ordering::Relaxed)
    }
}

/// What BASE, the status window and the tray read about the running engine.
pub struct EngineInfo {
    pub config: Arc<ConfigEnv>,
    pub events: EventBus,
    pub stats: Stats,
    pub started: Instant,
    pub tls_source: CertSource,
    pub tls_fingerprint: String,
    /// Subject, validity and names of the certificate served, for the configurator.
    pub tls_details: Value,
    pub local_addr: SocketAddr,
    /// Where the pages are served to a browser, when VIEWER_PORT is not off and the port was free.
    pub viewer_addr: Option<SocketAddr>,
    /// The command log (disabled when COMMAND_LOG=off).
    pub command_log: CommandLog,
    /// Asks the process to restart or stop the engine; `None` when the engine runs without a host
    /// (tests that call [`Engine::start`] directly).
    pub control: Option<Control>,
    modules_router: OnceLock<RouterRef>,
    last_errors: Mutex<VecDeque<Value>>,
    warnings: Mutex<Vec<String>>,
    devices: Mutex<std::collections::BTreeMap<String, Value>>,
}

/// A non-owning reference to the router, so BASE (which the router owns) can list the modules
/// without a reference cycle.
struct RouterRef(Weak<std::collections::BTreeMap<&'static str, Arc<dyn Service>>>);

impl EngineInfo {
    /// Every module with its health, in TARGET order.
    pub fn modules(&self) -> Value {
        let Some(map) = self.modules_router.get().and_then(|r| r.0.upgrade()) else {
            return json!([]);
        };
        let list: Vec<Value> = map
            .values()
            .map(|s| {
                let h = s.health();
                json!({ "TARGET": s.target(), "STATE": h.state, "DETAIL": h.detail, "ACTIONS": s.actions() })
            })
            .collect();
        Value::Array(list)
    }

    /// Live state for the status window.
    pub fn status(&self) -> Value {
        let errors: Vec<Value> = self
            .last_errors
            .lock()
            .map(|e| e.iter().cloned().collect())
            .unwrap_or_default();
        let warnings: Vec<String> = self.warnings.lock().map(|w| w.clone()).unwrap_or_default();
        let devices: Vec<Value> = self
            .devices
            .lock()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default();
        json!({
            "STATE": "RUNNING",
            "VERSION": crate::protocol::SERVICE_VERS,
            "ADDRESS": self.local_addr.to_string(),
            "VIEWER": self.viewer_addr.map(|a| format!("http://{a}/")),
            "TLS": { "SOURCE": match &self.tls_source { CertSource::Provided(_) => "provided", CertSource::SelfSigned(_) => "self-signed" },
                     "FINGERPRINT": self.tls_fingerprint,
                     "SUBJECT": self.tls_details["SUBJECT"],
                     "NOT_AFTER": self.tls_details["NOT_AFTER"] },
            "WARNINGS": warnings,
            "DEVICES": devices,
            "COMMAND_LOG": { "ENABLED": self.command_log.enabled(), "DROPPED": self.command_log.dropped() },
            "UPTIME_MS": self.started.elapsed().as_millis() as u64,
            "CONNECTIONS": self.stats.connections_open(),
            "CONNECTIONS_TOTAL": self.stats.connections_total.load(Ordering::Relaxed),
            "REQUESTS_OK": self.stats.requests_ok.load(Ordering::Relaxed),
            "REQUESTS_FAILED": self.stats.requests_failed.load(Ordering::Relaxed),
            "MODULES": self.modules(),
            "LAST_ERRORS": errors,
        })
    }

    /// Adds a sentence the status window shows until the next restart (a fallback, a page port
    /// that was taken).
    pub fn add_warning(&self, warning: impl Into<String>) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(warning.into());
        }
    }

    /// The last DEVICE_STATE of every device that reported one.
    pub fn devices(&self) -> Vec<Value> {
        self.devices
            .lock()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Remembers a DEVICE_STATE event (see docs/protocol.md) for the status window.
    fn record_device_state(&self, service: &str, data: &Value) {
        let Some(device) = data.get("DEVICE").and_then(Value::as_str) else {
            return;
        };
        let mut entry = data.clone();
        if let Value::Object(m) = &mut entry {
            m.insert("SERVICE".into(), json!(service));
            m.insert("AT_MS".into(), json!(commandlog::now_ms()));
        }
        if let Ok(mut d) = self.devices.lock() {
            d.insert(format!("{service}/{device}"), entry);
        }
    }

    /// The heartbeat event's data.
    pub fn heartbeat(&self) -> Value {
        json!({
            "EVENT": "HEARTBEAT",
            "UPTIME_MS": self.started.elapsed().as_millis() as u64,
            "CONNECTIONS": self.stats.connections_open(),
        })
    }

    /// Remembers a FAILURE for the status window (the last few only).
    pub fn record_failure(&self, target: &str, action: &str, failure: &Failure) {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        if let Ok(mut errors) = self.last_errors.lock() {
            if errors.len() == LAST_ERRORS {
                errors.pop_front();
            }
            errors.push_back(json!({ "AT_MS": at, "TARGET": target, "ACTION": action, "CODE": failure.code.as_str(), "MESSAGE": failure.message }));
        }
    }
}

/// Entry point to run the engine.
pub struct Engine;

impl Engine {
    /// Binds, prepares TLS and the admin token, builds the modules and starts serving.
    ///
    /// Fails when the port is taken or cannot be bound, the data folder cannot be created, or the
    /// certificate in CERT_DIR is unusable.
    pub async fn start(config: ConfigEnv) -> Result<RunningEngine, StartError> {
        Engine::start_hosted(config, None).await
    }

    /// Like [`Engine::start`], with a [`Control`] so BASE can restart the engine in place (the
    /// [`crate::host::Host`] passes its own).
    ///
    /// Fails as [`Engine::start`] does.
    pub async fn start_hosted(
        config: ConfigEnv,
        control: Option<Control>,
    ) -> Result<RunningEngine, StartError> {
        let started = Instant::now();
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let tls = tls::load_or_generate(&config.cert_dir, &config.data_dir)?;
        let admin_token = tokens::admin_token(config.admin_token.as_deref(), &config.data_dir)
            .map_err(|source| StartError::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            })?;
        let listener = bind(&config)?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: addr_of(&config),
            source,
        })?;
        if config.allowed_origins.iter().any(|o| o == "*") {
            tracing::warn!(
                "ALLOWED_ORIGINS is *: any web page in this computer's browser can use the devices"
            );
        }
        let mut policy = AccessPolicy::new(
            &config.allowed_origins,
            admin_token.clone(),
            config.lan_token.clone(),
        );
        // The app's own windows (Tauri serves them from its bundle under these origins).
        for origin in APP_ORIGINS {
            policy.allow_origin(origin);
        }
        let mut warnings = Vec::new();
        let viewer_listener = match config.viewer_port {
            None => None,
            Some(port) => match viewer::bind(port).await {
                Ok(l) => Some(l),
                Err(e) => {
                    let msg = format!("the pages could not be served on http://127.0.0.1:{port}/ ({e}); set VIEWER_PORT to a free port");
                    tracing::warn!("{msg}");
                    warnings.push(msg);
                    None
                }
            },
        };
        let viewer_addr = viewer_listener.as_ref().and_then(|l| l.local_addr().ok());
        if let Some(addr) = viewer_addr {
            for origin in viewer::origins(addr.port()) {
                policy.allow_origin(&origin);
            }
        }
        let events = EventBus::new();
        let store = Store::open(&config.data_dir)?;
        let command_log = if config.command_log {
            CommandLog::start(
                store.clone(),
                events.clone(),
                Retention {
                    max_age: config.command_log_max_age,
                    max_bytes: config.command_log_max_bytes,
                },
            )?
        } else {
            CommandLog::disabled()
        };
        let config = Arc::new(config);
        let info = Arc::new(EngineInfo {
            config: config.clone(),
            events,
            stats: Stats::default(),
            started,
            tls_source: tls.source.clone(),
            tls_fingerprint: tls.fingerprint.clone(),
            tls_details: tls::details(&tls.cert_der),
            local_addr,
            viewer_addr,
            command_log,
            control,
            modules_router: OnceLock::new(),
            last_errors: Mutex::new(VecDeque::new()),
            warnings: Mutex::new(warnings),
            devices: Mutex::new(Default::default()),
        });
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let ctx = ModuleContext {
            config: config.clone(),
            events: info.events.clone(),
            store,
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
        };
        let router = match build_router(&ctx, &info) {
            Ok(r) => r,
            Err(e) => {
                shutdown.cancel();
                tracker.close();
                tracker.wait().await;
                return Err(e);
            }
        };
        let _ = info.modules_router.set(RouterRef(router.downgrade()));
        if !config.heartbeat.is_zero() {
            tracker.spawn(base::run_heartbeat(
                info.clone(),
                config.heartbeat,
                shutdown.clone(),
            ));
        }
        tracker.spawn(track_device_states(info.clone(), shutdown.clone()));
        if let Some(listener) = viewer_listener {
            tracker.spawn(viewer::run(listener, local_addr.port(), shutdown.clone()));
        }
        let shared = Arc::new(Shared::new(
            router,
            info.clone(),
            policy,
            tls.acceptor.clone(),
            shutdown.clone(),
            tracker.clone(),
        ));
        tracker.spawn(server::run(listener, shared));
        tracing::info!(
            address = %local_addr,
            tls_fingerprint = %tls.fingerprint,
            modules = ?config.modules.iter().map(|m| m.name()).collect::<Vec<_>>(),
            "pispas local service listening (wss:// and ws:// on the same port)"
        );
        if let Some(addr) = viewer_addr {
            tracing::info!("status, configurator and command log pages: http://{addr}/");
        }
        Ok(RunningEngine {
            info,
            shutdown,
            tracker,
            admin_token,
            cert_der: tls.cert_der.to_vec(),
            store: ctx.store,
        })
    }
}

/// Origins of the desktop app's own windows: `tauri://localhost` (Linux, macOS) and
/// `http(s)://tauri.localhost` (Windows WebView2).
pub const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// Keeps the last DEVICE_STATE of each device for the status window, whatever module sent it.
async fn track_device_states(info: Arc<EngineInfo>, shutdown: CancellationToken) {
    let mut rx = info.events.subscribe();
    loop {
        let ev = tokio::select! {
            _ = shutdown.cancelled() => return,
            ev = rx.recv() => ev,
        };
        match ev {
            Ok(ev) if ev.audience != Audience::Topic(commandlog::LIVE_TOPIC.into()) => {
                if ev.data.get("EVENT").and_then(Value::as_str) == Some(DEVICE_STATE) {
                    info.record_device_state(&ev.service, &ev.data);
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// The EVENT name modules use to report a device's state (docs/protocol.md).
pub const DEVICE_STATE: &str = "DEVICE_STATE";

fn addr_of(config: &ConfigEnv) -> SocketAddr {
    SocketAddr::new(config.local_host, config.local_port)
}

/// Binds with a backlog large enough for a burst of reconnecting clients.
fn bind(config: &ConfigEnv) -> Result<TcpListener, StartError> {
    let addr = addr_of(config);
    let err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            StartError::PortInUse {
                host: config.local_host.to_string(),
                port: config.local_port,
            }
        } else {
            StartError::Bind { addr, source }
        }
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    // On Unix SO_REUSEADDR only allows rebinding over TIME_WAIT; on Windows it would let another
    // process steal the port, so it is not set there.
    #[cfg(unix)]
    socket.set_reuseaddr(true).map_err(err)?;
    socket.bind(addr).map_err(err)?;
    socket.listen(1024).map_err(err)
}

/// Builds every enabled module. A module whose configuration is invalid stops startup (naming
/// the key); a device that is merely offline does not.
fn build_router(ctx: &ModuleContext, info: &Arc<EngineInfo>) -> Result<Router, StartError> {
    let mut services: Vec<Arc<dyn Service>> = Vec::new();
    for kind in &ctx.config.modules {
        let service: Arc<dyn Service> = match kind {
            ModuleKind::Base => Arc::new(base::Base::new(info.clone())),
            ModuleKind::Print => {
                Arc::new(modules::print::Print::start(ctx).map_err(|message| {
                    StartError::Module {
                        module: "print",
                        message,
                    }
                })?)
            }
            ModuleKind::Scale => {
                Arc::new(modules::scale::ScaleService::start(ctx).map_err(|message| {
                    StartError::Module {
                        module: "scale",
                        message,
                    }
                })?)
            }
            ModuleKind::Rfid => {
                Arc::new(modules::rfid::RfidService::start(ctx).map_err(|message| {
                    StartError::Module {
                        module: "rfid",
                        message,
                    }
                })?)
            }
            other => modules::unavailable(*other),
        };
        services.push(service);
    }
    Ok(Router::new(services))
}

/// A running engine. Call [`RunningEngine::shutdown`] to stop it.
pub struct RunningEngine {
    pub info: Arc<EngineInfo>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    admin_token: String,
    cert_der: Vec<u8>,
    store: Store,
}

impl RunningEngine {
    /// The address actually bound (the real port when LOCAL_PORT was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.info.local_addr
    }

    /// The admin token in force (configured or generated).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The DER of the TLS certificate served, for clients that pin it.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The engine's database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The event bus (the desktop shell and the command log subscribe to it).
    pub fn events(&self) -> &EventBus {
        &self.info.events
    }

    /// A token that is cancelled when shutdown starts.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets in-flight requests finish for up to SHUTDOWN_GRACE_MS, then waits
    /// for every task.
    pub async fn shutdown(self) {
        tracing::info!("shutting down");
        self.shutdown.cancel();
        self.tracker.close();
        let limit = self.info.config.shutdown_grace + std::time::Duration::from_secs(2);
        if tokio::time::timeout(limit, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop in time");
        }
        // After the connections: their last replies are recorded too.
        self.info.command_log.close().await;
        tracing::info!("stopped");
    }
}

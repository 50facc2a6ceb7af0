//! A stand-in for the Pispas cloud side of the remote gateway, written from docs/remote.md (not
//! from the engine's client): a WebSocket server that accepts tills (checking
//! `Authorization: Bearer`), reads each till's HELLO, sends it requests in the ordinary envelope
//! and collects what comes back (replies and events, with their `SEQ`). TLS when given a
//! certificate; [`proxy`] is an HTTP CONNECT proxy to put between the two.
//!
//! For tests it can also misbehave: refuse every token, stop reading (so pings go unanswered),
//! and send raw frames (garbage, binary, huge).

pub mod proxy;

use anyhow::{anyhow, Context};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// How the simulated cloud is set up.
#[derive(Clone, Default)]
pub struct GatewayOptions {
    /// `host:port` to listen on (`127.0.0.1:0` picks a port).
    pub addr: String,
    /// The bearer token tills must present; `None` accepts any (or none).
    pub token: Option<String>,
    /// Certificate chain and key (PEM) to serve TLS with; plain WebSocket when `None`.
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
}

/// What the simulator saw, for `subscribe`.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayEvent {
    /// A till connected and said HELLO.
    Hello { device: String, hello: Value },
    /// A till sent a reply or an event.
    Message { device: String, message: Value },
    /// A till's link ended.
    Gone { device: String },
    /// A handshake was refused (wrong or missing token).
    Refused { authorization: Option<String> },
}

impl std::fmt::Display for GatewayEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GatewayEvent::Hello { device, hello } => write!(f, "{device} HELLO {hello}"),
            GatewayEvent::Message { device, message } => write!(f, "{device} {message}"),
            GatewayEvent::Gone { device } => write!(f, "{device} disconnected"),
            GatewayEvent::Refused { .. } => write!(f, "a till was refused (bad token)"),
        }
    }
}

/// One connected till.
struct Link {
    hello: Value,
    tx: mpsc::UnboundedSender<Message>,
    frozen: Arc<AtomicBool>,
    stop: CancellationToken,
}

struct Shared {
    token: Mutex<Option<String>>,
    links: Mutex<BTreeMap<String, Link>>,
    /// Everything each till sent (replies and events), in order, across its links.
    received: Mutex<BTreeMap<String, Vec<Value>>>,
    events: broadcast::Sender<GatewayEvent>,
    accepted: AtomicU64,
    refused: AtomicU64,
    stop: CancellationToken,
}

/// A running simulated cloud; a cheap handle.
#[derive(Clone)]
pub struct GatewaySim {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl GatewaySim {
    /// Listens on `options.addr`.
    ///
    /// Fails when the address cannot be bound or the TLS certificate is unusable.
    pub async fn start(options: GatewayOptions) -> anyhow::Result<GatewaySim> {
        let listener = TcpListener::bind(&options.addr)
            .await
            .with_context(|| format!("listen on {}", options.addr))?;
        let addr = listener.local_addr()?;
        let acceptor = match &options.tls {
            Some((cert, key)) => Some(tls_acceptor(cert, key)?),
            None => None,
        };
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            token: Mutex::new(options.token.clone()),
            links: Mutex::default(),
            received: Mutex::default(),
            events,
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            stop: CancellationToken::new(),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = s.stop.cancelled() => return,
                    a = listener.accept() => a,
                };
                let Ok((tcp, _)) = accepted else { continue };
                let s = s.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        Some(a) => {
                            if let Ok(tls) = a.accept(tcp).await {
                                serve(tls, s).await
                            }
                        }
                        None => serve(tcp, s).await,
                    }
                });
            }
        });
        Ok(GatewaySim { shared, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sees everything from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<GatewayEvent> {
        self.shared.events.subscribe()
    }

    /// Connected tills: device id → its HELLO.
    pub fn devices(&self) -> BTreeMap<String, Value> {
        self.shared
            .links
            .lock()
            .map(|l| {
                l.iter()
                    .map(|(k, v)| (k.clone(), v.hello.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// WebSocket handshakes accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Handshakes refused for their token so far.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Changes the token tills must present.
    pub fn set_token(&self, token: Option<String>) {
        if let Ok(mut t) = self.shared.token.lock() {
            *t = token;
        }
    }

    /// Everything `device` sent so far (replies and events, with their SEQ).
    pub fn received(&self, device: &str) -> Vec<Value> {
        self.shared
            .received
            .lock()
            .map(|r| r.get(device).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Sends a request (any JSON) to `device`.
    ///
    /// Fails when the till is not connected.
    pub fn send(&self, device: &str, request: &Value) -> anyhow::Result<()> {
        self.send_raw(device, Message::text(request.to_string()))
    }

    /// Sends any frame to `device`, well-formed or not.
    ///
    /// Fails when the till is not connected.
    pub fn send_raw(&self, device: &str, message: Message) -> anyhow::Result<()> {
        let links = self.shared.links.lock().map_err(|_| anyhow!("poisoned"))?;
        let link = links
            .get(device)
            .ok_or_else(|| anyhow!("no till {device:?} is connected"))?;
        link.tx
            .send(message)
            .map_err(|_| anyhow!("the link to {device:?} is closing"))
    }

    /// Stops (or resumes) reading from `device`: its pings go unanswered, as with a cloud that
    /// hangs.
    pub fn freeze(&self, device: &str, frozen: bool) {
        if let Ok(links) = self.shared.links.lock() {
            if let Some(l) = links.get(device) {
                l.frozen.store(frozen, Ordering::SeqCst);
            }
        }
    }

    /// Closes the link to `device` (the till should reconnect by itself).
    pub fn drop_device(&self, device: &str) {
        if let Ok(mut links) = self.shared.links.lock() {
            if let Some(l) = links.remove(device) {
                l.stop.cancel();
            }
        }
    }

    /// Waits until `device` (any till when `None`) has said HELLO; returns the HELLO.
    ///
    /// Fails after `within`.
    pub async fn wait_for_hello(
        &self,
        device: Option<&str>,
        within: Duration,
    ) -> anyhow::Result<(String, Value)> {
        let mut rx = self.subscribe();
        let found = |d: &BTreeMap<String, Value>| match device {
            Some(id) => d.get(id).map(|h| (id.to_string(), h.clone())),
            None => d.iter().next().map(|(k, v)| (k.clone(), v.clone())),
        };
        if let Some(f) = found(&self.devices()) {
            return Ok(f);
        }
        tokio::time::timeout(within, async {
            loop {
                match rx.recv().await {
                    Ok(GatewayEvent::Hello { device: d, hello })
                        if device.is_none_or(|id| id == d) =>
                    {
                        return Ok((d, hello))
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => return Err(anyhow!("{e}")),
                }
            }
        })
        .await
        .map_err(|_| anyhow!("no HELLO within {within:?}"))?
    }

    /// Waits for a message from `device` matching `pred` (already received ones count).
    ///
    /// Fails after `within`.
    pub async fn wait_for(
        &self,
        device: &str,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let mut rx = self.subscribe();
        if let Some(v) = self.received(device).into_iter().find(|v| pred(v)) {
            return Ok(v);
        }
        tokio::time::timeout(within, async {
            loop {
                match rx.recv().await {
                    Ok(GatewayEvent::Message { device: d, message })
                        if d == device && pred(&message) =>
                    {
                        return Ok(message)
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => return Err(anyhow!("{e}")),
                }
            }
        })
        .await
        .map_err(|_| anyhow!("no matching message from {device} within {within:?}"))?
    }

    /// Stops listening and closes every link.
    pub fn stop(&self) {
        self.shared.stop.cancel();
        if let Ok(mut links) = self.shared.links.lock() {
            for (_, l) in std::mem::take(&mut *links) {
                l.stop.cancel();
            }
        }
    }
}

/// One till's connection: the handshake (token check), HELLO, then frames both ways.
// The handshake callback's error type is tungstenite's (an HTTP response), not ours.
#[allow(clippy::result_large_err)]
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S, shared: Arc<Shared>) {
    let want = shared.token.lock().ok().and_then(|t| t.clone());
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let seen_cb = seen.clone();
    let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Ok(mut s) = seen_cb.lock() {
            s.clone_from(&auth);
        }
        match &want {
            Some(token) if auth.as_deref() != Some(format!("Bearer {token}").as_str()) => {
                let mut r = ErrorResponse::new(Some("bad token".into()));
                *r.status_mut() = StatusCode::UNAUTHORIZED;
                Err(r)
            }
            _ => Ok(resp),
        }
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(256 << 20))
        .max_frame_size(Some(256 << 20));
    let ws =
        match tokio_tungstenite::accept_hdr_async_with_config(stream, check, Some(config)).await {
            Ok(ws) => ws,
            Err(_) => {
                shared.refused.fetch_add(1, Ordering::SeqCst);
                let authorization = seen.lock().ok().and_then(|s| s.clone());
                let _ = shared.events.send(GatewayEvent::Refused { authorization });
                return;
            }
        };
    shared.accepted.fetch_add(1, Ordering::SeqCst);
    let (mut sink, mut stream) = ws.split();
    // The first text frame must be HELLO.
    let hello = loop {
        match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<Value>(t.as_str()) {
                Ok(v) if v["MESSAGE_TYPE"] == "HELLO" => break v,
                _ => return,
            },
            Ok(Some(Ok(_))) => continue,
            _ => return,
        }
    };
    let Some(device) = hello["DEVICE_ID"].as_str().map(str::to_string) else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let frozen = Arc::new(AtomicBool::new(false));
    let stop = CancellationToken::new();
    if let Ok(mut links) = shared.links.lock() {
        if let Some(old) = links.insert(
            device.clone(),
            Link {
                hello: hello.clone(),
                tx,
                frozen: frozen.clone(),
                stop: stop.clone(),
            },
        ) {
            old.stop.cancel();
        }
    }
    let _ = shared.events.send(GatewayEvent::Hello {
        device: device.clone(),
        hello,
    });
    let mut thaw = tokio::time::interval(Duration::from_millis(50));
    loop {
        let reading = !frozen.load(Ordering::SeqCst);
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = shared.stop.cancelled() => break,
            _ = thaw.tick(), if !reading => {}
            out = rx.recv() => match out {
                Some(m) => {
                    if sink.send(m).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            msg = stream.next(), if reading => match msg {
                Some(Ok(Message::Text(t))) => {
                    let message = serde_json::from_str::<Value>(t.as_str()).unwrap_or(Value::String(t.to_string()));
                    if let Ok(mut r) = shared.received.lock() {
                        r.entry(device.clone()).or_default().push(message.clone());
                    }
                    let _ = shared.events.send(GatewayEvent::Message { device: device.clone(), message });
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = sink.close().await;
    if let Ok(mut links) = shared.links.lock() {
        if links.get(&device).is_some_and(|l| l.stop == stop) {
            links.remove(&device);
        }
    }
    let _ = shared.events.send(GatewayEvent::Gone { device });
}

fn tls_acceptor(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    let certs = rustls_pki_types::CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()?;
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key_pem)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

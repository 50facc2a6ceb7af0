//! A minimal Pispas protocol client for tests: connect (ws or wss), send requests, wait for the
//! reply with a given UUID while keeping other messages for later.

use anyhow::{anyhow, bail, Context};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// How long a test waits for any one message before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// Any stream a WebSocket can run over (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A raw WebSocket to the server, for benchmarks that must not parse replies.
pub type RawSocket = WebSocketStream<Box<dyn Io>>;

/// Opens a raw WebSocket (plain, or TLS when `opts.tls_cert` is set).
pub async fn connect_raw(addr: SocketAddr, opts: Connect<'_>) -> anyhow::Result<RawSocket> {
    let tcp = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect {addr}"))?;
    tcp.set_nodelay(true)?;
    let scheme = if opts.tls_cert.is_some() { "wss" } else { "ws" };
    let query = opts
        .token
        .map(|t| format!("?token={t}"))
        .unwrap_or_default();
    let mut req = format!("{scheme}://localhost:{}/{query}", addr.port()).into_client_request()?;
    if let Some(origin) = opts.origin {
        req.headers_mut()
            .insert("Origin", HeaderValue::from_str(origin)?);
    }
    let io: Box<dyn Io> = match opts.tls_cert {
        Some(der) => Box::new(tls_connect(tcp, der).await?),
        None => Box::new(tcp),
    };
    let (ws, _) = tokio_tungstenite::client_async(req, io)
        .await
        .map_err(|e| anyhow!("handshake: {e}"))?;
    Ok(ws)
}

/// A connected client.
pub struct Client {
    ws: RawSocket,
    /// Messages received while waiting for another one.
    backlog: VecDeque<Value>,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A fresh request id (unique within the process).
pub fn next_uuid() -> String {
    format!(
        "00000000-0000-4000-8000-{:012x}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The text of a request with extra top-level fields.
pub fn request_text(uuid: &str, target: &str, action: &str, extra: Value) -> String {
    let mut v = json!({ "UUIDV4": uuid, "TARGET": target, "ACTION": action });
    if let (Some(map), Value::Object(extra)) = (v.as_object_mut(), extra) {
        map.extend(extra);
    }
    v.to_string()
}

/// Options of a connection.
#[derive(Default, Clone)]
pub struct Connect<'a> {
    pub origin: Option<&'a str>,
    pub token: Option<&'a str>,
    /// Trust this certificate (DER) and use TLS; plain when `None`.
    pub tls_cert: Option<&'a [u8]>,
}

impl Client {
    /// Connects with plain WebSocket, no Origin.
    pub async fn plain(addr: SocketAddr) -> anyhow::Result<Client> {
        Client::connect(addr, Connect::default()).await
    }

    /// Connects with TLS trusting exactly `cert_der`, no Origin.
    pub async fn tls(addr: SocketAddr, cert_der: &[u8]) -> anyhow::Result<Client> {
        Client::connect(
            addr,
            Connect {
                tls_cert: Some(cert_der),
                ..Default::default()
            },
        )
        .await
    }

    /// Connects with options; fails with the HTTP status in the message when refused.
    pub async fn connect(addr: SocketAddr, opts: Connect<'_>) -> anyhow::Result<Client> {
        Ok(Client {
            ws: connect_raw(addr, opts).await?,
            backlog: VecDeque::new(),
        })
    }

    /// Sends raw text (valid request or not).
    pub async fn send_text(&mut self, text: impl Into<String>) -> anyhow::Result<()> {
        self.ws.send(Message::text(text.into())).await?;
        Ok(())
    }

    /// Sends a raw WebSocket message.
    pub async fn send_message(&mut self, msg: Message) -> anyhow::Result<()> {
        self.ws.send(msg).await?;
        Ok(())
    }

    /// Sends a request and returns its UUID without waiting.
    pub async fn send(
        &mut self,
        target: &str,
        action: &str,
        extra: Value,
    ) -> anyhow::Result<String> {
        let uuid = next_uuid();
        self.send_text(request_text(&uuid, target, action, extra))
            .await?;
        Ok(uuid)
    }

    /// Sends a request with the given UUIDV4 (a retry) and waits for its reply.
    pub async fn call_with_uuid(
        &mut self,
        uuid: &str,
        target: &str,
        action: &str,
        extra: Value,
    ) -> anyhow::Result<Value> {
        self.send_text(request_text(uuid, target, action, extra))
            .await?;
        self.reply_to(uuid).await
    }

    /// Sends a request and waits for its reply.
    pub async fn call(
        &mut self,
        target: &str,
        action: &str,
        extra: Value,
    ) -> anyhow::Result<Value> {
        let uuid = self.send(target, action, extra).await?;
        self.reply_to(&uuid).await
    }

    /// The next message (from the backlog first).
    pub async fn next(&mut self) -> anyhow::Result<Value> {
        if let Some(v) = self.backlog.pop_front() {
            return Ok(v);
        }
        self.read().await
    }

    /// Waits for the RESPONSE whose MESSAGE_UUID is `uuid`; other messages are kept.
    pub async fn reply_to(&mut self, uuid: &str) -> anyhow::Result<Value> {
        self.wait_for(|v| v["MESSAGE_TYPE"] == "RESPONSE" && v["MESSAGE_UUID"] == uuid)
            .await
    }

    /// Waits for the first message matching `pred`; the others are kept for later.
    pub async fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return Ok(self.backlog.remove(i).unwrap_or_default());
        }
        loop {
            let v = self.read().await?;
            if pred(&v) {
                return Ok(v);
            }
            self.backlog.push_back(v);
        }
    }

    /// Reads the next text message from the socket, failing on close or after [`WAIT`].
    async fn read(&mut self) -> anyhow::Result<Value> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .context("no message in time")?;
            match msg {
                Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str())?),
                Some(Ok(Message::Close(frame))) => bail!("closed by server: {frame:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => bail!("connection error: {e}"),
                None => bail!("connection ended"),
            }
        }
    }

    /// Reads until the server closes, returning the close code (None when the socket just ended).
    pub async fn closed(&mut self) -> anyhow::Result<Option<u16>> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .context("not closed in time")?
            {
                Some(Ok(Message::Close(frame))) => return Ok(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Ok(None),
            }
        }
    }

    /// Closes politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A plain HTTP/1.1 GET of `path` on the engine's port (TLS when `tls_cert` is given, trusting
/// exactly it); returns the whole response (status line, headers, body) as text.
///
/// Fails when the connection or the TLS handshake fails.
pub async fn http_get(
    addr: SocketAddr,
    path: &str,
    tls_cert: Option<&[u8]>,
) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tcp = TcpStream::connect(addr).await?;
    let mut io: Box<dyn Io> = match tls_cert {
        Some(der) => Box::new(tls_connect(tcp, der).await?),
        None => Box::new(tcp),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
        addr.port()
    );
    io.write_all(request.as_bytes()).await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), io.read_to_end(&mut reply))
        .await
        .map_err(|_| anyhow!("no complete reply within 10 s"))??;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

async fn tls_connect(
    tcp: TcpStream,
    der: &[u8],
) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from(der.to_vec()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from("localhost")?;
    Ok(connector.connect(name, tcp).await?)
}

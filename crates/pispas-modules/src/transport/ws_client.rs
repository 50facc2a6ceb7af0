//! An outbound WebSocket client for a service in the cloud: TCP (optionally through an HTTP
//! CONNECT proxy), TLS checked against the system's roots plus an optional extra CA, and the
//! WebSocket handshake with `Authorization: Bearer`. One call is one attempt; what a refusal was
//! (401/403, a certificate, the proxy) is a value of [`ConnectError`], so the caller can decide
//! how soon to try again.
//!
//! It does not speak any protocol over the socket and never logs the token.

use super::BoxedIo;
use crate::config::{ProxyConfig, RemoteConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::WebSocketStream;

/// A connected WebSocket.
pub type Socket = WebSocketStream<BoxedIo>;

/// Longest proxy reply header read.
const MAX_PROXY_REPLY: usize = 8 * 1024;

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The server answered the handshake with 401 or 403: the token is wrong or revoked.
    #[error("the server refused the token (HTTP {0})")]
    Refused(u16),
    /// Another HTTP status instead of the upgrade.
    #[error("the server answered HTTP {0} instead of a WebSocket")]
    Status(u16),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("proxy: {0}")]
    Proxy(String),
    #[error("cannot connect: {0}")]
    Io(String),
    #[error("WebSocket handshake: {0}")]
    Handshake(String),
    #[error("no answer within {0} s")]
    Timeout(u64),
    /// REMOTE_CA cannot be read or is not a certificate.
    #[error("REMOTE_CA: {0}")]
    Ca(String),
}

impl ConnectError {
    /// Whether the server refused us (the token), as opposed to being unreachable.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ConnectError::Refused(_))
    }
}

/// Opens the WebSocket `config` describes, within `timeout`, with frames up to `max_frame`.
///
/// Fails with what went wrong (see [`ConnectError`]).
pub async fn connect(
    config: &RemoteConfig,
    max_frame: usize,
    timeout: Duration,
) -> Result<Socket, ConnectError> {
    tokio::time::timeout(timeout, attempt(config, max_frame))
        .await
        .map_err(|_| ConnectError::Timeout(timeout.as_secs()))?
}

async fn attempt(config: &RemoteConfig, max_frame: usize) -> Result<Socket, ConnectError> {
    let tls = if config.tls {
        Some(tls_connector(config)?)
    } else {
        None
    };
    let tcp = match &config.proxy {
        Some(proxy) => through_proxy(proxy, &config.authority()).await?,
        None => TcpStream::connect((config.host.as_str(), config.port))
            .await
            .map_err(|e| ConnectError::Io(format!("{}: {e}", config.authority())))?,
    };
    let _ = tcp.set_nodelay(true);
    let io: BoxedIo = match tls {
        Some(connector) => {
            let name = rustls_pki_types::ServerName::try_from(config.host.clone())
                .map_err(|e| ConnectError::Tls(format!("{}: {e}", config.host)))?;
            Box::new(
                connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| ConnectError::Tls(e.to_string()))?,
            )
        }
        None => Box::new(tcp),
    };
    let scheme = if config.tls { "wss" } else { "ws" };
    let url = format!("{scheme}://{}{}", config.authority(), config.path);
    let mut request = url
        .into_client_request()
        .map_err(|e| ConnectError::Handshake(e.to_string()))?;
    if let Some(token) = &config.token {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ConnectError::Handshake("REMOTE_TOKEN is not valid in a header".into()))?;
        value.set_sensitive(true);
        request.headers_mut().insert("Authorization", value);
    }
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame));
    match tokio_tungstenite::client_async_with_config(request, io, Some(ws_config)).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(response)) => {
            let status = response.status().as_u16();
            Err(if status == 401 || status == 403 {
                ConnectError::Refused(status)
            } else {
                ConnectError::Status(status)
            })
        }
        Err(e) => Err(ConnectError::Handshake(e.to_string())),
    }
}

fn tls_connector(config: &RemoteConfig) -> Result<tokio_rustls::TlsConnector, ConnectError> {
    use rustls_pki_types::pem::PemObject;
    super::http::install_crypto_provider();
    let mut extra = Vec::new();
    if let Some(path) = &config.ca {
        let pem = std::fs::read(path)
            .map_err(|e| ConnectError::Ca(format!("{}: {e}", path.display())))?;
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
            extra.push(cert.map_err(|e| ConnectError::Ca(format!("{}: {e}", path.display())))?);
        }
        if extra.is_empty() {
            return Err(ConnectError::Ca(format!(
                "{}: no certificate in it",
                path.display()
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| ConnectError::Tls(format!("certificate verifier: {e}")))?;
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(client)))
}

/// Opens a tunnel to `authority` through an HTTP CONNECT proxy.
async fn through_proxy(proxy: &ProxyConfig, authority: &str) -> Result<TcpStream, ConnectError> {
    let mut tcp = TcpStream::connect((proxy.host.as_str(), proxy.port))
        .await
        .map_err(|e| ConnectError::Proxy(format!("{}:{}: {e}", proxy.host, proxy.port)))?;
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(credentials) = &proxy.credentials {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| ConnectError::Proxy(e.to_string()))?;
    // Byte by byte up to the blank line, so nothing of the tunnel is read here.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_PROXY_REPLY {
            return Err(ConnectError::Proxy("the reply header is too long".into()));
        }
        let b = tcp
            .read_u8()
            .await
            .map_err(|e| ConnectError::Proxy(format!("closed before answering CONNECT: {e}")))?;
        head.push(b);
    }
    let status =
        proxy_status(&head).ok_or_else(|| ConnectError::Proxy("the reply is not HTTP".into()))?;
    match status {
        200..=299 => Ok(tcp),
        407 => Err(ConnectError::Proxy(
            "it wants credentials (REMOTE_PROXY=http://user:password@host:port)".into(),
        )),
        other => Err(ConnectError::Proxy(format!(
            "CONNECT answered HTTP {other}"
        ))),
    }
}

/// The status code of an HTTP reply head (`HTTP/1.1 200 Connection established`).
fn proxy_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_of_a_proxy_reply_is_read_from_its_first_line() {
        assert_eq!(
            proxy_status(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some(200)
        );
        assert_eq!(
            proxy_status(b"HTTP/1.0 407 Proxy Authentication Required\r\n\r\n"),
            Some(407)
        );
        assert_eq!(proxy_status(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
    }
}

//! The pages in `ui/` served over HTTP on loopback (`VIEWER_PORT`, default 8081), so support can
//! open the command log in a browser and the pages can be tested in a real browser.
//!
//! Deliberately tiny: GET and HEAD of embedded files plus `/endpoint.json` (where the WebSocket
//! is). It binds loopback only and answers only requests whose `Host` is `localhost`,
//! `127.0.0.1` or `[::1]` (a DNS-rebinding page has its own name in `Host`). It never hands out
//! the admin token: a page asks the user for it, or gets it from the desktop app.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
}

/// Largest request head accepted.
const MAX_HEAD: usize = 8 * 1024;
/// Time a client gets to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds `127.0.0.1:port` (0 picks a free port).
///
/// Fails when the port is taken or cannot be bound.
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
}

/// The browser origins of pages served on `port`, which the WebSocket must admit.
pub fn origins(port: u16) -> Vec<String> {
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .map(|h| format!("http://{h}:{port}"))
        .collect()
}

/// The embedded file at `path` (relative to ui/), if any.
pub fn asset(path: &str) -> Option<&'static [u8]> {
    assets::FILES
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .map(|i| assets::FILES[i].1)
}

/// Serves until `shutdown`. `ws_port` is reported by `/endpoint.json`.
pub async fn run(listener: TcpListener, ws_port: u16, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, _)) => {
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = serve(stream, ws_port) => {}
                    }
                });
            }
            Err(e) => {
                tracing::debug!(error = %e, "viewer accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// One connection: requests until the client closes or sends `Connection: close`.
async fn serve(mut stream: TcpStream, ws_port: u16) {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream, &mut buf)).await
        {
            Ok(Ok(Some(head))) => head,
            _ => return,
        };
        let response = respond(&head, ws_port);
        if stream.write_all(&response).await.is_err() {
            return;
        }
        if head.to_ascii_lowercase().contains("\r\nconnection: close") {
            return;
        }
    }
}

/// Reads up to the blank line; `None` when the client closed or sent too much.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<String>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return Ok(Some(head));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let mut chunk = [0u8; 2048];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The full HTTP response to one request head.
pub fn respond(head: &str, ws_port: u16) -> Vec<u8> {
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let host = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim().to_string());
    if !host.as_deref().is_some_and(host_allowed) {
        return reply(
            421,
            "text/plain; charset=utf-8",
            b"This page is only served as http://127.0.0.1 or http://localhost.\n",
            method == "HEAD",
        );
    }
    if method != "GET" && method != "HEAD" {
        return reply(405, "text/plain; charset=utf-8", b"GET only\n", false);
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let path = path.trim_start_matches('/');
    let head_only = method == "HEAD";
    if path == "endpoint.json" {
        let body = serde_json::json!({
            "PORT": ws_port,
            "VERSION": crate::protocol::SERVICE_VERS,
        })
        .to_string();
        return reply(200, "application/json", body.as_bytes(), head_only);
    }
    let path = if path.is_empty() { "index.html" } else { path };
    if path.contains("..") {
        return reply(404, "text/plain; charset=utf-8", b"not found\n", head_only);
    }
    match asset(path) {
        Some(bytes) => reply(200, content_type(path), bytes, head_only),
        None => reply(404, "text/plain; charset=utf-8", b"not found\n", head_only),
    }
}

/// `Host` must name loopback: `localhost`, `127.0.0.1` or `[::1]`, with any port.
pub fn host_allowed(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().map(|h| format!("[{h}]"))
    } else {
        host.split(':').next().map(str::to_string)
    };
    matches!(
        name.as_deref().map(str::to_ascii_lowercase).as_deref(),
        Some("localhost" | "127.0.0.1" | "[::1]")
    )
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn reply(status: u16, content_type: &str, body: &[u8], head_only: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        421 => "Misdirected Request",
        _ => "Error",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n\
         Referrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'self'; connect-src 'self' ws://127.0.0.1:* wss://127.0.0.1:* ws://localhost:* wss://localhost:*; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(resp: &[u8]) -> String {
        String::from_utf8_lossy(resp)
            .split("\r\n")
            .next()
            .unwrap_or("")
            .to_string()
    }

    #[test]
    fn only_loopback_host_names_are_served() {
        for ok in [
            "localhost",
            "localhost:8081",
            "127.0.0.1:8081",
            "[::1]:8081",
            "LOCALHOST",
        ] {
            assert!(host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8081",
            "127.0.0.1.evil.example",
            "localhost.evil",
            "[::2]:1",
            "",
        ] {
            assert!(!host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn a_rebinding_host_is_refused_with_421() {
        let r = respond(
            "GET /status.html HTTP/1.1\r\nHost: attacker.example:8081",
            5005,
        );
        assert!(status(&r).contains("421"), "{}", status(&r));
        let r = respond("GET /status.html HTTP/1.1", 5005);
        assert!(status(&r).contains("421"));
    }

    #[test]
    fn endpoint_names_the_websocket_port_and_never_the_token() {
        let r = respond("GET /endpoint.json HTTP/1.1\r\nHost: 127.0.0.1:8081", 5123);
        let text = String::from_utf8_lossy(&r);
        assert!(text.contains("\"PORT\":5123"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("token"), "{text}");
    }

    #[test]
    fn pages_are_embedded_and_traversal_is_refused() {
        let r = respond("GET / HTTP/1.1\r\nHost: localhost", 5005);
        assert!(status(&r).contains("200"));
        let r = respond("GET /../Cargo.toml HTTP/1.1\r\nHost: localhost", 5005);
        assert!(status(&r).contains("404"));
        let r = respond("POST / HTTP/1.1\r\nHost: localhost", 5005);
        assert!(status(&r).contains("405"));
    }
}

//! The pages in `ui/` served over HTTP on loopback (`VIEWER_PORT`, default 8081), so support can
//! open the command log in a browser and the pages can be tested in a real browser.
//!
//! GET and HEAD of embedded files plus `/endpoint.json` (where the WebSocket is), on hyper. It
//! binds loopback only and answers only requests whose `Host` is `localhost`, `127.0.0.1` or
//! `[::1]` (a DNS-rebinding page has its own name in `Host`). Connections are capped and each
//! lives at most [`CONNECTION_LIFETIME`], so a client that stops reading cannot hold one. It
//! never hands out the admin token: a page asks the user for it, or gets it from the desktop app.

use super::http::{self, host_is_loopback, Body};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
}

/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 64;
/// The longest a connection is kept, whatever it does (pages are small; a stalled reader or a
/// long keep-alive is cut here).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);

/// Binds `127.0.0.1:port` (0 picks a free port).
///
/// Fails when the port is taken or cannot be bound.
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
}

/// The browser origins of pages served on `port`, which the WebSocket must admit. Not
/// `[::1]`: the pages are served on 127.0.0.1 only, so a page there would be another program's.
pub fn origins(port: u16) -> Vec<String> {
    ["127.0.0.1", "localhost"]
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
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, _)) => {
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let handler = move |req| std::future::ready(respond(&req, ws_port));
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::timeout(CONNECTION_LIFETIME, http::serve(stream, false, handler)) => {}
                    }
                    drop(permit);
                });
            }
            Err(e) => {
                tracing::debug!(error = %e, "viewer accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The response to one request.
pub fn respond(req: &Request<Incoming>, ws_port: u16) -> Response<Body> {
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok());
    route(req.method(), req.uri().path(), host, ws_port)
}

/// The response for a method, path and Host.
fn route(method: &Method, path: &str, host: Option<&str>, ws_port: u16) -> Response<Body> {
    if !host.is_some_and(host_is_loopback) {
        return http::text(
            StatusCode::MISDIRECTED_REQUEST,
            "This page is only served as http://127.0.0.1 or http://localhost.\n",
        );
    }
    if method != Method::GET && method != Method::HEAD {
        return http::text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    let path = path.trim_start_matches('/');
    if path == "endpoint.json" {
        let body = serde_json::json!({
            "PORT": ws_port,
            "VERSION": crate::protocol::SERVICE_VERS,
        })
        .to_string();
        return http::response(StatusCode::OK, "application/json", body);
    }
    let path = match path {
        "" => "index.html",
        // The kitchen display's short address (docs/kitchen.md).
        "kitchen" => "kitchen.html",
        // The customers' order-status board (Preparing / Ready by order number).
        "kitchen/status" => "kitchen-status.html",
        p => p,
    };
    if path.contains("..") {
        return http::text(StatusCode::NOT_FOUND, "not found\n");
    }
    match asset(path) {
        Some(bytes) => http::response(StatusCode::OK, content_type(path), bytes),
        None => http::text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

pub(super) fn content_type(path: &str) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(r: Response<Body>) -> String {
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
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
            assert!(host_is_loopback(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8081",
            "127.0.0.1.evil.example",
            "localhost.evil",
            "[::2]:1",
            "",
        ] {
            assert!(!host_is_loopback(bad), "{bad}");
        }
    }

    #[test]
    fn the_kitchen_display_has_a_short_address() {
        let r = route(&Method::GET, "/kitchen", Some("127.0.0.1:8081"), 5005);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[hyper::header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
    }

    #[test]
    fn the_order_status_board_is_under_the_kitchen() {
        let r = route(
            &Method::GET,
            "/kitchen/status",
            Some("127.0.0.1:8081"),
            5005,
        );
        assert_eq!(r.status(), StatusCode::OK);
        let r = route(
            &Method::GET,
            "/js/kitchen-status.js",
            Some("127.0.0.1:8081"),
            5005,
        );
        assert_eq!(r.status(), StatusCode::OK);
    }

    #[test]
    fn a_rebinding_host_is_refused_with_421() {
        let r = route(
            &Method::GET,
            "/status.html",
            Some("attacker.example:8081"),
            5005,
        );
        assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
        let r = route(&Method::GET, "/kitchen", Some("127.0.0.1:8081"), 5005);
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "the kitchen display's short address"
        );
        let r = route(&Method::GET, "/status.html", None, 5005);
        assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    }

    #[tokio::test]
    async fn endpoint_names_the_websocket_port_and_never_the_token() {
        let r = route(&Method::GET, "/endpoint.json", Some("127.0.0.1:8081"), 5123);
        let text = body(r).await;
        assert!(text.contains("\"PORT\":5123"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("token"), "{text}");
    }

    #[test]
    fn pages_are_embedded_and_traversal_is_refused() {
        let r = route(&Method::GET, "/", Some("localhost"), 5005);
        assert_eq!(r.status(), StatusCode::OK);
        let r = route(&Method::GET, "/../Cargo.toml", Some("localhost"), 5005);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = route(&Method::POST, "/", Some("localhost"), 5005);
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn a_real_client_gets_a_page_and_a_421_over_the_socket() {
        let listener = bind(0).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = CancellationToken::new();
        tokio::spawn(run(listener, 5005, stop.clone()));
        let get = |host: &'static str| async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let req =
                format!("GET /endpoint.json HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        assert!(get("127.0.0.1").await.starts_with("HTTP/1.1 200"));
        assert!(get("evil.example").await.starts_with("HTTP/1.1 421"));
        stop.cancel();
    }
}

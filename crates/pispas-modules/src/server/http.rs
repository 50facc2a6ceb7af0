//! The engine's HTTP, on hyper: responses with the security headers every page gets, and
//! serving one connection with limits. The WebSocket port (for the upgrade and its landing
//! page) and the page server both use it; nothing here knows a route.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// A whole response body, already in memory (pages and small JSON only).
pub type Body = Full<Bytes>;

/// Time a client gets to send a request's head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// A response with `body`, its content type and the headers that keep a page from being framed,
/// cached or sniffed. (hyper sends a HEAD request the headers only.)
pub fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; connect-src 'self' ws://127.0.0.1:* wss://127.0.0.1:* ws://localhost:* wss://localhost:*; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    response(status, "text/plain; charset=utf-8", body.into())
}

/// Serves HTTP/1.1 on `io` with `handler` until the client closes, or (with `upgrades`) until
/// a request upgrades the connection. Request heads must arrive within [`HEADER_TIMEOUT`].
///
/// Fails when the client sends something that is not HTTP or the connection breaks; the error
/// only matters to the log.
pub async fn serve<S, F, Fut>(io: S, upgrades: bool, handler: F) -> Result<(), hyper::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let fut = handler(req);
        async move { Ok::<_, Infallible>(fut.await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(16 * 1024);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    if upgrades {
        conn.with_upgrades().await
    } else {
        conn.await
    }
}

/// Whether `Host` names loopback: `localhost`, `127.0.0.1` or `[::1]`, with any port.
pub fn host_is_loopback(host: &str) -> bool {
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

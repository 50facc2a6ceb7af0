//! Epson ePOS-Print XML over HTTP: a small hand-written HTTP/1.1 server (keep-alive, Content-
//! Length bodies) answering `POST /cgi-bin/epos/service.cgi?devid=…&timeout=…` with
//! `<response success code status/>` from the printer's condition. A request that cannot print
//! (cover open, paper out, error, offline) prints nothing, as the real endpoint fails the whole
//! document. No TLS, no chunked bodies (ePOS clients send Content-Length).

mod xml;

pub use xml::{read_epos, EposXmlError};

use super::state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;
pub const SERVICE_PATH: &str = "/cgi-bin/epos/service.cgi";

/// Binds `addr` and serves ePOS-Print until `cancel`. Fails when the address cannot be bound.
pub(crate) async fn listen(
    shared: Arc<Shared>,
    addr: &str,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = cancel.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((socket, peer)) => {
                    let (shared, cancel) = (shared.clone(), cancel.clone());
                    tokio::spawn(async move {
                        tokio::select! {
                            () = cancel.cancelled() => {}
                            () = connection(shared, socket, peer) => {}
                        }
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    Ok(local)
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
    close: bool,
}

/// Serves requests on one connection until the peer closes, asks to close, or a fault drops it.
async fn connection(shared: Arc<Shared>, mut socket: TcpStream, peer: SocketAddr) {
    let mut buf = Vec::new();
    loop {
        let request = match read_request(&shared, &mut socket, &mut buf).await {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return,
        };
        let (status, body) = respond(&shared, &request, peer);
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\
             Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, OPTIONS\r\n\
             Access-Control-Allow-Headers: Content-Type, SOAPAction, If-Modified-Since\r\n\
             Connection: {}\r\n\r\n",
            body.len(),
            if request.close { "close" } else { "keep-alive" }
        );
        let mut out = head.into_bytes();
        out.extend_from_slice(body.as_bytes());
        if socket.write_all(&out).await.is_err() || request.close {
            return;
        }
    }
}

/// Reads one request. Ok(None): the peer closed, or a `drop_after` fault fired.
async fn read_request(
    shared: &Shared,
    socket: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let mut chunk = [0u8; 8192];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(head_len)) = req.parse(buf) {
            let header = |name: &str| {
                req.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
            };
            let length: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if length > MAX_BODY {
                return Ok(None);
            }
            if buf.len() >= head_len + length {
                let request = Request {
                    method: req.method.unwrap_or("").to_string(),
                    path: req.path.unwrap_or("").to_string(),
                    body: buf[head_len..head_len + length].to_vec(),
                    close: header("connection").as_deref() == Some("close")
                        || req.version == Some(0),
                };
                buf.drain(..head_len + length);
                return Ok(Some(request));
            }
        } else if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let slow = shared.lock().slow_bytes_per_sec;
        let limit = slow.map_or(chunk.len(), |rate| {
            (rate as usize / 10).clamp(1, chunk.len())
        });
        let n = socket.read(&mut chunk[..limit]).await?;
        if n == 0 {
            return Ok(None);
        }
        let (take, drop_now) = shared.drop_budget(n);
        buf.extend_from_slice(&chunk[..take]);
        if drop_now {
            return Ok(None);
        }
        if let Some(rate) = slow {
            tokio::time::sleep(Duration::from_secs_f64(
                take as f64 / f64::from(rate.max(1)),
            ))
            .await;
        }
    }
}

/// The HTTP status line and XML body for a request; prints the document when it can.
fn respond(shared: &Shared, request: &Request, peer: SocketAddr) -> (&'static str, String) {
    let path = request.path.split('?').next().unwrap_or("");
    if path != SERVICE_PATH {
        return ("404 Not Found", String::new());
    }
    match request.method.as_str() {
        "OPTIONS" => return ("200 OK", String::new()),
        "POST" => {}
        _ => return ("405 Method Not Allowed", String::new()),
    }
    let status = shared.status();
    let elements = match read_epos(&String::from_utf8_lossy(&request.body)) {
        Ok(elements) => elements,
        Err(_) => {
            return (
                "200 OK",
                envelope(false, "SchemaError", status.epos_status(false)),
            )
        }
    };
    if let Some(code) = status.epos_code() {
        return ("200 OK", envelope(false, code, status.epos_status(false)));
    }
    if !elements.is_empty() {
        let job = shared.start_job(&format!("epos {peer}"));
        shared.job_bytes(job, &request.body);
        {
            let mut st = shared.lock();
            for element in elements {
                shared.print(&mut st, job, element);
            }
        }
        shared.finish_job(job, false);
    }
    ("200 OK", envelope(true, "", status.epos_status(true)))
}

/// The SOAP response an ePOS-Print endpoint sends.
pub fn envelope(success: bool, code: &str, status: u32) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
         <response success=\"{success}\" code=\"{code}\" status=\"{status}\" battery=\"0\" \
         xmlns=\"http://www.epson-pos.com/schemas/2011/03/epos-print\"/>\
         </s:Body></s:Envelope>"
    )
}

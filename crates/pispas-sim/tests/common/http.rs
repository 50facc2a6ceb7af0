//! A deliberately plain HTTP/1.1 client for the simulator tests: one connection per request,
//! `Connection: close`, Content-Length body. It is not an engine driver; it only lets a test
//! say exactly what goes on the wire and see exactly what comes back (or that nothing does).

#![allow(dead_code)]

use serde_json::Value;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back.
#[derive(Debug)]
pub(crate) enum Reply {
    Answer {
        status: u16,
        body: Value,
    },
    /// The server closed the connection without sending anything.
    Nothing,
}

impl Reply {
    /// The status and body; panics (a test failure) when nothing came back.
    pub(crate) fn answer(self) -> (u16, Value) {
        match self {
            Reply::Answer { status, body } => (status, body),
            Reply::Nothing => panic!("expected an answer, the connection was closed without one"),
        }
    }

    pub(crate) fn is_nothing(&self) -> bool {
        matches!(self, Reply::Nothing)
    }
}

/// POSTs `body` to `path`, with `Authorization: Bearer <token>` when given.
pub(crate) async fn post(addr: SocketAddr, path: &str, body: &Value, token: Option<&str>) -> Reply {
    raw(addr, "POST", path, &body.to_string(), token).await
}

pub(crate) async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> Reply {
    let mut socket = TcpStream::connect(addr).await.expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.expect("write");
    let mut bytes = Vec::new();
    // A reset is also "nothing came back".
    let _ = socket.read_to_end(&mut bytes).await;
    if bytes.is_empty() {
        return Reply::Nothing;
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    Reply::Answer { status, body }
}

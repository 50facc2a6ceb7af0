//! One connection to the simulated myPOS terminal (a TCP client, or the serial line), generic
//! over the byte stream: reads IPP frames, answers syntax errors with STATUS=2, hands
//! PURCHASE/REFUND to flow.rs and the rest to methods.rs, and writes and records every reply.
//! A connection that must "close" (lost reply, restart) ends here on TCP; on a serial line,
//! which cannot close, the terminal just stops answering that request.

use super::codec::{self, Decoded};
use super::message::Message;
use super::status::Status;
use super::terminal::TxKind;
use super::{flow, frames, methods, IppRequest, MyposEvent, Shared};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What arrived.
pub(crate) enum Incoming {
    Message(Message),
    Syntax {
        method: Option<String>,
        sid: Option<String>,
        error: String,
    },
    /// A length header below 2: the stream cannot be resynchronised.
    BadLength(u16),
    Eof,
}

/// After a request: go on reading, or hang up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Continue,
    Close,
}

pub(crate) struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
    pub transport: String,
    /// The peer stopped reading (write failed): the terminal carries on regardless.
    gone: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<S> {
    /// The next frame (or what went wrong). A read error counts as the end.
    pub(crate) async fn next(&mut self) -> Incoming {
        let mut chunk = [0u8; 4096];
        loop {
            match codec::decode(&self.buf) {
                Ok(Decoded::Frame { body, consumed }) => {
                    let incoming = match Message::parse(body) {
                        Ok(m) => Incoming::Message(m),
                        Err(e) => {
                            let (method, sid) = Message::salvage(body);
                            Incoming::Syntax {
                                method,
                                sid,
                                error: e.to_string(),
                            }
                        }
                    };
                    self.buf.drain(..consumed);
                    return incoming;
                }
                Ok(Decoded::Incomplete { .. }) => {}
                Err(codec::FrameError::BadLength(length)) => {
                    self.buf.clear();
                    return Incoming::BadLength(length);
                }
            }
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Incoming::Eof,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Sends and records a reply. A peer that went away is remembered, not an error: the
    /// terminal finishes what it was doing.
    pub(crate) async fn send(&mut self, shared: &Shared, message: Message) {
        let frame = match message.to_frame() {
            Ok(frame) => frame,
            Err(_) => return,
        };
        shared.sent(&self.transport, &message);
        if !self.gone && self.stream.write_all(&frame).await.is_err() {
            self.gone = true;
        }
        let _ = self.stream.flush().await;
    }
}

/// Serves one connection until the peer closes, the simulator stops, or (when `closable`) a
/// request ends by hanging up.
pub(crate) async fn serve<S>(shared: Arc<Shared>, stream: S, transport: String, closable: bool)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        transport,
        gone: false,
    };
    loop {
        let incoming = tokio::select! {
            _ = shared.cancel.cancelled() => return,
            incoming = conn.next() => incoming,
        };
        let next = match incoming {
            Incoming::Eof => break,
            Incoming::BadLength(length) => {
                shared.received(IppRequest::broken(
                    &conn.transport,
                    None,
                    None,
                    format!("frame length {length} is shorter than its header"),
                ));
                conn.send(&shared, frames::refusal("", "", Status::SyntaxError))
                    .await;
                Next::Close
            }
            Incoming::Syntax { method, sid, error } => {
                let reply = frames::refusal(
                    method.as_deref().unwrap_or(""),
                    sid.as_deref().unwrap_or(""),
                    Status::SyntaxError,
                );
                shared.received(IppRequest::broken(&conn.transport, method, sid, error));
                conn.send(&shared, reply).await;
                Next::Continue
            }
            Incoming::Message(message) => {
                shared.received(IppRequest::from_message(&conn.transport, &message));
                dispatch(&shared, &mut conn, message).await
            }
        };
        if next == Next::Close && closable {
            break;
        }
    }
    shared.event(MyposEvent::Closed {
        transport: conn.transport.clone(),
    });
}

async fn dispatch<S>(shared: &Arc<Shared>, conn: &mut Conn<S>, message: Message) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let method = message.method().to_string();
    let Some(sid) = message
        .get("SID")
        .filter(|s| !s.is_empty())
        .map(String::from)
    else {
        conn.send(shared, frames::refusal(&method, "", Status::SyntaxError))
            .await;
        return Next::Continue;
    };
    let kind = match method.as_str() {
        "PURCHASE" => Some(TxKind::Purchase),
        "REFUND" => Some(TxKind::Refund),
        _ => None,
    };
    if let Some(kind) = kind {
        return flow::transaction(shared, conn, &message, &sid, kind).await;
    }
    let replies = {
        let mut state = shared.lock();
        methods::answer(
            &mut state.terminal,
            &message,
            &sid,
            shared.pace.timeout_secs,
        )
    };
    shared.changed();
    for reply in replies {
        conn.send(shared, reply).await;
    }
    Next::Continue
}

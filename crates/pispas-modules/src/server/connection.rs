//! One client connection: sniff TLS or plain, speak HTTP (hyper) until the WebSocket upgrade
//! (admission by Origin and token; a plain GET gets the landing page), then serve requests
//! concurrently and forward the events this connection asked for.
//!
//! Requests on one socket run side by side (a slow print does not hold up a PING); replies go out
//! as they complete, in any order. When a bad message arrives the connection answers FAILURE and
//! stays open. This file does not know any TARGET.

use super::http::{self, Body};
use super::landing;
use super::security::{token_from, Admission};
use super::Shared;
use crate::commandlog::Client;
use crate::protocol::{encode_reply, parse_request, ErrorCode, Failure};
use crate::router::{Outcome, RequestContext, Subscriptions};
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request as HttpRequest, Response as HttpResponse, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::timeout_at;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// First byte of a TLS record carrying a handshake (the ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;
/// Bytes read from the socket per call; small so 1,000 idle connections stay cheap.
const READ_BUFFER: usize = 16 * 1024;

/// A finished request: who answers, the UUID to echo, the outcome, when it started and its
/// command log entry.
type Done = (String, String, Value, Outcome, Instant, u64);
type InFlight = Pin<Box<dyn Future<Output = Done> + Send>>;

/// Serves one accepted socket until it closes or the service shuts down.
pub(super) async fn serve(stream: TcpStream, peer: SocketAddr, id: u64, shared: Arc<Shared>) {
    let deadline = tokio::time::Instant::now() + shared.config.handshake_timeout;
    let mut first = [0u8; 1];
    let sniffed = tokio::select! {
        _ = shared.shutdown.cancelled() => return,
        r = timeout_at(deadline, stream.peek(&mut first)) => r,
    };
    match sniffed {
        Ok(Ok(n)) if n > 0 => {}
        Ok(Ok(_)) => return,
        Ok(Err(e)) => {
            return tracing::debug!(%peer, error = %e, "socket error before the handshake")
        }
        Err(_) => return tracing::debug!(%peer, "no data before the handshake timeout"),
    }
    if first[0] == TLS_HANDSHAKE {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            r = timeout_at(deadline, shared.tls.accept(stream)) => r,
        };
        match accepted {
            Ok(Ok(tls)) => handshake(tls, peer, id, true, deadline, shared).await,
            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        }
    } else {
        handshake(stream, peer, id, false, deadline, shared).await
    }
}

/// What the HTTP phase hands to the WebSocket phase: the admitted client and its upgrade.
struct Upgrade {
    admission: Admission,
    origin: Option<String>,
    on_upgrade: hyper::upgrade::OnUpgrade,
}

/// Serves HTTP on the socket until a request upgrades it to an admitted WebSocket (then serves
/// that), or the client goes away. A plain GET of `/` gets the landing page; everything before
/// the upgrade must happen by `deadline`.
async fn handshake<S>(
    stream: S,
    peer: SocketAddr,
    id: u64,
    tls: bool,
    deadline: tokio::time::Instant,
    shared: Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slot: Arc<Mutex<Option<Upgrade>>> = Arc::default();
    let handler = {
        let slot = slot.clone();
        let shared = shared.clone();
        move |req: HttpRequest<Incoming>| {
            let response = answer(req, peer, tls, &shared, &slot);
            std::future::ready(response)
        }
    };
    let served = tokio::select! {
        _ = shared.shutdown.cancelled() => return,
        r = timeout_at(deadline, http::serve(stream, true, handler)) => r,
    };
    match served {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return tracing::debug!(%peer, error = %e, "HTTP on the WebSocket port failed")
        }
        Err(_) => return tracing::debug!(%peer, "WebSocket handshake timed out"),
    }
    let Some(upgrade) = slot.lock().ok().and_then(|mut s| s.take()) else {
        return;
    };
    let upgraded = match timeout_at(deadline, upgrade.on_upgrade).await {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "WebSocket upgrade failed"),
        Err(_) => return tracing::debug!(%peer, "WebSocket upgrade timed out"),
    };
    let max = shared.config.max_frame_bytes;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
        TokioIo::new(upgraded),
        Role::Server,
        Some(config),
    )
    .await;
    let (admission, origin) = (upgrade.admission, upgrade.origin);
    let stats = &shared.status;
    stats.connection_opened();
    tracing::debug!(%peer, id, tls, origin = origin.as_deref().unwrap_or("-"), "client connected");
    let subscriptions = Subscriptions::new(shared.events.clone());
    let client = Arc::new(Client {
        connection: id,
        label: origin.clone().unwrap_or_else(|| peer.to_string()),
    });
    let ctx = RequestContext::new(
        id,
        peer,
        origin,
        tls,
        admission.admin,
        shared.events.clone(),
        subscriptions,
    );
    serve_messages(ws, ctx, &client, &shared).await;
    shared.command_log.unwatch(id);
    stats.connection_closed();
    tracing::debug!(%peer, id, "client disconnected");
}

/// The response to one HTTP request on the WebSocket port: a WebSocket upgrade when the client
/// is admitted (its upgrade is left in `slot`), the landing page, or a refusal.
fn answer(
    mut req: HttpRequest<Incoming>,
    peer: SocketAddr,
    tls: bool,
    shared: &Shared,
    slot: &Mutex<Option<Upgrade>>,
) -> HttpResponse<Body> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("<not text>"))
    };
    let wants_websocket = header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if !wants_websocket {
        return landing::page(&req, tls);
    }
    let origin = header("origin").map(str::to_string);
    let token = token_from(header("authorization"), req.uri().query());
    let admission = match shared
        .policy
        .admit(origin.as_deref(), peer, token.as_deref())
    {
        Ok(a) => a,
        Err(refusal) => {
            tracing::warn!(%peer, origin = origin.as_deref().unwrap_or("-"), "connection refused: {}", refusal.reason());
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN);
            return http::text(status, refusal.reason());
        }
    };
    let key = header("sec-websocket-key").map(str::to_string);
    let version_ok = header("sec-websocket-version") == Some("13");
    let connection_upgrade = header("connection").is_some_and(|c| {
        c.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    });
    let (Some(key), true, true, true) = (
        key,
        version_ok,
        connection_upgrade,
        req.method() == hyper::Method::GET,
    ) else {
        let mut r = http::text(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake needs GET, Connection: Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version: 13",
        );
        r.headers_mut()
            .insert("sec-websocket-version", HeaderValue::from_static("13"));
        return r;
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    if let Ok(mut s) = slot.lock() {
        *s = Some(Upgrade {
            admission,
            origin,
            on_upgrade,
        });
    }
    let mut r = HttpResponse::new(Body::default());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(
        hyper::header::UPGRADE,
        HeaderValue::from_static("websocket"),
    );
    h.insert(
        hyper::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        h.insert("sec-websocket-accept", accept);
    }
    r
}

async fn serve_messages<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    ctx: RequestContext,
    client: &Arc<Client>,
    shared: &Shared,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (mut sink, mut stream) = ws.split();
    let mut events = shared.events.subscribe();
    let mut events_open = true;
    let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
    let max_in_flight = shared.config.max_in_flight;
    let grace = tokio::time::sleep(Duration::from_secs(86_400 * 365));
    tokio::pin!(grace);
    let mut draining = false;
    let mut close = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    loop {
        if draining && in_flight.is_empty() {
            break;
        }
        let outgoing = tokio::select! {
            biased;
            Some(done) = in_flight.next(), if !in_flight.is_empty() => Some(finish(done, shared)),
            _ = shared.shutdown.cancelled(), if !draining => {
                draining = true;
                close = CloseFrame { code: CloseCode::Away, reason: "service stopping".into() };
                grace.as_mut().reset(tokio::time::Instant::now() + shared.config.shutdown_grace);
                None
            }
            _ = &mut grace, if draining => {
                tracing::warn!(id = ctx.connection_id, pending = in_flight.len(), "requests still running after the shutdown grace period");
                break;
            }
            msg = stream.next(), if !draining && in_flight.len() < max_in_flight => match msg {
                None | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Text(text))) => accept_text(text.as_str(), &ctx, client, shared, &mut in_flight),
                Some(Ok(Message::Binary(_))) => Some(refuse(Failure::new(
                    ErrorCode::BinaryNotSupported,
                    "binary frames are not supported: send each request as a JSON text frame",
                ))),
                Some(Ok(_)) => None,
                Some(Err(WsError::Capacity(e))) => {
                    tracing::warn!(id = ctx.connection_id, error = %e, "frame over MAX_FRAME_BYTES; closing");
                    let text = refuse(Failure::new(
                        ErrorCode::FrameTooLarge,
                        format!("message larger than {} bytes (MAX_FRAME_BYTES): {e}", shared.config.max_frame_bytes),
                    ));
                    let _ = sink.send(Message::text(text)).await;
                    close = CloseFrame { code: CloseCode::Size, reason: "message too large".into() };
                    break;
                }
                Some(Err(e)) => {
                    tracing::debug!(id = ctx.connection_id, error = %e, "connection error");
                    return;
                }
            },
            ev = events.recv(), if events_open => match ev {
                Ok(ev) => ctx.event_text(&ev),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(id = ctx.connection_id, lost = n, "client too slow for events; some were dropped");
                    None
                }
                Err(RecvError::Closed) => {
                    events_open = false;
                    None
                }
            },
        };
        if let Some(text) = outgoing {
            if sink.send(Message::text(text)).await.is_err() {
                return;
            }
        }
    }
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        sink.send(Message::Close(Some(close))),
    )
    .await;
}

/// Parses one text frame: a bad one is answered at once; a good one starts running.
fn accept_text(
    text: &str,
    ctx: &RequestContext,
    client: &Arc<Client>,
    shared: &Shared,
    in_flight: &mut FuturesUnordered<InFlight>,
) -> Option<String> {
    let started = Instant::now();
    match parse_request(text) {
        Ok(request) => {
            let service = request.target.clone();
            let uuid = request.uuid.clone();
            let action = request.action.clone();
            let entry = shared
                .command_log
                .request(client, &service, &action, &uuid, text);
            let work = shared.router.dispatch(request, ctx.clone());
            in_flight.push(Box::pin(async move {
                (
                    service,
                    action,
                    Value::String(uuid),
                    work.await,
                    started,
                    entry,
                )
            }));
            None
        }
        Err(bad) => {
            shared.status.request_done(false);
            shared
                .status
                .record_failure(bad.target.as_deref().unwrap_or("-"), "-", &bad.failure);
            let reply = encode_reply(
                bad.target.as_deref().unwrap_or("BASE"),
                &bad.uuid,
                &Err(bad.failure.clone()),
            );
            shared
                .command_log
                .rejected(client, text, bad.failure.code.as_str(), &reply);
            Some(reply)
        }
    }
}

/// Turns a finished request into its reply text, counting and recording it.
fn finish((service, action, uuid, outcome, started, entry): Done, shared: &Shared) -> String {
    shared.status.request_done(outcome.is_ok());
    if let Err(failure) = &outcome {
        tracing::debug!(service, action, %failure, elapsed_us = started.elapsed().as_micros() as u64, "request failed");
        shared.status.record_failure(&service, &action, failure);
    }
    let text = encode_reply(&service, &uuid, &outcome);
    if entry != 0 {
        let code = outcome.as_ref().err().map(|f| f.code.as_str());
        shared
            .command_log
            .reply(entry, started.elapsed(), code, &text);
    }
    text
}

/// A FAILURE for a frame that is not a request at all (no UUID to echo).
fn refuse(failure: Failure) -> String {
    encode_reply("BASE", &Value::Null, &Err(failure))
}

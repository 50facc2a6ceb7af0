//! One client connection: sniff TLS or plain, speak HTTP (hyper) until the WebSocket upgrade
//! (admission by Origin and token; a plain GET gets the landing page), then serve requests
//! concurrently and forward the events this connection asked for.
//!
//! Requests on one socket run side by side (a slow print does not hold up a PING); replies go out
//! as they complete, in any order. When a bad message arrives the connection answers FAILURE and
//! stays open. This file does not know any TARGET.

use super::http::{self, Body};
use super::lan::Pending;
use super::landing;
use super::security::{is_loopback, token_from, Admission, Refusal};
use super::{kitchen_lan, Scope, Shared};
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
use tokio::sync::{AcquireError, OwnedSemaphorePermit};
use tokio::time::timeout_at;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

/// First byte of a TLS record carrying a handshake (the ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;
/// Bytes read from the socket per call; small so 1,000 idle connections stay cheap.
const READ_BUFFER: usize = 16 * 1024;

/// A finished request: who answers, the UUID to echo, the outcome, when it started, its
/// command log entry and the bytes of its frame (given back to the connection's budget).
struct Done {
    service: String,
    action: String,
    uuid: Value,
    outcome: Outcome,
    started: Instant,
    entry: u64,
    bytes: usize,
}
type InFlight = Pin<Box<dyn Future<Output = Done> + Send>>;
/// A frame read but not started: it waits for room in the total in-flight budget.
type Waiting = (
    Utf8Bytes,
    Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>,
);

/// KiB permits a frame of `len` bytes takes from a total budget of `total_kib` (at least one,
/// at most all of it, so one frame larger than the whole budget still runs, alone).
fn kib_for(len: usize, total_kib: usize) -> u32 {
    let all = u32::try_from(total_kib.max(1)).unwrap_or(u32::MAX);
    u32::try_from(len.div_ceil(1024))
        .unwrap_or(u32::MAX)
        .clamp(1, all)
}

/// Serves one accepted socket until it closes or the service shuts down.
pub(super) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    shared: Arc<Shared>,
    pending: Pending,
) {
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
            Ok(Ok(tls)) => handshake(tls, peer, id, true, deadline, shared, pending).await,
            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        }
    } else {
        handshake(stream, peer, id, false, deadline, shared, pending).await
    }
}

/// What the HTTP phase hands to the WebSocket phase: the admitted client and its upgrade.
struct Upgrade {
    admission: Admission,
    origin: Option<String>,
    /// The paired kitchen display (kitchen LAN listener).
    display: Option<String>,
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
    pending: Pending,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slot: Arc<Mutex<Option<Upgrade>>> = Arc::default();
    let handler = {
        let slot = slot.clone();
        let shared = shared.clone();
        move |req: HttpRequest<Incoming>| {
            let (slot, shared) = (slot.clone(), shared.clone());
            async move {
                if let Scope::KitchenLan(lan) = &shared.scope {
                    if !wants_websocket(&req) {
                        let (method, uri) = (req.method().clone(), req.uri().clone());
                        let host = req
                            .headers()
                            .get("host")
                            .and_then(|h| h.to_str().ok())
                            .map(str::to_string);
                        let r = kitchen_lan::page(&method, uri.path(), uri.query(), lan).await;
                        return kitchen_lan::allow_own_socket(r, host.as_deref());
                    }
                }
                answer(req, peer, tls, &shared, &slot)
            }
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
    // The handshake is over: this address may start another.
    drop(pending);
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
    let (admission, origin, display) = (upgrade.admission, upgrade.origin, upgrade.display);
    let stats = &shared.status;
    stats.connection_opened();
    tracing::debug!(%peer, id, tls, origin = origin.as_deref().unwrap_or("-"), "client connected");
    let subscriptions = Subscriptions::new(shared.events.clone());
    let client = Arc::new(Client {
        connection: id,
        label: match &display {
            Some(name) => format!("kitchen display {name} ({peer})"),
            None => origin.clone().unwrap_or_else(|| peer.to_string()),
        },
    });
    let mut ctx = RequestContext::new(
        id,
        peer,
        origin,
        tls,
        admission.admin,
        shared.events.clone(),
        subscriptions,
    );
    if let Some(name) = display {
        ctx = ctx.as_display(name);
    }
    serve_messages(ws, ctx, &client, &shared).await;
    shared.command_log.unwatch(id);
    stats.connection_closed();
    tracing::debug!(%peer, id, "client disconnected");
}

/// Whether the request asks for a WebSocket.
fn wants_websocket(req: &HttpRequest<Incoming>) -> bool {
    req.headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
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
    if !wants_websocket(&req) {
        return landing::page(&req, tls);
    }
    let origin = header("origin").map(str::to_string);
    let token = token_from(header("authorization"), req.uri().query());
    let admitted = if shared.lan.blocked(peer.ip()) {
        Err(Refusal::TooManyAttempts)
    } else {
        match &shared.scope {
            Scope::Full => shared
                .policy
                .admit(origin.as_deref(), peer, token.as_deref(), tls)
                .map(|a| (a, None)),
            Scope::KitchenLan(lan) => {
                kitchen_lan::admit(lan, origin.as_deref(), header("host"), token.as_deref())
                    .map(|name| (Admission { admin: false }, Some(name)))
            }
        }
    };
    let (admission, display) = match admitted {
        Ok(a) => a,
        Err(refusal) => {
            if refusal == Refusal::TokenRequired && token.is_some() && shared.lan.failed(peer.ip())
            {
                tracing::warn!(%peer, "{} wrong tokens from this address: refused for {} minutes", super::lan::FAILURES_ALLOWED, super::lan::BLOCKED_FOR.as_secs() / 60);
            }
            static REFUSALS: super::log_limit::LogLimit = super::log_limit::LogLimit::new();
            if let Some(left_out) = REFUSALS.allow() {
                tracing::warn!(%peer, origin = origin.as_deref().unwrap_or("-"), left_out, "connection refused: {}", refusal.reason());
            }
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
            display,
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
    // Bytes of this connection's frames still running, and the frame waiting for room in the
    // total budget. Either one full pauses reading: back-pressure on the client's socket.
    let max_bytes = shared.config.max_in_flight_bytes;
    let total_kib = shared.config.max_total_in_flight_bytes / 1024;
    let mut bytes_in_flight = 0usize;
    let mut waiting: Option<Waiting> = None;
    // A connection from the network that stays silent (no request, no answer to our pings) is
    // closed after LAN_IDLE_TIMEOUT_S, so a tablet that vanished does not hold its slot.
    let idle = shared
        .config
        .lan_idle_timeout
        .filter(|_| !is_loopback(ctx.peer));
    let mut last_heard = tokio::time::Instant::now();
    let mut pings = tokio::time::interval(idle.map_or(Duration::from_secs(3600), |d| d / 4));
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                bytes_in_flight -= done.bytes;
                Some(finish(done, shared))
            }
            permit = async { waiting.as_mut().expect("guarded by the condition").1.as_mut().await }, if waiting.is_some() => {
                let (text, _) = waiting.take().expect("guarded by the condition");
                match permit {
                    Ok(permit) => start(&text, permit, &mut bytes_in_flight, &ctx, client, shared, &mut in_flight),
                    Err(_) => break,
                }
            }
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
            msg = stream.next(), if !draining && waiting.is_none() && in_flight.len() < max_in_flight && (bytes_in_flight == 0 || bytes_in_flight < max_bytes) => match msg.inspect(|_| last_heard = tokio::time::Instant::now()) {
                None | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Text(text))) => {
                    let kib = kib_for(text.len(), total_kib);
                    match shared.in_flight_kib.clone().try_acquire_many_owned(kib) {
                        Ok(permit) => start(&text, permit, &mut bytes_in_flight, &ctx, client, shared, &mut in_flight),
                        Err(_) => {
                            tracing::debug!(id = ctx.connection_id, bytes = text.len(), "total in-flight budget full; this connection waits");
                            let wait = shared.in_flight_kib.clone().acquire_many_owned(kib);
                            waiting = Some((text, Box::pin(wait)));
                            None
                        }
                    }
                }
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
            _ = pings.tick(), if idle.is_some() && !draining => {
                if !in_flight.is_empty() || waiting.is_some() {
                    // Busy (or paused by us): not idle.
                    last_heard = tokio::time::Instant::now();
                }
                if idle.is_some_and(|limit| last_heard.elapsed() >= limit) {
                    tracing::debug!(id = ctx.connection_id, "closing a silent connection from the network (LAN_IDLE_TIMEOUT_S)");
                    close = CloseFrame { code: CloseCode::Away, reason: "idle".into() };
                    break;
                }
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
                None
            }
            ev = events.recv(), if events_open => match ev {
                Ok(_) if revoked(&ctx, shared) => {
                    // A kitchen display unpaired on the till sees no more tickets.
                    close = CloseFrame { code: CloseCode::Policy, reason: "display revoked".into() };
                    break;
                }
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

/// A paired kitchen display (kitchen LAN listener) unpaired on the till since it connected.
fn revoked(ctx: &RequestContext, shared: &Shared) -> bool {
    match (&shared.scope, ctx.display.as_deref()) {
        (Scope::KitchenLan(lan), Some(name)) => !lan.pairings.is_paired(name),
        _ => false,
    }
}

/// Starts one frame with its share of the total budget, counting its bytes against this
/// connection's while it runs; a frame that is not a request is answered at once.
fn start(
    text: &Utf8Bytes,
    permit: OwnedSemaphorePermit,
    bytes_in_flight: &mut usize,
    ctx: &RequestContext,
    client: &Arc<Client>,
    shared: &Shared,
    in_flight: &mut FuturesUnordered<InFlight>,
) -> Option<String> {
    let reply = accept_text(text.as_str(), permit, ctx, client, shared, in_flight);
    if reply.is_none() {
        *bytes_in_flight += text.len();
    }
    reply
}

/// Parses one text frame: a bad one is answered at once; a good one starts running.
fn accept_text(
    text: &str,
    permit: OwnedSemaphorePermit,
    ctx: &RequestContext,
    client: &Arc<Client>,
    shared: &Shared,
    in_flight: &mut FuturesUnordered<InFlight>,
) -> Option<String> {
    let started = Instant::now();
    match parse_request(text) {
        Ok(request) => {
            if let Scope::KitchenLan(lan) = &shared.scope {
                let vetted = match ctx.display.as_deref() {
                    Some(name) => kitchen_lan::vet(&request, name, lan),
                    None => Err(Failure::new(
                        ErrorCode::Unauthorized,
                        "not a paired display",
                    )),
                };
                if let Err(f) = vetted {
                    drop(permit);
                    shared.status.request_done(false);
                    let reply =
                        encode_reply(&request.target, &Value::String(request.uuid), &Err(f));
                    shared.command_log.rejected(
                        client,
                        text,
                        ErrorCode::Unauthorized.as_str(),
                        &reply,
                    );
                    return Some(reply);
                }
            }
            let service = request.target.clone();
            let uuid = request.uuid.clone();
            let action = request.action.clone();
            let entry = shared
                .command_log
                .request(client, &service, &action, &uuid, text);
            let work = shared.router.dispatch(request, ctx.clone());
            let bytes = text.len();
            in_flight.push(Box::pin(async move {
                let outcome = work.await;
                drop(permit);
                Done {
                    service,
                    action,
                    uuid: Value::String(uuid),
                    outcome,
                    started,
                    entry,
                    bytes,
                }
            }));
            None
        }
        Err(bad) => {
            // Not started: its bytes go back to the budget at once.
            drop(permit);
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
fn finish(done: Done, shared: &Shared) -> String {
    let Done {
        service,
        action,
        uuid,
        outcome,
        started,
        entry,
        bytes: _,
    } = done;
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

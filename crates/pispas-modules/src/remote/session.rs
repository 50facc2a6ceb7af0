//! One link to the cloud, from the handshake to its end: HELLO, then requests in and replies and
//! events out (from the outbox, numbered), WebSocket pings, and the dead-link check (nothing
//! heard for three ping periods). Requests run as tasks of their own, so a reply produced after
//! the link dropped goes to the outbox and out on the next link.
//!
//! A bad frame from the cloud is answered like a local client's (BAD_JSON, BINARY_NOT_SUPPORTED)
//! and the link stays; a frame over MAX_FRAME_BYTES ends the link. Nothing the cloud sends can
//! touch the local server: it only reaches the router.

use super::Shared;
use crate::protocol::{encode_reply, parse_request, ErrorCode, Failure, SERVICE_VERS};
use crate::transport::ws_client::Socket;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Why a link ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum End {
    #[error("the cloud closed the link")]
    Closed,
    #[error("nothing heard from the cloud for {0} s (dead link)")]
    Dead(u64),
    #[error("the cloud sent a message larger than MAX_FRAME_BYTES")]
    TooLarge,
    #[error("link error: {0}")]
    Error(String),
    #[error("the service is stopping")]
    Stopping,
}

/// Serves `ws` until it ends.
pub(super) async fn serve(ws: Socket, shared: &Arc<Shared>) -> End {
    let (mut sink, mut stream) = ws.split();
    let dead_after = shared.config.dead_after();
    let last_seq = shared.outbox.lock().map(|o| o.last_sent()).unwrap_or(0);
    let hello = json!({
        "MESSAGE_TYPE": "HELLO",
        "DEVICE_ID": shared.device_id,
        "SERVICE_VERS": SERVICE_VERS,
        "TARGETS": shared.targets(),
        "LAST_SEQ": last_seq,
    });
    if let Err(e) = sink.send(Message::text(hello.to_string())).await {
        return End::Error(e.to_string());
    }
    let slots = Arc::new(Semaphore::new(shared.ctx.max_in_flight.max(1)));
    let mut permit: Option<OwnedSemaphorePermit> = None;
    let mut ping = tokio::time::interval(shared.config.ping_every);
    ping.tick().await;
    let mut heard = Instant::now();
    // Whatever waited while the link was down goes first.
    shared.ready.notify_one();
    loop {
        tokio::select! {
            _ = shared.ctx.shutdown.cancelled() => {
                let _ = sink.send(Message::Close(None)).await;
                return End::Stopping;
            }
            _ = ping.tick() => {
                if heard.elapsed() >= dead_after {
                    return End::Dead(dead_after.as_secs());
                }
                match tokio::time::timeout(dead_after, sink.send(Message::Ping(Vec::new().into()))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return End::Error(e.to_string()),
                    Err(_) => return End::Dead(dead_after.as_secs()),
                }
            }
            _ = shared.ready.notified() => {
                // Written one by one, each removed only once the socket took it.
                loop {
                    let next = shared.outbox.lock().ok().and_then(|o| o.front());
                    let Some((seq, text)) = next else { break };
                    match tokio::time::timeout(dead_after, sink.send(Message::text(text))).await {
                        Ok(Ok(())) => {
                            if let Ok(mut o) = shared.outbox.lock() {
                                o.sent(seq);
                            }
                        }
                        Ok(Err(e)) => return End::Error(e.to_string()),
                        Err(_) => return End::Dead(dead_after.as_secs()),
                    }
                }
                shared.refresh();
            }
            p = slots.clone().acquire_owned(), if permit.is_none() => permit = p.ok(),
            msg = stream.next(), if permit.is_some() => {
                heard = Instant::now();
                match msg {
                    None | Some(Ok(Message::Close(_))) => return End::Closed,
                    Some(Ok(Message::Text(text))) => accept(text.as_str(), shared, &mut permit),
                    Some(Ok(Message::Binary(_))) => shared.send(&encode_reply("BASE", &Value::Null, &Err(Failure::new(
                        ErrorCode::BinaryNotSupported,
                        "binary frames are not supported: send each request as a JSON text frame",
                    )))),
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(e))) => {
                        tracing::warn!(error = %e, "the cloud sent a frame over MAX_FRAME_BYTES; dropping the link");
                        return End::TooLarge;
                    }
                    Some(Err(e)) => return End::Error(e.to_string()),
                }
            }
        }
    }
}

/// Parses one text frame and starts it, or answers it at once when it is not a request the
/// cloud may send.
fn accept(text: &str, shared: &Arc<Shared>, permit: &mut Option<OwnedSemaphorePermit>) {
    let started = Instant::now();
    let request = match parse_request(text) {
        Ok(r) => r,
        Err(bad) => {
            shared.ctx.status.request_done(false);
            let reply = encode_reply(
                bad.target.as_deref().unwrap_or("BASE"),
                &bad.uuid,
                &Err(bad.failure.clone()),
            );
            shared.ctx.command_log.rejected(
                &shared.client,
                text,
                bad.failure.code.as_str(),
                &reply,
            );
            return shared.send(&reply);
        }
    };
    let service = request.target.clone();
    let uuid = Value::String(request.uuid.clone());
    let entry = shared.ctx.command_log.request(
        &shared.client,
        &service,
        &request.action,
        &request.uuid,
        text,
    );
    if !shared.allows(&service) {
        let failure = Failure::new(
            ErrorCode::RemoteNotAllowed,
            format!(
                "TARGET {service} cannot be reached from the cloud on this till (REMOTE_TARGETS)"
            ),
        )
        .with_details(json!({ "TARGETS": shared.config.targets }));
        shared.ctx.status.request_done(false);
        let reply = encode_reply(&service, &uuid, &Err(failure));
        shared.ctx.command_log.reply(
            entry,
            started.elapsed(),
            Some(ErrorCode::RemoteNotAllowed.as_str()),
            &reply,
        );
        return shared.send(&reply);
    }
    let work = shared
        .ctx
        .router
        .dispatch(request, shared.request_ctx.clone());
    let held = permit.take();
    let shared = shared.clone();
    shared.ctx.tracker.clone().spawn(async move {
        let outcome = work.await;
        drop(held);
        shared.ctx.status.request_done(outcome.is_ok());
        if let Err(f) = &outcome {
            shared.ctx.status.record_failure(&service, "-", f);
        }
        let reply = encode_reply(&service, &uuid, &outcome);
        let code = outcome.as_ref().err().map(|f| f.code.as_str());
        shared
            .ctx
            .command_log
            .reply(entry, started.elapsed(), code, &reply);
        shared.send(&reply);
    });
}

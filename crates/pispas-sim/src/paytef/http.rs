//! The Paytef simulator's HTTP/1.1 server (hyper): accepts connections, collects each request
//! body, hands the call to the dispatcher (api.rs) under the state lock, records it, starts the
//! runner for a new transaction, and either sends the JSON answer or closes the connection
//! without a reply when the answer says the reply is lost.

use super::api::Call;
use super::{runner, Shared};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

const MAX_BODY: usize = 1024 * 1024;

/// The service's error: hyper closes the connection and sends nothing, which is how a lost
/// reply looks to the client.
#[derive(Debug, thiserror::Error)]
#[error("reply dropped on purpose (simulated lost reply)")]
struct Dropped;

/// Binds `addr` and serves until the simulator's token is cancelled. Fails when the address
/// cannot be bound.
pub(crate) async fn listen(shared: Arc<Shared>, addr: &str) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let cancel = shared.cancel.clone();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = cancel.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let Ok((socket, _peer)) = accepted else {
                // Out of descriptors or similar: back off a little rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let _ = socket.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(async move {
                let cancel = shared.cancel.clone();
                let service = service_fn(move |request| handle(shared.clone(), request));
                let connection = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(socket), service);
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = connection => {}
                }
            });
        }
    });
    Ok(local)
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let authorization = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            return Ok(json_response(
                413,
                &serde_json::json!({"message": "Payload too large"}),
            ))
        }
    };
    let call = Call {
        method,
        path,
        authorization,
        body,
    };
    let answer = shared.answer(&call);
    if let Some(index) = answer.started {
        tokio::spawn(runner::run(shared.clone(), index));
    }
    if answer.drop {
        return Err(Dropped);
    }
    Ok(json_response(answer.status, &answer.body))
}

fn json_response(status: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

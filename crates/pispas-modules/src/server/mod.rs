//! The listener: one port for TLS and plain WebSocket, a cap on connections, accept errors backed
//! off, and graceful shutdown through one cancellation token and one task tracker.
//!
//! Each accepted socket gets its own task, which sniffs the first byte, does the TLS handshake
//! and the HTTP exchange up to the WebSocket upgrade under a timeout (hyper, `http.rs`; a plain
//! GET gets `landing.rs`) and then serves requests (`connection.rs`), so a slow client never
//! stalls accept. This file does not parse messages.

mod connection;
pub mod http;
mod kitchen_lan;
pub mod lan;
mod landing;
mod log_limit;
pub mod security;
pub mod tls;
pub mod tokens;
pub mod viewer;

use crate::commandlog::CommandLog;
use crate::config::ConfigEnv;
use crate::events::EventBus;
use crate::pairing::Pairings;
use crate::router::Router;
use crate::status::EngineStatus;
use security::AccessPolicy;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a listener serves.
#[derive(Clone)]
pub enum Scope {
    /// The service's own port: every target, admission by origin and token (`security.rs`).
    Full,
    /// The kitchen LAN listener (`KITCHEN_LAN`): the kitchen pages, pairing, and a WebSocket for
    /// paired displays that reaches ORDER_KITCHEN's display actions only (`kitchen_lan.rs`).
    KitchenLan(KitchenLan),
}

/// The kitchen LAN listener's state.
#[derive(Clone)]
pub struct KitchenLan {
    pub pairings: Pairings,
    /// The port it listens on (for `/endpoint.json`).
    pub port: u16,
}

/// What the server is handed: the router to dispatch to and the core handles it reports to.
pub struct ServerContext {
    pub router: Router,
    pub config: Arc<ConfigEnv>,
    pub events: EventBus,
    pub status: EngineStatus,
    pub command_log: CommandLog,
    pub policy: AccessPolicy,
    pub tls: TlsAcceptor,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    pub scope: Scope,
}

/// Everything a connection task needs, shared by all of them.
pub struct Shared {
    pub router: Router,
    pub config: Arc<ConfigEnv>,
    pub events: EventBus,
    pub status: EngineStatus,
    pub command_log: CommandLog,
    pub policy: AccessPolicy,
    pub tls: TlsAcceptor,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    /// Bytes of requests running on all connections, in KiB permits (`MAX_TOTAL_IN_FLIGHT_BYTES`).
    pub in_flight_kib: Arc<Semaphore>,
    /// Per-address limits for clients from the network.
    pub lan: Arc<lan::LanLimits>,
    pub scope: Scope,
    next_id: AtomicU64,
}

impl Shared {
    pub fn new(ctx: ServerContext) -> Self {
        let total_kib = (ctx.config.max_total_in_flight_bytes / 1024).min(Semaphore::MAX_PERMITS);
        Shared {
            in_flight_kib: Arc::new(Semaphore::new(total_kib)),
            lan: lan::LanLimits::new(ctx.config.lan_max_pending_per_address),
            router: ctx.router,
            config: ctx.config,
            events: ctx.events,
            status: ctx.status,
            command_log: ctx.command_log,
            policy: ctx.policy,
            tls: ctx.tls,
            shutdown: ctx.shutdown,
            tracker: ctx.tracker,
            scope: ctx.scope,
            next_id: AtomicU64::new(1),
        }
    }
}

/// Accepts connections until `shared.shutdown` is cancelled. Connections over MAX_CONNECTIONS
/// are closed at once (the client sees a closed socket and can retry) rather than queued.
pub async fn run(listener: TcpListener, shared: Arc<Shared>) {
    let limit = Arc::new(Semaphore::new(shared.config.max_connections));
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => {
                backoff = Duration::from_millis(5);
                pair
            }
            Err(e) => {
                // EMFILE, ENOBUFS, a reset before accept: wait a little instead of spinning.
                tracing::warn!(error = %e, "accept failed; retrying in {backoff:?}");
                tokio::select! {
                    _ = shared.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = shared.config.max_connections, "connection refused: MAX_CONNECTIONS reached");
            drop(stream);
            continue;
        };
        let Some(pending) = shared.lan.begin(peer.ip()) else {
            static REFUSED: log_limit::LogLimit = log_limit::LogLimit::new();
            if let Some(left_out) = REFUSED.allow() {
                tracing::warn!(%peer, left_out, max = shared.config.lan_max_pending_per_address, "connection refused: too many handshakes in progress from this address (LAN_MAX_PENDING_PER_ADDRESS)");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let task_shared = shared.clone();
        shared.tracker.spawn(async move {
            connection::serve(stream, peer, id, task_shared, pending).await;
            drop(permit);
        });
    }
    tracing::info!("listener stopped accepting connections");
}

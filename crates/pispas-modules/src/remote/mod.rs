//! The remote gateway: when REMOTE_HOST is set, the till opens an outbound WebSocket to the
//! Pispas cloud and serves the requests that arrive on it through the same router as local
//! clients, so the cloud can print a web order on the kitchen printer with no port opened on the
//! shop's router. A client of the router like `server/`, not a module: it imports core only and
//! the engine wires it.
//!
//! `session.rs` serves one link (HELLO, requests, replies, events, pings); `outbox.rs` numbers
//! what goes to the cloud and keeps it while the link is down; `backoff.rs` paces reconnects.
//! This file owns the reconnect loop and reports the link (BASE STATUS `REMOTE`, and a
//! `DEVICE_STATE` for `REMOTE:CLOUD` that the tray and the status window show).
//!
//! What the cloud may reach: the TARGETs in REMOTE_TARGETS, never an admin action (the link
//! never holds the admin token). The wire is described in docs/remote.md.

mod backoff;
mod outbox;
mod session;

use crate::commandlog::CommandLog;
use crate::config::RemoteConfig;
use crate::events::{Audience, DeviceState, DeviceStatus, EventBus};
use crate::router::{RequestContext, Router, Subscriptions};
use crate::status::EngineStatus;
use crate::transport::ws_client;
use backoff::Backoff;
use outbox::Outbox;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The connection id remote requests carry (local connections count up from 1).
pub const REMOTE_CONNECTION_ID: u64 = 1 << 62;
/// The device name of the link in DEVICE_STATE and the status window.
pub const LINK_DEVICE: &str = "REMOTE:CLOUD";
/// A link that stayed up this long resets the backoff.
const STABLE: Duration = Duration::from_secs(5);

/// What the gateway is handed by the engine.
pub struct GatewayContext {
    pub router: Router,
    pub events: EventBus,
    pub status: EngineStatus,
    pub command_log: CommandLog,
    /// MAX_FRAME_BYTES: larger frames from the cloud end the link.
    pub max_frame_bytes: usize,
    /// MAX_IN_FLIGHT: remote requests running at once before reading pauses.
    pub max_in_flight: usize,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
}

/// What the link tasks share.
struct Shared {
    config: RemoteConfig,
    device_id: String,
    ctx: GatewayContext,
    /// The one "connection" every remote request runs in: subscriptions outlive a reconnect.
    request_ctx: RequestContext,
    client: Arc<crate::commandlog::Client>,
    outbox: Mutex<Outbox>,
    /// Woken when the outbox has something.
    ready: Notify,
    link: Mutex<LinkState>,
}

/// The link as reported.
#[derive(Debug, Clone, PartialEq)]
enum LinkState {
    Connecting,
    Connected { since_ms: u64 },
    Reconnecting { why: String, retry_at_ms: u64 },
    Refused { why: String, retry_at_ms: u64 },
}

/// Starts the gateway: the reconnect loop and the event forwarder, until shutdown.
pub fn start(config: RemoteConfig, device_id: String, ctx: GatewayContext) {
    let events = ctx.events.clone();
    let request_ctx = RequestContext::new(
        REMOTE_CONNECTION_ID,
        SocketAddr::from(([0, 0, 0, 0], 0)),
        Some(format!("remote://{}", config.host)),
        config.tls,
        false,
        events.clone(),
        Subscriptions::new(events),
    );
    let client = Arc::new(crate::commandlog::Client {
        connection: REMOTE_CONNECTION_ID,
        label: format!("remote://{}", config.host),
    });
    let shared = Arc::new(Shared {
        outbox: Mutex::new(Outbox::new(config.reply_buffer)),
        config,
        device_id,
        request_ctx,
        client,
        ready: Notify::new(),
        link: Mutex::new(LinkState::Connecting),
        ctx,
    });
    shared.report(LinkState::Connecting);
    let tracker = shared.ctx.tracker.clone();
    tracker.spawn(forward_events(shared.clone()));
    tracker.spawn(run(shared));
}

impl Shared {
    /// Queues an envelope for the cloud.
    fn send(&self, envelope: &str) {
        if let Ok(mut o) = self.outbox.lock() {
            o.push(envelope);
        }
        self.ready.notify_one();
        // While the link is down, STATUS shows what waits for it.
        let down = self
            .link
            .lock()
            .map(|l| !matches!(*l, LinkState::Connected { .. }))
            .unwrap_or(false);
        if down {
            self.refresh();
        }
    }

    /// Rewrites BASE STATUS's REMOTE object (the outbox counters change between reports).
    fn refresh(&self) {
        let state = self.link.lock().map(|l| l.clone());
        if let Ok(state) = state {
            self.report(state);
        }
    }

    /// Whether the cloud may reach `target`.
    fn allows(&self, target: &str) -> bool {
        self.config.targets.iter().any(|t| t == target)
    }

    /// The allowed TARGETs this engine has, for HELLO.
    fn targets(&self) -> Vec<String> {
        let registered: Vec<&str> = self.ctx.router.services().map(|s| s.target()).collect();
        self.config
            .targets
            .iter()
            .filter(|t| registered.contains(&t.as_str()))
            .cloned()
            .collect()
    }

    fn report(&self, state: LinkState) {
        let (word, detail, since, retry) = match &state {
            LinkState::Connecting => (
                "CONNECTING",
                format!("connecting to {}", self.config.authority()),
                None,
                None,
            ),
            LinkState::Connected { since_ms } => (
                "CONNECTED",
                format!("connected to {}", self.config.authority()),
                Some(*since_ms),
                None,
            ),
            LinkState::Reconnecting { why, retry_at_ms } => {
                ("RECONNECTING", why.clone(), None, Some(*retry_at_ms))
            }
            LinkState::Refused { why, retry_at_ms } => {
                ("REFUSED", why.clone(), None, Some(*retry_at_ms))
            }
        };
        let (buffered, last_seq, dropped) = self
            .outbox
            .lock()
            .map(|o| (o.len(), o.last_sent(), o.dropped()))
            .unwrap_or_default();
        self.ctx.status.set_remote(json!({
            "STATE": word,
            "DETAIL": detail,
            "HOST": self.config.host,
            "PORT": self.config.port,
            "TLS": self.config.tls,
            "PROXY": self.config.proxy.as_ref().map(|p| format!("{}:{}", p.host, p.port)),
            "DEVICE_ID": self.device_id,
            "TARGETS": self.config.targets,
            "CONNECTED_SINCE_MS": since,
            "RETRY_AT_MS": retry,
            "LAST_SEQ": last_seq,
            "BUFFERED": buffered,
            "DROPPED": dropped,
        }));
        let changed = match self.link.lock() {
            Ok(mut l) => {
                let kind_changed = std::mem::discriminant(&*l) != std::mem::discriminant(&state);
                *l = state.clone();
                kind_changed
            }
            Err(_) => false,
        };
        if changed {
            let device = match &state {
                LinkState::Connected { .. } => DeviceStatus::Connected,
                LinkState::Refused { .. } => DeviceStatus::NeedsAttention,
                LinkState::Connecting | LinkState::Reconnecting { .. } => {
                    DeviceStatus::Disconnected
                }
            };
            let detail = match &state {
                LinkState::Refused { why, .. } => {
                    format!("the Pispas cloud refused this till: {why}")
                }
                LinkState::Reconnecting { why, .. } => {
                    format!("reconnecting to the Pispas cloud: {why}")
                }
                _ => detail,
            };
            self.ctx.events.publish(
                DeviceState::new(LINK_DEVICE, device, detail).event("REMOTE", Audience::Internal),
            );
        }
    }
}

/// Connects, serves, and reconnects with backoff until shutdown.
async fn run(shared: Arc<Shared>) {
    let mut backoff = Backoff::new(shared.config.backoff_max);
    let connect_timeout = Duration::from_secs(15);
    loop {
        if shared.ctx.shutdown.is_cancelled() {
            return;
        }
        let attempt = tokio::select! {
            _ = shared.ctx.shutdown.cancelled() => return,
            r = ws_client::connect(&shared.config, shared.ctx.max_frame_bytes, connect_timeout) => r,
        };
        let (delay, state) = match attempt {
            Ok(ws) => {
                let started = tokio::time::Instant::now();
                shared.report(LinkState::Connected {
                    since_ms: crate::clock::now_ms(),
                });
                tracing::info!(host = %shared.config.authority(), device = %shared.device_id, "remote gateway connected");
                let end = session::serve(ws, &shared).await;
                if shared.ctx.shutdown.is_cancelled() {
                    return;
                }
                if started.elapsed() >= STABLE {
                    backoff.reset();
                }
                tracing::warn!(host = %shared.config.authority(), "remote link ended: {end}");
                let delay = backoff.next_delay();
                (
                    delay,
                    LinkState::Reconnecting {
                        why: end.to_string(),
                        retry_at_ms: crate::clock::now_ms() + delay.as_millis() as u64,
                    },
                )
            }
            Err(e) if e.is_refusal() => {
                let delay = backoff.refused_delay();
                tracing::warn!(host = %shared.config.authority(), "remote gateway: {e}; retrying in {} s", delay.as_secs());
                (
                    delay,
                    LinkState::Refused {
                        why: format!("{e}: check REMOTE_TOKEN"),
                        retry_at_ms: crate::clock::now_ms() + delay.as_millis() as u64,
                    },
                )
            }
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::debug!(host = %shared.config.authority(), "remote gateway: {e}; retrying in {} ms", delay.as_millis());
                (
                    delay,
                    LinkState::Reconnecting {
                        why: e.to_string(),
                        retry_at_ms: crate::clock::now_ms() + delay.as_millis() as u64,
                    },
                )
            }
        };
        shared.report(state);
        tokio::select! {
            _ = shared.ctx.shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// Puts the events remote requests asked for (and events to everyone) in the outbox, whether
/// the link is up or not.
async fn forward_events(shared: Arc<Shared>) {
    let mut rx = shared.ctx.events.subscribe();
    loop {
        let ev = tokio::select! {
            _ = shared.ctx.shutdown.cancelled() => return,
            ev = rx.recv() => ev,
        };
        match ev {
            Ok(ev) => {
                if let Some(text) = shared.request_ctx.event_text(&ev) {
                    shared.send(&text);
                }
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    lost = n,
                    "remote gateway too slow for events; some were dropped"
                )
            }
            Err(RecvError::Closed) => return,
        }
    }
}

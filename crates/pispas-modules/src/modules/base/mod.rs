//! BASE: the handshake and health target every client talks to first.
//!
//! `CHECK` (service, version, modules and their health, TLS or plain), `PING`, `VERSION`,
//! `CONFIG` (effective configuration, secrets redacted), `STATUS` (live counters for the status
//! window), `HEARTBEAT` (an event now), `SUBSCRIBE`/`UNSUBSCRIBE` (periodic heartbeat events),
//! `ECHO` (returns `DATA` after `DELAY_MS`, for a POS developer testing timeouts) and
//! `LIST_PORTS` (serial ports and OS printers to pick from).
//!
//! With the admin token: the configurator's `CONFIG_SCHEMA`, `CONFIG_SAVE` and `RESTART`
//! (`admin.rs`) and the command log's `LOG_*` actions (`log.rs`). Requests are parsed into
//! [`Action`] by `action.rs`; this file runs them. BASE sees the engine only through its
//! [`BaseContext`].

mod action;
mod admin;
mod context;
mod log;
mod platform;
mod ports;
mod remote_test;

pub use context::{BaseContext, ServerFacts, TlsFacts};

use crate::context::ModuleContext;
use crate::events::{Audience, Event};
use crate::protocol::{ErrorCode, Failure, Request, SERVICE_VERS};
use crate::router::{BoxFuture, Outcome, RequestContext, Service};
use action::{Action, Name};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The topic heartbeat events are published on.
pub const HEARTBEAT_TOPIC: &str = "BASE";
/// The product name reported by CHECK.
pub const SERVICE_NAME: &str = "pispas-local-service";

/// How often STATUS's view of `local.unpispas.es` is refreshed (a DNS look-up).
const LOCAL_NAME_EVERY: Duration = Duration::from_secs(60);

/// The BASE module; a cheap handle.
#[derive(Clone)]
pub struct Base {
    ctx: BaseContext,
    /// Where `local.unpispas.es` resolves, refreshed in the background (never on a STATUS).
    local_name: std::sync::Arc<std::sync::Mutex<Value>>,
}

impl Base {
    /// BASE over its view of the engine; starts the periodic heartbeat unless HEARTBEAT_SECS is 0.
    pub fn start(module: &ModuleContext, ctx: BaseContext) -> Self {
        let period = ctx.config.heartbeat;
        if !period.is_zero() {
            module
                .tracker
                .spawn(run_heartbeat(ctx.clone(), period, module.shutdown.clone()));
        }
        let local_name = std::sync::Arc::new(std::sync::Mutex::new(Value::Null));
        let (slot, stop) = (local_name.clone(), module.shutdown.clone());
        module.tracker.spawn(async move {
            loop {
                let now = platform::local_name().await;
                if let Ok(mut s) = slot.lock() {
                    *s = now;
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(LOCAL_NAME_EVERY) => {}
                }
            }
        });
        Base { ctx, local_name }
    }
}

impl Service for Base {
    fn target(&self) -> &'static str {
        "BASE"
    }

    fn actions(&self) -> &'static [&'static str] {
        Name::NAMES
    }

    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        let action = match self.admit(&request, &ctx) {
            Ok(a) => a,
            Err(f) => return ready(Err(f)),
        };
        // Everything but ECHO, the listers and the log reads answers synchronously.
        let outcome = match action {
            Action::Ping => Ok(Value::String("PONG".into())),
            Action::Check => Ok(self.check(&ctx)),
            Action::Version => Ok(version()),
            Action::Config => Ok(json!(self.ctx.config.redacted())),
            Action::Status => Ok(self.status()),
            Action::Heartbeat => {
                ctx.notify("BASE", &request.uuid, heartbeat(&self.ctx));
                Ok(json!({ "SENT": true }))
            }
            Action::Subscribe => {
                ctx.subscribe(HEARTBEAT_TOPIC, &request.uuid);
                Ok(
                    json!({ "TOPIC": HEARTBEAT_TOPIC, "PERIOD_SECS": self.ctx.config.heartbeat.as_secs() }),
                )
            }
            Action::Unsubscribe => {
                Ok(json!({ "WAS_SUBSCRIBED": ctx.unsubscribe(HEARTBEAT_TOPIC) }))
            }
            Action::Echo { delay, data } => return echo(delay, data),
            Action::ListPorts => return Box::pin(async { Ok(ports::list().await) }),
            Action::ConfigSchema => admin::schema(&self.ctx),
            Action::ConfigSave { values, dry_run } => admin::save(&self.ctx, values, dry_run, &ctx),
            Action::Restart => admin::restart(&self.ctx),
            Action::Log(action) => return log::call(&self.ctx.command_log, action, &request, &ctx),
            Action::PlatformStatus => {
                let ctx = self.ctx.clone();
                return Box::pin(async move { platform::status(&ctx).await });
            }
            Action::Platform(change) => {
                let ctx = self.ctx.clone();
                return Box::pin(async move { platform::change(&ctx, change).await });
            }
            Action::RemoteTest { values } => {
                let ctx = self.ctx.clone();
                return Box::pin(async move { remote_test::run(&ctx, values).await });
            }
        };
        ready(outcome)
    }
}

impl Base {
    /// The action a request names, once the connection may run it: admin actions are refused
    /// before their parameters are read, and the log's when the log is off.
    fn admit(&self, request: &Request, ctx: &RequestContext) -> Result<Action, Failure> {
        let name = Name::from_wire(&request.action)
            .ok_or_else(|| Failure::unknown_action("BASE", &request.raw_action, Name::NAMES))?;
        if name.admin_only() {
            ctx.require_admin()?;
        }
        if name.is_log() && !self.ctx.command_log.enabled() {
            return Err(Failure::new(
                ErrorCode::ModuleUnavailable,
                "the command log is off (COMMAND_LOG=off in the configuration)",
            ));
        }
        Action::parse(name, request)
    }

    fn check(&self, ctx: &RequestContext) -> Value {
        json!({
            "SERVICE": SERVICE_NAME,
            "VERSION": SERVICE_VERS,
            "PROTOCOL": 1,
            "TLS": ctx.tls,
            "ADMIN": ctx.admin,
            "MODULES": self.ctx.directory.to_json(),
        })
    }

    /// Live state for the status window.
    fn status(&self) -> Value {
        let status = &self.ctx.status;
        let server = &self.ctx.server;
        let (connections_total, ok, failed) = status.counters();
        let devices: Vec<Value> = status.devices().iter().map(|d| d.to_json()).collect();
        json!({
            "STATE": "RUNNING",
            "VERSION": SERVICE_VERS,
            "ADDRESS": server.local_addr.to_string(),
            "VIEWER": server.viewer_addr.map(|a| format!("http://{a}/")),
            "TLS": server.tls.summary(),
            "WARNINGS": status.warnings(),
            "REMOTE": status.remote(),
            "DEVICES": devices,
            "COMMAND_LOG": { "ENABLED": self.ctx.command_log.enabled(), "DROPPED": self.ctx.command_log.dropped() },
            "UPTIME_MS": status.uptime_ms(),
            "CONNECTIONS": status.connections_open(),
            "CONNECTIONS_TOTAL": connections_total,
            "REQUESTS_OK": ok,
            "REQUESTS_FAILED": failed,
            "MODULES": self.ctx.directory.to_json(),
            "LAST_ERRORS": status.last_errors(),
            "LOCAL_NAME": self.local_name.lock().map(|v| v.clone()).unwrap_or(Value::Null),
        })
    }
}

fn ready(outcome: Outcome) -> BoxFuture<Outcome> {
    Box::pin(std::future::ready(outcome))
}

fn version() -> Value {
    json!({
        "VERSION": SERVICE_VERS,
        "OS": std::env::consts::OS,
        "ARCH": std::env::consts::ARCH,
    })
}

fn echo(delay: Duration, data: Value) -> BoxFuture<Outcome> {
    Box::pin(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(data)
    })
}

/// The heartbeat event's data.
fn heartbeat(ctx: &BaseContext) -> Value {
    json!({
        "EVENT": "HEARTBEAT",
        "UPTIME_MS": ctx.status.uptime_ms(),
        "CONNECTIONS": ctx.status.connections_open(),
    })
}

/// Publishes a heartbeat to subscribers every `period` until `shutdown`; nothing when idle
/// beyond one timer wake-up per period.
async fn run_heartbeat(ctx: BaseContext, period: Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {
                ctx.events.publish(Event {
                    service: "BASE".into(),
                    uuid: Value::Null,
                    audience: Audience::Topic(HEARTBEAT_TOPIC.into()),
                    data: heartbeat(&ctx),
                });
            }
        }
    }
}

//! BASE: the handshake and health target every client talks to first.
//!
//! `CHECK` (service, version, modules and their health, TLS or plain), `PING`, `VERSION`,
//! `CONFIG` (effective configuration, secrets redacted), `STATUS` (live counters for the status
//! window), `HEARTBEAT` (an event now), `SUBSCRIBE`/`UNSUBSCRIBE` (periodic heartbeat events) and
//! `ECHO` (returns `DATA` after `DELAY_MS`, for a POS developer testing timeouts),
//! `LIST_PORTS` (serial ports and OS printers to pick from).
//!
//! With the admin token: the configurator's `CONFIG_SCHEMA`, `CONFIG_SAVE` and `RESTART`
//! (`admin.rs`) and the command log's `LOG_*` actions (`log.rs`).

mod admin;
mod log;
mod ports;

use crate::engine::EngineInfo;
use crate::events::{Audience, Event};
use crate::protocol::{Failure, Request, SERVICE_VERS};
use crate::router::{BoxFuture, Outcome, RequestContext, Service};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The topic heartbeat events are published on.
pub const HEARTBEAT_TOPIC: &str = "BASE";
/// The product name reported by CHECK.
pub const SERVICE_NAME: &str = "pispas-local-service";
/// Longest `ECHO` delay accepted.
const MAX_ECHO_DELAY_MS: u64 = 60_000;

const ACTIONS: &[&str] = &[
    "CHECK",
    "PING",
    "VERSION",
    "CONFIG",
    "STATUS",
    "HEARTBEAT",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "ECHO",
    "LISTPORTS",
    "CONFIGSCHEMA",
    "CONFIGSAVE",
    "RESTART",
    "LOGQUERY",
    "LOGGET",
    "LOGEXPORT",
    "LOGSUBSCRIBE",
    "LOGUNSUBSCRIBE",
];

/// The BASE module; a cheap handle.
#[derive(Clone)]
pub struct Base {
    info: Arc<EngineInfo>,
}

impl Base {
    pub fn new(info: Arc<EngineInfo>) -> Self {
        Base { info }
    }
}

impl Service for Base {
    fn target(&self) -> &'static str {
        "BASE"
    }

    fn actions(&self) -> &'static [&'static str] {
        ACTIONS
    }

    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        if let Some(work) = log::call(&self.info.command_log, &request.action, &request, &ctx) {
            return work;
        }
        // Everything but ECHO and the listers answers synchronously: no task, no timer.
        let outcome = match request.action.as_str() {
            "PING" => Ok(Value::String("PONG".into())),
            "CHECK" => Ok(self.check(&ctx)),
            "VERSION" => Ok(version()),
            "CONFIG" => Ok(json!(self.info.config.redacted())),
            "STATUS" => Ok(self.info.status()),
            "HEARTBEAT" => {
                ctx.notify("BASE", &request.uuid, self.info.heartbeat());
                Ok(json!({ "SENT": true }))
            }
            "SUBSCRIBE" => {
                ctx.subscribe(HEARTBEAT_TOPIC, &request.uuid);
                Ok(
                    json!({ "TOPIC": HEARTBEAT_TOPIC, "PERIOD_SECS": self.info.config.heartbeat.as_secs() }),
                )
            }
            "UNSUBSCRIBE" => Ok(json!({ "WAS_SUBSCRIBED": ctx.unsubscribe(HEARTBEAT_TOPIC) })),
            "ECHO" => return echo(request),
            "LISTPORTS" => return Box::pin(async { Ok(ports::list().await) }),
            "CONFIGSCHEMA" => admin::schema(&self.info, &ctx),
            "CONFIGSAVE" => admin::save(&self.info, &request, &ctx),
            "RESTART" => admin::restart(&self.info, &ctx),
            _ => Err(Failure::unknown_action(
                "BASE",
                &request.raw_action,
                ACTIONS,
            )),
        };
        Box::pin(std::future::ready(outcome))
    }
}

impl Base {
    fn check(&self, ctx: &RequestContext) -> Value {
        json!({
            "SERVICE": SERVICE_NAME,
            "VERSION": SERVICE_VERS,
            "PROTOCOL": 1,
            "TLS": ctx.tls,
            "ADMIN": ctx.admin,
            "MODULES": self.info.modules(),
        })
    }
}

fn version() -> Value {
    json!({
        "VERSION": SERVICE_VERS,
        "OS": std::env::consts::OS,
        "ARCH": std::env::consts::ARCH,
    })
}

fn echo(request: Request) -> BoxFuture<Outcome> {
    let delay = match request.u64_param("DELAY_MS") {
        Ok(d) => d.unwrap_or(0),
        Err(e) => return Box::pin(std::future::ready(Err(e))),
    };
    if delay > MAX_ECHO_DELAY_MS {
        let failure = Failure::bad_params(format!("DELAY_MS must be at most {MAX_ECHO_DELAY_MS}"));
        return Box::pin(std::future::ready(Err(failure)));
    }
    let data = request.param("DATA").cloned().unwrap_or(Value::Null);
    Box::pin(async move {
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        Ok(data)
    })
}

/// Publishes a heartbeat to subscribers every `period` until `shutdown`; nothing when idle
/// beyond one timer wake-up per period.
pub async fn run_heartbeat(
    info: Arc<EngineInfo>,
    period: Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {
                info.events.publish(Event {
                    service: "BASE".into(),
                    uuid: Value::Null,
                    audience: Audience::Topic(HEARTBEAT_TOPIC.into()),
                    data: info.heartbeat(),
                });
            }
        }
    }
}

//! SCALE: retail serial scales. `codec/` holds the pure protocol codecs, `session.rs` and
//! `driver.rs` run one task per scale, and this file answers the protocol's actions: READ, TARE,
//! ZERO, CLEAR_TARE, STATUS, SUBSCRIBE, UNSUBSCRIBE and PORTS.
//!
//! Several scales may be configured (`SCALE`, `SCALE_<NAME>`); requests pick one with `SCALE`.

pub mod codec;
pub mod config;
mod driver;
mod session;

use crate::modules::ModuleContext;
use crate::protocol::{ErrorCode, Failure, Request};
use crate::router::{BoxFuture, Health, HealthState, Outcome, RequestContext, Service};
use codec::ScaleCommand;
use driver::{reading_json, Command, ScaleError, ScaleHandle};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

const ACTIONS: &[&str] = &[
    "READ",
    "TARE",
    "ZERO",
    "CLEARTARE",
    "STATUS",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "PORTS",
];
/// READ's default wait for a stable weight.
const DEFAULT_TIMEOUT_MS: u64 = 3000;
/// The longest TIMEOUT accepted.
const MAX_TIMEOUT_MS: u64 = 60_000;

/// The SCALE module.
#[derive(Clone)]
pub struct ScaleService {
    scales: Arc<BTreeMap<String, ScaleHandle>>,
}

impl ScaleService {
    /// Starts one task per configured scale. Fails naming the key of an invalid scale URI.
    pub fn start(ctx: &ModuleContext) -> Result<ScaleService, String> {
        let configs = config::scales_from(&ctx.config.values)?;
        let scales = configs
            .into_iter()
            .map(|c| {
                let name = c.name.clone();
                (
                    name,
                    ScaleHandle::spawn(c, ctx.events.clone(), &ctx.tracker, ctx.shutdown.clone()),
                )
            })
            .collect();
        Ok(ScaleService {
            scales: Arc::new(scales),
        })
    }

    /// The scale a request names (`SCALE`), or the default, or the only one.
    fn pick(&self, request: &Request) -> Result<ScaleHandle, Failure> {
        let wanted = request.str_param("SCALE")?.map(str::to_ascii_uppercase);
        let found = match &wanted {
            Some(name) => self.scales.get(name),
            None => self.scales.get(config::DEFAULT_NAME).or_else(|| {
                (self.scales.len() == 1)
                    .then(|| self.scales.values().next())
                    .flatten()
            }),
        };
        found.cloned().ok_or_else(|| {
            let names: Vec<&str> = self.scales.keys().map(String::as_str).collect();
            let message = if names.is_empty() {
                "no scale is configured: set SCALE=serial://<port>?protocol=<protocol>".to_string()
            } else {
                format!(
                    "no scale named {:?} (configured: {})",
                    wanted.unwrap_or_default(),
                    names.join(", ")
                )
            };
            Failure::new(ErrorCode::DeviceNotFound, message)
        })
    }
}

impl Service for ScaleService {
    fn target(&self) -> &'static str {
        "SCALE"
    }

    fn actions(&self) -> &'static [&'static str] {
        ACTIONS
    }

    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        let this = self.clone();
        Box::pin(async move { this.handle(request, ctx).await })
    }

    fn health(&self) -> Health {
        let down: Vec<String> = self
            .scales
            .values()
            .filter(|s| !s.shared.link.is_connected())
            .map(|s| {
                format!(
                    "{}: {}",
                    s.shared.config.name,
                    s.shared.link.error().unwrap_or_else(|| "connecting".into())
                )
            })
            .collect();
        match (self.scales.is_empty(), down.is_empty()) {
            (true, _) => Health {
                state: HealthState::Ok,
                detail: "no scale configured".into(),
            },
            (false, true) => Health::ok(),
            (false, false) => Health {
                state: HealthState::Degraded,
                detail: down.join("; "),
            },
        }
    }
}

impl ScaleService {
    async fn handle(&self, request: Request, ctx: RequestContext) -> Outcome {
        match request.action.as_str() {
            "PORTS" => Ok(crate::transport::serial::list_ports()),
            "STATUS" if request.param("SCALE").is_none() => Ok(Value::Array(
                self.scales
                    .values()
                    .map(|s| s.shared.status_json())
                    .collect(),
            )),
            "STATUS" => Ok(self.pick(&request)?.shared.status_json()),
            "READ" => {
                let scale = self.pick(&request)?;
                let timeout = request.u64_param("TIMEOUT")?.unwrap_or(DEFAULT_TIMEOUT_MS);
                if timeout > MAX_TIMEOUT_MS {
                    return Err(Failure::bad_params(format!(
                        "TIMEOUT must be at most {MAX_TIMEOUT_MS} ms"
                    )));
                }
                let (reply, rx) = oneshot::channel();
                scale
                    .send(Command::Read {
                        timeout: Duration::from_millis(timeout),
                        reply,
                    })
                    .await
                    .map_err(failure)?;
                let (reading, held) = rx
                    .await
                    .map_err(|_| failure(ScaleError::Lost("the scale task stopped".into())))?
                    .map_err(failure)?;
                let mut data = reading_json(&reading, held);
                if let Some(map) = data.as_object_mut() {
                    map.insert("SCALE".into(), json!(scale.shared.config.name));
                    map.insert(
                        "PROTOCOL".into(),
                        json!(scale.shared.protocol().map(|p| p.name())),
                    );
                }
                Ok(data)
            }
            "TARE" => self.command(&request, ScaleCommand::Tare).await,
            "ZERO" => self.command(&request, ScaleCommand::Zero).await,
            "CLEARTARE" => self.command(&request, ScaleCommand::ClearTare).await,
            "SUBSCRIBE" => {
                let scale = self.pick(&request)?;
                ctx.subscribe(&scale.shared.topic, &request.uuid);
                Ok(json!({ "SCALE": scale.shared.config.name, "TOPIC": scale.shared.topic }))
            }
            "UNSUBSCRIBE" => {
                let scale = self.pick(&request)?;
                Ok(json!({ "WAS_SUBSCRIBED": ctx.unsubscribe(&scale.shared.topic) }))
            }
            _ => Err(Failure::unknown_action(
                "SCALE",
                &request.raw_action,
                ACTIONS,
            )),
        }
    }

    async fn command(&self, request: &Request, command: ScaleCommand) -> Outcome {
        let scale = self.pick(request)?;
        let (reply, rx) = oneshot::channel();
        scale
            .send(Command::Run { command, reply })
            .await
            .map_err(failure)?;
        let confirmed = rx
            .await
            .map_err(|_| failure(ScaleError::Lost("the scale task stopped".into())))?
            .map_err(failure)?;
        Ok(
            json!({ "SCALE": scale.shared.config.name, "COMMAND": session::command_name(command), "CONFIRMED": confirmed }),
        )
    }
}

/// The one place scale errors become FAILURE codes.
fn failure(e: ScaleError) -> Failure {
    let code = match &e {
        ScaleError::Unavailable(_) | ScaleError::Lost(_) => ErrorCode::DeviceUnavailable,
        ScaleError::NoAnswer(_) => ErrorCode::Timeout,
        ScaleError::Unstable(_) | ScaleError::NotWeighable(_) => ErrorCode::ScaleUnstable,
        ScaleError::Overload => ErrorCode::ScaleOverload,
        ScaleError::UnderZero => ErrorCode::ScaleUnderZero,
        ScaleError::Unsupported { .. } => ErrorCode::Unsupported,
        ScaleError::Refused => ErrorCode::DeviceRefused,
    };
    Failure::new(code, e.to_string())
}

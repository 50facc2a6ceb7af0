//! RFID: tag readers. `codec/` holds the pure frame codecs and de-duplication, `driver.rs` one
//! task per reader; this file answers READ (the next tag within TIMEOUT), LAST, STATUS,
//! SUBSCRIBE/UNSUBSCRIBE (TAG events) and PORTS.
//!
//! Keyboard-wedge (HID) readers are out of scope: they type into whatever has focus.

pub mod codec;
pub mod config;
mod driver;

use crate::modules::ModuleContext;
use crate::protocol::{ErrorCode, Failure, Request};
use crate::router::{BoxFuture, Health, HealthState, Outcome, RequestContext, Service};
use driver::ReaderShared;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const ACTIONS: &[&str] = &[
    "READ",
    "LAST",
    "STATUS",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "PORTS",
];
const DEFAULT_TIMEOUT_MS: u64 = 10_000;
const MAX_TIMEOUT_MS: u64 = 300_000;

/// The RFID module.
#[derive(Clone)]
pub struct RfidService {
    readers: Arc<BTreeMap<String, Arc<ReaderShared>>>,
}

impl RfidService {
    /// Starts one task per configured reader. Fails naming the key of an invalid reader URI.
    pub fn start(ctx: &ModuleContext) -> Result<RfidService, String> {
        let mut readers = BTreeMap::new();
        for config in config::readers_from(&ctx.config.values)? {
            let shared = ReaderShared::new(config, ctx.events.clone());
            ctx.tracker
                .spawn(driver::run(shared.clone(), ctx.shutdown.clone()));
            readers.insert(shared.config.name.clone(), shared);
        }
        Ok(RfidService {
            readers: Arc::new(readers),
        })
    }

    fn pick(&self, request: &Request) -> Result<Arc<ReaderShared>, Failure> {
        let wanted = request.str_param("READER")?.map(str::to_ascii_uppercase);
        let found = match &wanted {
            Some(name) => self.readers.get(name),
            None => self.readers.get(config::DEFAULT_NAME).or_else(|| {
                (self.readers.len() == 1)
                    .then(|| self.readers.values().next())
                    .flatten()
            }),
        };
        found.cloned().ok_or_else(|| {
            let names: Vec<&str> = self.readers.keys().map(String::as_str).collect();
            let message = if names.is_empty() {
                "no RFID reader is configured: set RFID=serial://<port>?protocol=em4100".to_string()
            } else {
                format!(
                    "no reader named {:?} (configured: {})",
                    wanted.unwrap_or_default(),
                    names.join(", ")
                )
            };
            Failure::new(ErrorCode::DeviceNotFound, message)
        })
    }

    async fn handle(&self, request: Request, ctx: RequestContext) -> Outcome {
        match request.action.as_str() {
            "PORTS" => Ok(crate::transport::serial::list_ports()),
            "STATUS" if request.param("READER").is_none() => Ok(Value::Array(
                self.readers.values().map(|r| r.status_json()).collect(),
            )),
            "STATUS" => Ok(self.pick(&request)?.status_json()),
            "LAST" => Ok(self.pick(&request)?.last().unwrap_or(Value::Null)),
            "READ" => {
                let reader = self.pick(&request)?;
                let timeout = request.u64_param("TIMEOUT")?.unwrap_or(DEFAULT_TIMEOUT_MS);
                if timeout > MAX_TIMEOUT_MS {
                    return Err(Failure::bad_params(format!(
                        "TIMEOUT must be at most {MAX_TIMEOUT_MS} ms"
                    )));
                }
                if let Some(why) = reader.link.error().filter(|_| !reader.link.is_connected()) {
                    return Err(Failure::new(
                        ErrorCode::DeviceUnavailable,
                        format!("the reader is not connected: {why}"),
                    ));
                }
                let next = reader.next_tag();
                match tokio::time::timeout(Duration::from_millis(timeout), next).await {
                    Ok(Ok(tag)) => Ok(tag),
                    Ok(Err(_)) => Err(Failure::new(
                        ErrorCode::DeviceUnavailable,
                        "the reader stopped",
                    )),
                    Err(_) => Err(Failure::new(
                        ErrorCode::Timeout,
                        format!("no tag was presented within {timeout} ms"),
                    )),
                }
            }
            "SUBSCRIBE" => {
                let reader = self.pick(&request)?;
                ctx.subscribe(&reader.topic, &request.uuid);
                Ok(json!({ "READER": reader.config.name, "TOPIC": reader.topic }))
            }
            "UNSUBSCRIBE" => {
                let reader = self.pick(&request)?;
                Ok(json!({ "WAS_SUBSCRIBED": ctx.unsubscribe(&reader.topic) }))
            }
            _ => Err(Failure::unknown_action(
                "RFID",
                &request.raw_action,
                ACTIONS,
            )),
        }
    }
}

impl Service for RfidService {
    fn target(&self) -> &'static str {
        "RFID"
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
            .readers
            .values()
            .filter(|r| !r.link.is_connected())
            .map(|r| {
                format!(
                    "{}: {}",
                    r.config.name,
                    r.link.error().unwrap_or_else(|| "connecting".into())
                )
            })
            .collect();
        match (self.readers.is_empty(), down.is_empty()) {
            (true, _) => Health {
                state: HealthState::Ok,
                detail: "no reader configured".into(),
            },
            (false, true) => Health::ok(),
            (false, false) => Health {
                state: HealthState::Degraded,
                detail: down.join("; "),
            },
        }
    }
}

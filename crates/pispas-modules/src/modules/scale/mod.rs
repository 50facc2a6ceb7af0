//! SCALE: retail serial scales. `codec/` holds the pure protocol codecs, `session.rs` and
//! `driver.rs` run one task per scale, `action.rs` parses requests, and this file answers them:
//! READ, TARE, ZERO, CLEAR_TARE, STATUS, SUBSCRIBE, UNSUBSCRIBE and PORTS.
//!
//! Several scales may be configured (`SCALE`, `SCALE_<NAME>`); requests pick one with `SCALE`.

mod action;
pub mod codec;
pub mod config;
mod driver;
mod session;

use crate::context::{ModuleContext, ModuleError};
use crate::devices::{DeviceWords, Devices};
use crate::protocol::{ErrorCode, Failure, Request};
use crate::router::{BoxFuture, Health, Outcome, RequestContext, Service};
use action::{Action, Name};
use codec::ScaleCommand;
use driver::{reading_json, Command, ScaleError, ScaleHandle};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

const WORDS: DeviceWords = DeviceWords {
    param: "SCALE",
    noun: "scale",
    none_configured: "no scale is configured: set SCALE=serial://<port>?protocol=<protocol>",
};

/// The SCALE module; a cheap handle.
#[derive(Clone)]
pub struct Scale {
    scales: Arc<Devices<ScaleHandle>>,
}

impl Scale {
    /// Starts one task per configured scale.
    ///
    /// Fails naming the key of an invalid scale URI.
    pub fn start(ctx: &ModuleContext) -> Result<Scale, ModuleError> {
        let configs = config::scales_from(&ctx.config.values).map_err(ModuleError::Config)?;
        let scales = configs
            .into_iter()
            .map(|c| ScaleHandle::spawn(c, ctx.events.clone(), &ctx.tracker, ctx.shutdown.clone()));
        Ok(Scale {
            scales: Arc::new(Devices::new(WORDS, scales)),
        })
    }
}

impl Service for Scale {
    fn target(&self) -> &'static str {
        "SCALE"
    }

    fn actions(&self) -> &'static [&'static str] {
        Name::NAMES
    }

    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        let this = self.clone();
        Box::pin(async move {
            let action = Action::parse(&request)?;
            this.run(action, &request.uuid, &ctx).await
        })
    }

    fn health(&self) -> Health {
        self.scales.health()
    }
}

impl Scale {
    async fn run(&self, action: Action, uuid: &str, ctx: &RequestContext) -> Outcome {
        match action {
            Action::Ports => Ok(crate::transport::serial::list_ports()),
            Action::Status { scale } => self.scales.status(scale.as_deref()),
            Action::Read { scale, timeout } => self.read(scale.as_deref(), timeout).await,
            Action::Command { scale, command } => self.command(scale.as_deref(), command).await,
            Action::Subscribe { scale } => self.scales.subscribe(scale.as_deref(), ctx, uuid),
            Action::Unsubscribe { scale } => self.scales.unsubscribe(scale.as_deref(), ctx),
        }
    }

    async fn read(&self, name: Option<&str>, timeout: Duration) -> Outcome {
        let scale = self.scales.pick(name)?;
        let (reply, rx) = oneshot::channel();
        scale
            .send(Command::Read { timeout, reply })
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

    async fn command(&self, name: Option<&str>, command: ScaleCommand) -> Outcome {
        let scale = self.scales.pick(name)?;
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
        ScaleError::NoAnswer { .. } | ScaleError::Foreign { .. } => ErrorCode::Timeout,
        ScaleError::Unstable(_) | ScaleError::NotWeighable(_) => ErrorCode::ScaleUnstable,
        ScaleError::Overload => ErrorCode::ScaleOverload,
        ScaleError::UnderZero => ErrorCode::ScaleUnderZero,
        ScaleError::Unsupported { .. } => ErrorCode::Unsupported,
        ScaleError::Refused => ErrorCode::DeviceRefused,
    };
    Failure::new(code, e.to_string())
}

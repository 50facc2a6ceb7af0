//! RFID: tag readers. `codec/` holds the pure frame codecs and de-duplication, `driver.rs` one
//! task per reader, `action.rs` parses requests; this file answers READ (the next tag within
//! TIMEOUT), LAST, STATUS, SUBSCRIBE/UNSUBSCRIBE (TAG events) and PORTS.
//!
//! Keyboard-wedge (HID) readers are out of scope: they type into whatever has focus.

mod action;
pub mod codec;
pub mod config;
mod driver;

use crate::context::{ModuleContext, ModuleError};
use crate::devices::{DeviceWords, Devices};
use crate::protocol::{ErrorCode, Failure, Request};
use crate::router::{BoxFuture, Health, Outcome, RequestContext, Service};
use action::{Action, Name};
use driver::ReaderShared;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const WORDS: DeviceWords = DeviceWords {
    param: "READER",
    noun: "reader",
    none_configured: "no RFID reader is configured: set RFID=serial://<port>?protocol=em4100",
};

/// The RFID module; a cheap handle.
#[derive(Clone)]
pub struct Rfid {
    readers: Arc<Devices<Arc<ReaderShared>>>,
}

impl Rfid {
    /// Starts one task per configured reader.
    ///
    /// Fails naming the key of an invalid reader URI.
    pub fn start(ctx: &ModuleContext) -> Result<Rfid, ModuleError> {
        let mut readers = Vec::new();
        for config in config::readers_from(&ctx.config.values).map_err(ModuleError::Config)? {
            let shared = ReaderShared::new(config, ctx.events.clone());
            ctx.tracker
                .spawn(driver::run(shared.clone(), ctx.shutdown.clone()));
            readers.push(shared);
        }
        Ok(Rfid {
            readers: Arc::new(Devices::new(WORDS, readers)),
        })
    }

    async fn run(&self, action: Action, uuid: &str, ctx: &RequestContext) -> Outcome {
        match action {
            Action::Ports => Ok(crate::transport::serial::list_ports()),
            Action::Status { reader } => self.readers.status(reader.as_deref()),
            Action::Last { reader } => Ok(self
                .readers
                .pick(reader.as_deref())?
                .last()
                .unwrap_or(Value::Null)),
            Action::Read { reader, timeout } => self.read(reader.as_deref(), timeout).await,
            Action::Subscribe { reader } => self.readers.subscribe(reader.as_deref(), ctx, uuid),
            Action::Unsubscribe { reader } => self.readers.unsubscribe(reader.as_deref(), ctx),
        }
    }

    async fn read(&self, name: Option<&str>, timeout: Duration) -> Outcome {
        let reader = self.readers.pick(name)?;
        if let Some(why) = reader.link.error().filter(|_| !reader.link.is_connected()) {
            return Err(Failure::new(
                ErrorCode::DeviceUnavailable,
                format!("the reader is not connected: {why}"),
            ));
        }
        match tokio::time::timeout(timeout, reader.next_tag()).await {
            Ok(Ok(tag)) => Ok(tag),
            Ok(Err(_)) => Err(Failure::new(
                ErrorCode::DeviceUnavailable,
                "the reader stopped",
            )),
            Err(_) => Err(Failure::new(
                ErrorCode::Timeout,
                format!("no tag was presented within {} ms", timeout.as_millis()),
            )),
        }
    }
}

impl Service for Rfid {
    fn target(&self) -> &'static str {
        "RFID"
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
        self.readers.health()
    }
}

//! The stand-in for a module that is enabled in `MODULES` but not part of this build: every action
//! answers MODULE_UNAVAILABLE, so the POS learns exactly what is missing.

use crate::protocol::{ErrorCode, Failure, Request};
use crate::router::{BoxFuture, Health, HealthState, Outcome, RequestContext, Service};

pub struct Unavailable {
    target: &'static str,
}

impl Unavailable {
    pub fn new(target: &'static str) -> Self {
        Unavailable { target }
    }
}

impl Service for Unavailable {
    fn target(&self) -> &'static str {
        self.target
    }

    fn actions(&self) -> &'static [&'static str] {
        &[]
    }

    fn call(&self, _request: Request, _ctx: RequestContext) -> BoxFuture<Outcome> {
        let failure = Failure::new(
            ErrorCode::ModuleUnavailable,
            format!(
                "{} is enabled in MODULES but is not available in this version of the service",
                self.target
            ),
        );
        Box::pin(std::future::ready(Err(failure)))
    }

    fn health(&self) -> Health {
        Health {
            state: HealthState::Down,
            detail: "not available in this version".into(),
        }
    }
}

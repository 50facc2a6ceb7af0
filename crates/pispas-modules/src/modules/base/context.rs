//! BASE's narrow view of the engine, handed in at registration: the configuration and bus, the
//! engine's status, facts about the server it answers for, the command log, the host's control
//! and the directory of modules. BASE never imports the engine, the host or the server.

use crate::commandlog::CommandLog;
use crate::config::ConfigEnv;
use crate::control::Control;
use crate::events::EventBus;
use crate::router::Directory;
use crate::status::EngineStatus;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// What BASE answers from.
#[derive(Clone)]
pub struct BaseContext {
    pub config: Arc<ConfigEnv>,
    pub events: EventBus,
    pub status: EngineStatus,
    pub server: Arc<ServerFacts>,
    /// The command log (disabled when COMMAND_LOG=off).
    pub command_log: CommandLog,
    /// Asks the process to restart or stop the engine; `None` when the engine runs without a
    /// host (tests that start an engine directly).
    pub control: Option<Control>,
    pub directory: Directory,
}

/// Facts about the server, fixed when it started.
#[derive(Debug, Clone)]
pub struct ServerFacts {
    /// The address actually bound (the real port when LOCAL_PORT was 0).
    pub local_addr: SocketAddr,
    /// Where the pages are served to a browser, when VIEWER_PORT is not off and the port was free.
    pub viewer_addr: Option<SocketAddr>,
    pub tls: TlsFacts,
}

/// The TLS certificate being served, for STATUS and the configurator.
#[derive(Debug, Clone)]
pub struct TlsFacts {
    /// The certificate came from CERT_DIR (the production one), not generated.
    pub provided: bool,
    /// The folder it was read from or generated into.
    pub dir: PathBuf,
    /// SHA-256 of the certificate, as logged at start.
    pub fingerprint: String,
    /// `{SUBJECT, NOT_BEFORE, NOT_AFTER, NAMES, …}`.
    pub details: Value,
}

impl TlsFacts {
    /// `provided` or `self-signed`, as STATUS and CONFIG_SCHEMA say it.
    pub fn source(&self) -> &'static str {
        if self.provided {
            "provided"
        } else {
            "self-signed"
        }
    }

    /// STATUS's `TLS` object.
    pub fn summary(&self) -> Value {
        json!({
            "SOURCE": self.source(),
            "FINGERPRINT": self.fingerprint,
            "SUBJECT": self.details["SUBJECT"],
            "NOT_AFTER": self.details["NOT_AFTER"],
        })
    }
}

//! What a test (or the CLI) can see of the Paytef simulator: each HTTP call as it arrived and
//! how it was answered, and events for calls and transaction changes.

use super::terminal::{Phase, Transaction};
use serde_json::Value;

/// One HTTP call the simulator received.
#[derive(Debug, Clone, PartialEq)]
pub struct PaytefRequest {
    pub method: String,
    /// The path as sent (`/transaction/start`).
    pub path: String,
    /// The JSON body, or Null when it was not JSON.
    pub body: Value,
    /// `transactionReference` of the body, if any.
    pub reference: Option<String>,
    /// `sessionID` of the body, if any.
    pub session_id: Option<String>,
    /// The HTTP status answered (also set when the reply was then dropped).
    pub status: u16,
    /// The JSON answered; None when the connection was closed without a reply.
    pub reply: Option<Value>,
}

impl PaytefRequest {
    /// Whether the reply was dropped (connection closed without an answer).
    pub fn dropped(&self) -> bool {
        self.reply.is_none()
    }

    /// Whether this call is for `endpoint` (`/transaction/start`; a trailing slash ignored).
    pub fn is_for(&self, endpoint: &str) -> bool {
        self.path.trim_end_matches('/') == endpoint.trim_end_matches('/')
    }
}

/// Something happened; the CLI prints these.
#[derive(Debug, Clone, PartialEq)]
pub enum PaytefEvent {
    Request {
        path: String,
        status: u16,
        dropped: bool,
    },
    Transaction {
        id: u64,
        reference: Option<String>,
        phase: Phase,
    },
}

impl PaytefEvent {
    pub(crate) fn from_transaction(tx: &Transaction) -> PaytefEvent {
        PaytefEvent::Transaction {
            id: tx.id,
            reference: tx.reference.clone(),
            phase: tx.phase,
        }
    }
}

impl std::fmt::Display for PaytefEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PaytefEvent::Request {
                path,
                status,
                dropped,
            } => {
                write!(f, "POST {path} -> {status}")?;
                if *dropped {
                    write!(f, " (reply dropped)")?;
                }
                Ok(())
            }
            PaytefEvent::Transaction {
                id,
                reference,
                phase,
            } => {
                let reference = reference.as_deref().unwrap_or("-");
                match phase {
                    Phase::Running(status) => write!(f, "tx {id} [{reference}]: {}", status.name()),
                    Phase::Finished(outcome) => {
                        write!(f, "tx {id} [{reference}]: finished, {:?}", outcome)
                    }
                    Phase::Forgotten => write!(f, "tx {id} [{reference}]: forgotten (restart)"),
                }
            }
        }
    }
}

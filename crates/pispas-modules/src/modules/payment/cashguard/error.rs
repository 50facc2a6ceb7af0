//! What can go wrong in a CASHGUARD request that is not a payment outcome (outcomes are
//! journaled values, turned into codes by their state): the one exhaustive mapping to codes.

use crate::protocol::{ErrorCode, Failure};

#[derive(Debug, thiserror::Error)]
pub(super) enum CashError {
    /// The machine cannot be used now (no session, port error, jam).
    #[error("{0}")]
    Unavailable(String),
    /// The machine refused the command.
    #[error("{0}")]
    Refused(String),
    /// The change for what the customer hands over cannot be paid: nothing was taken.
    #[error("{0}")]
    NoChange(String),
    /// No payment matches.
    #[error("{0}")]
    NoPayment(String),
}

impl From<CashError> for Failure {
    fn from(e: CashError) -> Failure {
        let code = match &e {
            CashError::Unavailable(_) => ErrorCode::TerminalUnavailable,
            CashError::Refused(_) => ErrorCode::DeviceRefused,
            CashError::NoChange(_) => ErrorCode::ChangeUnavailable,
            CashError::NoPayment(_) => ErrorCode::PaymentNotFound,
        };
        Failure::new(code, e.to_string())
    }
}

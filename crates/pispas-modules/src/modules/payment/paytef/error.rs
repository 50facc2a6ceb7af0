//! What can go wrong in a PAYTEF request that is not a payment outcome (outcomes are journaled
//! values, turned into codes by their state): the one exhaustive mapping to codes.

use crate::protocol::{ErrorCode, Failure};

#[derive(Debug, thiserror::Error)]
pub(super) enum PaytefError {
    /// The pinpad or the cloud cannot be reached, or refused the call.
    #[error("{0}")]
    Unreachable(String),
    /// The pinpad refused to cancel (nothing runs there, or the bank is already processing).
    #[error("{0}")]
    NotCancelled(String),
    /// No payment matches.
    #[error("{0}")]
    NoPayment(String),
}

impl From<PaytefError> for Failure {
    fn from(e: PaytefError) -> Failure {
        let code = match &e {
            PaytefError::Unreachable(_) => ErrorCode::TerminalUnavailable,
            PaytefError::NotCancelled(_) => ErrorCode::DeviceRefused,
            PaytefError::NoPayment(_) => ErrorCode::PaymentNotFound,
        };
        Failure::new(code, e.to_string())
    }
}

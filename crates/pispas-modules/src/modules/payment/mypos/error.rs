//! What can go wrong in a MYPOS request that is not a payment outcome (payment outcomes are
//! journaled values, turned into codes by their state): the one exhaustive mapping to codes.

use crate::protocol::{ErrorCode, Failure};

#[derive(Debug, thiserror::Error)]
pub(super) enum MyposError {
    /// The terminal cannot be reached, or the exchange broke.
    #[error("{0}")]
    Unreachable(String),
    /// The terminal (or this service) runs a payment now.
    #[error("{0}")]
    Busy(String),
    /// The terminal answered the request with a refusal.
    #[error("{0}")]
    Refused(String),
    /// The protocol offers no such thing from the till.
    #[error("{0}")]
    Unsupported(String),
    /// No payment matches.
    #[error("{0}")]
    NoPayment(String),
}

impl From<MyposError> for Failure {
    fn from(e: MyposError) -> Failure {
        let code = match &e {
            MyposError::Unreachable(_) => ErrorCode::TerminalUnavailable,
            MyposError::Busy(_) => ErrorCode::TerminalBusy,
            MyposError::Refused(_) => ErrorCode::DeviceRefused,
            MyposError::Unsupported(_) => ErrorCode::Unsupported,
            MyposError::NoPayment(_) => ErrorCode::PaymentNotFound,
        };
        Failure::new(code, e.to_string())
    }
}

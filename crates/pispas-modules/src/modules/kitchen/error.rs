//! ORDER_KITCHEN's errors and their one exhaustive mapping to FAILURE codes.

use crate::protocol::{ErrorCode, Failure};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub(super) enum KitchenError {
    #[error("no ticket {0:?} (it was never sent, or was served or voided more than KITCHEN_RETENTION ago)")]
    TicketNotFound(String),
    #[error("ticket {ticket:?} has no line {line:?}")]
    LineNotFound { ticket: String, line: String },
    #[error("ticket {0:?} is {1}: it cannot be changed any more (send a new ticket)")]
    TicketClosed(String, &'static str),
    #[error("{0}")]
    NothingToRecall(String),
    /// A parameter that is well-formed but does not fit the ticket (an unknown STATION, more
    /// cancelled than ordered); the message names it.
    #[error("{0}")]
    BadParams(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl KitchenError {
    /// The FAILURE for this error (the one mapping; no catch-all).
    pub(super) fn to_failure(&self) -> Failure {
        let code = match self {
            KitchenError::TicketNotFound(_) => ErrorCode::TicketNotFound,
            KitchenError::LineNotFound { .. } => ErrorCode::LineNotFound,
            KitchenError::TicketClosed(..) => ErrorCode::TicketClosed,
            KitchenError::NothingToRecall(_) => ErrorCode::NothingToRecall,
            KitchenError::BadParams(_) => ErrorCode::BadParams,
            KitchenError::Store(e) if e.is_full() => ErrorCode::StorageFull,
            KitchenError::Store(e) => return Failure::internal("storing the kitchen ticket", e),
        };
        Failure::new(code, self.to_string())
    }
}

impl From<KitchenError> for Failure {
    fn from(e: KitchenError) -> Failure {
        e.to_failure()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_code() {
        assert_eq!(
            KitchenError::TicketNotFound("1".into()).to_failure().code,
            ErrorCode::TicketNotFound
        );
        assert_eq!(
            KitchenError::Store(StoreError::Full("disk".into()))
                .to_failure()
                .code,
            ErrorCode::StorageFull
        );
        let f = KitchenError::Store(StoreError::Worker("secret path".into())).to_failure();
        assert_eq!(f.code, ErrorCode::Internal);
        assert!(!f.message.contains("secret path"));
    }
}

//! CACHE's errors and the one place they become FAILURE codes (exhaustive, no catch-all), so a
//! new failure forces a decision about what the POS is told.

use super::config::MAX_KEY_CHARS;
use crate::protocol::{ErrorCode, Failure};
use crate::store::StoreError;
use serde_json::json;

/// Everything that can go wrong in CACHE. A refused write stores nothing.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("KEY is {chars} characters; at most {MAX_KEY_CHARS} are accepted")]
    KeyTooLong { chars: usize },
    #[error("VALUE is {size} bytes of JSON; at most {max} are accepted (CACHE_MAX_VALUE_BYTES)")]
    ValueTooLarge { size: usize, max: usize },
    #[error("the cache is full: storing this would take {needed} bytes of {max} (CACHE_MAX_BYTES); delete keys or CLEAR a prefix")]
    Full { needed: u64, max: u64 },
    #[error("{}", match current { Some(v) => format!("the key is at VERSION {v}, not the IF_VERSION given"), None => "the key does not exist (IF_VERSION 0 creates it)".to_string() })]
    VersionConflict { current: Option<u64> },
    #[error("the cache is stopping")]
    Stopping,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CacheError {
    /// The FAILURE the POS is told.
    pub fn to_failure(&self) -> Failure {
        match self {
            CacheError::KeyTooLong { chars } => Failure::bad_params(self.to_string())
                .with_details(json!({ "CHARS": chars, "MAX": MAX_KEY_CHARS })),
            CacheError::ValueTooLarge { size, max } => {
                Failure::new(ErrorCode::ValueTooLarge, self.to_string())
                    .with_details(json!({ "BYTES": size, "MAX": max }))
            }
            CacheError::Full { needed, max } => {
                Failure::new(ErrorCode::CacheFull, self.to_string())
                    .with_details(json!({ "NEEDED": needed, "MAX": max }))
            }
            CacheError::VersionConflict { current } => {
                Failure::new(ErrorCode::VersionConflict, self.to_string())
                    .with_details(json!({ "VERSION": current }))
            }
            CacheError::Stopping => Failure::new(ErrorCode::ShuttingDown, self.to_string()),
            CacheError::Store(e) => Failure::internal("the cache", e),
        }
    }
}

impl From<CacheError> for Failure {
    fn from(e: CacheError) -> Failure {
        e.to_failure()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_carries_the_current_version() {
        let f = CacheError::VersionConflict { current: Some(7) }.to_failure();
        assert_eq!(f.code, ErrorCode::VersionConflict);
        assert_eq!(f.details.unwrap()["VERSION"], 7);
    }

    #[test]
    fn a_database_error_is_internal_and_does_not_leak() {
        let f =
            CacheError::Store(StoreError::Worker("disk I/O error at page 9".into())).to_failure();
        assert_eq!(f.code, ErrorCode::Internal);
        assert!(!f.message.contains("page 9"));
    }
}

//! The engine's one wall clock: milliseconds since the Unix epoch, as stored in the database and
//! sent on the wire (`AT_MS`, `ACCEPTED_AT`, `SINCE_MS`…).
//!
//! Durations and timeouts use `tokio::time::Instant` (monotonic, pausable in tests); this is only
//! for timestamps people read or that must survive a restart. It does not format dates
//! (`commandlog::iso8601` does, for the log's export).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch; 0 if the system clock is set before 1970.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// [`now_ms`] as SQLite's integer type, for columns compared with arithmetic.
pub fn now_ms_i64() -> i64 {
    i64::try_from(now_ms()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_reads_after_2024_and_both_forms_agree() {
        let a = now_ms();
        let b = now_ms_i64();
        assert!(a > 1_700_000_000_000, "{a}");
        assert!((b as u64) >= a && (b as u64) - a < 1_000);
    }
}

//! A limit on how often the server logs something a client can cause at will (a refused
//! handshake): at most a few lines a second, the rest counted and reported with the next line
//! that goes out, so a web page hammering the port cannot fill the log.

use std::sync::Mutex;
use std::time::Instant;

/// Lines allowed per second.
const PER_SECOND: u32 = 5;

#[derive(Debug)]
pub(crate) struct LogLimit {
    state: Mutex<(Option<Instant>, u32, u64)>,
}

impl LogLimit {
    pub(crate) const fn new() -> Self {
        LogLimit {
            state: Mutex::new((None, 0, 0)),
        }
    }

    /// Whether to log now; `Some(n)` with how many were left out since the last line logged.
    pub(crate) fn allow(&self) -> Option<u64> {
        let Ok(mut s) = self.state.lock() else {
            return None;
        };
        let now = Instant::now();
        let (start, count, dropped) = &mut *s;
        if start.is_none_or(|t| now.duration_since(t).as_secs() >= 1) {
            *start = Some(now);
            *count = 0;
        }
        if *count >= PER_SECOND {
            *dropped += 1;
            return None;
        }
        *count += 1;
        Some(std::mem::take(dropped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_logs_five_lines_and_counts_the_rest() {
        let limit = LogLimit::new();
        let allowed = (0..100).filter(|_| limit.allow().is_some()).count();
        assert_eq!(allowed, PER_SECOND as usize);
    }
}

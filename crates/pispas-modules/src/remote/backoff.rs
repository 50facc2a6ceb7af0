//! How long the gateway waits before the next attempt: exponential from one second to
//! REMOTE_BACKOFF_MAX_SECS with "equal jitter" (half fixed, half random, as Home Assistant's
//! cloud client and rathole spread their retries), so a thousand tills that lost the cloud
//! together do not come back in one second. A refused token waits five times the cap.
//!
//! Pure but for the random numbers.

use std::time::Duration;

const FIRST: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub(super) struct Backoff {
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(super) fn new(max: Duration) -> Self {
        Backoff {
            max: max.max(FIRST),
            next: FIRST,
        }
    }

    /// The delay before the next attempt after a failure: between half and all of the current
    /// step, which then doubles up to the cap.
    pub(super) fn next_delay(&mut self) -> Duration {
        let step = self.next;
        self.next = (self.next * 2).min(self.max);
        jitter(step)
    }

    /// The delay after the server refused the token: five caps, jittered.
    pub(super) fn refused_delay(&self) -> Duration {
        jitter(self.max * 5)
    }

    /// Back to the first step (after a link that stayed up).
    pub(super) fn reset(&mut self) {
        self.next = FIRST;
    }
}

/// Half of `step` plus a random part of the other half.
fn jitter(step: Duration) -> Duration {
    let half = step / 2;
    let mut b = [0u8; 4];
    let r = match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b) {
        Ok(()) => u32::from_le_bytes(b) as f64 / u32::MAX as f64,
        Err(_) => 0.5,
    };
    half + half.mul_f64(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_from_about_a_second_to_the_cap_and_reset() {
        let mut b = Backoff::new(Duration::from_secs(60));
        let first = b.next_delay();
        assert!(
            first >= Duration::from_millis(500) && first <= FIRST,
            "{first:?}"
        );
        let mut last = Duration::ZERO;
        for _ in 0..20 {
            last = b.next_delay();
            assert!(last <= Duration::from_secs(60));
        }
        assert!(last >= Duration::from_secs(30), "{last:?}");
        b.reset();
        assert!(b.next_delay() <= FIRST);
        assert!(b.refused_delay() >= Duration::from_secs(150));
    }
}

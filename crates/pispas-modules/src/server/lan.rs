//! Limits per network address, for a service listening on the LAN: how many connections from
//! one address may be in their handshake at once (so one machine cannot hold every slot with
//! sockets that never finish), and how many wrong tokens it may present before it is turned
//! away for a while (so a token cannot be guessed at speed). Loopback is never limited here.
//! This file does not decide who is admitted (`security.rs` does).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wrong tokens one address may present within [`WINDOW`]...
pub const FAILURES_ALLOWED: u32 = 10;
/// ...before it is refused for [`BLOCKED_FOR`].
pub const WINDOW: Duration = Duration::from_secs(300);
pub const BLOCKED_FOR: Duration = Duration::from_secs(300);
/// Addresses remembered at most; beyond it, the ones with nothing to remember are forgotten.
const MAX_ADDRESSES: usize = 4096;

#[derive(Default)]
struct Entry {
    pending: usize,
    failures: u32,
    window_start: Option<Instant>,
    blocked_until: Option<Instant>,
}

impl Entry {
    fn forgettable(&self, now: Instant) -> bool {
        self.pending == 0
            && self.blocked_until.is_none_or(|t| t <= now)
            && self.window_start.is_none_or(|t| now - t >= WINDOW)
    }
}

/// The per-address state, shared by all connections.
pub struct LanLimits {
    max_pending: usize,
    state: Mutex<HashMap<IpAddr, Entry>>,
}

/// A handshake in progress from a network address; dropping it ends it.
pub struct Pending {
    limits: Arc<LanLimits>,
    ip: Option<IpAddr>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            if let Ok(mut state) = self.limits.state.lock() {
                if let Some(e) = state.get_mut(&ip) {
                    e.pending = e.pending.saturating_sub(1);
                }
            }
        }
    }
}

impl LanLimits {
    pub fn new(max_pending: usize) -> Arc<Self> {
        Arc::new(LanLimits {
            max_pending,
            state: Mutex::new(HashMap::new()),
        })
    }

    /// Starts a handshake from `ip`, or `None` when that address already has as many as allowed.
    pub fn begin(self: &Arc<Self>, ip: IpAddr) -> Option<Pending> {
        if is_loopback(ip) {
            return Some(Pending {
                limits: self.clone(),
                ip: None,
            });
        }
        let mut state = self.state.lock().ok()?;
        if state.len() >= MAX_ADDRESSES {
            let now = Instant::now();
            state.retain(|_, e| !e.forgettable(now));
        }
        let entry = state.entry(ip).or_default();
        if entry.pending >= self.max_pending {
            return None;
        }
        entry.pending += 1;
        Some(Pending {
            limits: self.clone(),
            ip: Some(ip),
        })
    }

    /// Whether `ip` presented too many wrong tokens lately.
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        self.state.lock().is_ok_and(|state| {
            state
                .get(&ip)
                .and_then(|e| e.blocked_until)
                .is_some_and(|t| t > now)
        })
    }

    /// Counts a wrong token from `ip`; returns whether the address is now blocked.
    pub fn failed(&self, ip: IpAddr) -> bool {
        if is_loopback(ip) {
            return false;
        }
        let now = Instant::now();
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        let e = state.entry(ip).or_default();
        if e.window_start.is_none_or(|t| now - t >= WINDOW) {
            e.window_start = Some(now);
            e.failures = 0;
        }
        e.failures += 1;
        if e.failures >= FAILURES_ALLOWED {
            e.blocked_until = Some(now + BLOCKED_FOR);
            e.failures = 0;
            e.window_start = None;
            return true;
        }
        false
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAN: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 8));

    #[test]
    fn one_address_gets_its_share_of_pending_handshakes_and_loopback_is_not_counted() {
        let limits = LanLimits::new(2);
        let a = limits.begin(LAN).unwrap();
        let _b = limits.begin(LAN).unwrap();
        assert!(limits.begin(LAN).is_none(), "a third is refused");
        assert!(
            limits.begin(OTHER).is_some(),
            "another address is not affected"
        );
        drop(a);
        assert!(
            limits.begin(LAN).is_some(),
            "a finished handshake frees its slot"
        );
        let lo = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let many: Vec<_> = (0..10).map(|_| limits.begin(lo).unwrap()).collect();
        assert_eq!(many.len(), 10);
    }

    #[test]
    fn too_many_wrong_tokens_block_that_address_only() {
        let limits = LanLimits::new(16);
        for i in 1..FAILURES_ALLOWED {
            assert!(!limits.failed(LAN), "attempt {i}");
            assert!(!limits.blocked(LAN));
        }
        assert!(limits.failed(LAN));
        assert!(limits.blocked(LAN));
        assert!(!limits.blocked(OTHER));
        assert!(!limits.failed(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)));
    }
}

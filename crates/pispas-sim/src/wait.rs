//! Waiting for a simulator to reach a condition without sleeping: every observable change
//! bumps a version counter, and a waiter re-checks its condition on each bump until it holds
//! or the timeout (a guard against hanging tests, not a measurement) passes.

use std::time::Duration;
use tokio::sync::watch;

/// A waiter gave up.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {waited:?} waiting for {what}")]
pub struct WaitTimeout {
    pub waited: Duration,
    pub what: String,
}

/// The change counter a simulator bumps.
#[derive(Debug)]
pub struct Changes {
    tx: watch::Sender<u64>,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            tx: watch::channel(0).0,
        }
    }
}

impl Changes {
    pub fn bump(&self) {
        self.tx.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// A receiver that sees every later bump (for loops that wait on a change or a timer).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// Calls `check` now and after every change until it returns Some, or fails after
    /// `timeout` with a `WaitTimeout` naming `what`.
    pub async fn wait_until<T>(
        &self,
        what: impl Into<String>,
        timeout: Duration,
        mut check: impl FnMut() -> Option<T>,
    ) -> Result<T, WaitTimeout> {
        let mut rx = self.tx.subscribe();
        let result = tokio::time::timeout(timeout, async {
            loop {
                rx.mark_unchanged();
                if let Some(value) = check() {
                    return value;
                }
                // The sender lives as long as `self`, so this cannot fail while we wait.
                let _ = rx.changed().await;
            }
        })
        .await;
        result.map_err(|_| WaitTimeout {
            waited: timeout,
            what: what.into(),
        })
    }
}

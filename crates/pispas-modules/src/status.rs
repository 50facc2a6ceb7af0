//! The engine's live status: counters, the last failures, warnings to show until the next
//! restart, and the last `DEVICE_STATE` of every device. A cheap handle every part that reports
//! or reads status is given (the server counts, BASE and the desktop shell read).
//!
//! It does not know the modules or the server; BASE composes its STATUS reply from this handle,
//! the server's facts and the router's directory.

use crate::clock::now_ms;
use crate::events::{DeviceState, EventBus};
use crate::protocol::Failure;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// How many recent failures the status window can show.
const LAST_ERRORS: usize = 20;

/// A cheap, cloneable handle to the engine's status.
#[derive(Clone, Debug)]
pub struct EngineStatus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    started: Instant,
    connections_open: AtomicUsize,
    connections_total: AtomicU64,
    requests_ok: AtomicU64,
    requests_failed: AtomicU64,
    last_errors: Mutex<VecDeque<Value>>,
    warnings: Mutex<Vec<String>>,
    devices: Mutex<BTreeMap<String, RecordedDevice>>,
    /// The remote gateway's link as BASE STATUS shows it; `None` while the gateway is off.
    remote: Mutex<Option<Value>>,
}

/// A device's last state, with who reported it and when.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedDevice {
    pub service: String,
    pub state: DeviceState,
    pub at_ms: u64,
}

impl RecordedDevice {
    /// `{DEVICE, SERVICE, STATE, LEVEL, DETAIL, AT_MS}` as STATUS.DEVICES lists it.
    pub fn to_json(&self) -> Value {
        json!({
            "DEVICE": self.state.device,
            "SERVICE": self.service,
            "STATE": self.state.state.as_str(),
            "LEVEL": self.state.state.severity().as_str(),
            "DETAIL": self.state.detail,
            "AT_MS": self.at_ms,
        })
    }
}

impl EngineStatus {
    /// A fresh status, started now.
    pub fn new(started: Instant) -> Self {
        EngineStatus {
            inner: Arc::new(Inner {
                started,
                connections_open: AtomicUsize::new(0),
                connections_total: AtomicU64::new(0),
                requests_ok: AtomicU64::new(0),
                requests_failed: AtomicU64::new(0),
                last_errors: Mutex::new(VecDeque::new()),
                warnings: Mutex::new(Vec::new()),
                devices: Mutex::new(BTreeMap::new()),
                remote: Mutex::new(None),
            }),
        }
    }

    pub fn uptime_ms(&self) -> u64 {
        u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn connection_opened(&self) {
        self.inner.connections_open.fetch_add(1, Ordering::Relaxed);
        self.inner.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.inner.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn request_done(&self, ok: bool) {
        let counter = if ok {
            &self.inner.requests_ok
        } else {
            &self.inner.requests_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Clients connected right now.
    pub fn connections_open(&self) -> usize {
        self.inner.connections_open.load(Ordering::Relaxed)
    }

    /// `CONNECTIONS_TOTAL`, `REQUESTS_OK`, `REQUESTS_FAILED`.
    pub fn counters(&self) -> (u64, u64, u64) {
        (
            self.inner.connections_total.load(Ordering::Relaxed),
            self.inner.requests_ok.load(Ordering::Relaxed),
            self.inner.requests_failed.load(Ordering::Relaxed),
        )
    }

    /// Adds a sentence the status window shows until the next restart (a fallback, a page port
    /// that was taken).
    pub fn add_warning(&self, warning: impl Into<String>) {
        if let Ok(mut w) = self.inner.warnings.lock() {
            w.push(warning.into());
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        self.inner
            .warnings
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }

    /// Remembers a FAILURE for the status window (the last few only).
    pub fn record_failure(&self, target: &str, action: &str, failure: &Failure) {
        if let Ok(mut errors) = self.inner.last_errors.lock() {
            if errors.len() == LAST_ERRORS {
                errors.pop_front();
            }
            errors.push_back(json!({ "AT_MS": now_ms(), "TARGET": target, "ACTION": action, "CODE": failure.code.as_str(), "MESSAGE": failure.message }));
        }
    }

    pub fn last_errors(&self) -> Vec<Value> {
        self.inner
            .last_errors
            .lock()
            .map(|e| e.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Remembers a device's state, as reported by `service`.
    pub fn record_device(&self, service: &str, state: DeviceState) {
        if let Ok(mut d) = self.inner.devices.lock() {
            d.insert(
                format!("{service}/{}", state.device),
                RecordedDevice {
                    service: service.to_string(),
                    state,
                    at_ms: now_ms(),
                },
            );
        }
    }

    /// Records the remote gateway's link (`{STATE, DETAIL, SINCE_MS, …}`), for BASE STATUS.
    pub fn set_remote(&self, link: Value) {
        if let Ok(mut r) = self.inner.remote.lock() {
            *r = Some(link);
        }
    }

    /// The remote gateway's link; `null` when the gateway is off.
    pub fn remote(&self) -> Value {
        self.inner
            .remote
            .lock()
            .ok()
            .and_then(|r| r.clone())
            .unwrap_or(Value::Null)
    }

    /// The last state of every device that reported one, in name order.
    pub fn devices(&self) -> Vec<RecordedDevice> {
        self.inner
            .devices
            .lock()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Keeps the last `DEVICE_STATE` of each device, whatever module sent it, until `shutdown`.
    pub async fn track_devices(self, events: EventBus, shutdown: CancellationToken) {
        use tokio::sync::broadcast::error::RecvError;
        let mut rx = events.subscribe();
        loop {
            let ev = tokio::select! {
                _ = shutdown.cancelled() => return,
                ev = rx.recv() => ev,
            };
            match ev {
                // The command log's live view wraps events in LOG_ENTRY, so it never counts twice.
                Ok(ev) => {
                    if let Some(state) = DeviceState::from_event(&ev.data) {
                        self.record_device(&ev.service, state);
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Audience, DeviceStatus};
    use crate::protocol::ErrorCode;

    #[test]
    fn only_the_last_twenty_failures_are_kept() {
        let status = EngineStatus::new(Instant::now());
        for i in 0..25 {
            status.record_failure(
                "PRINT",
                &format!("A{i}"),
                &Failure::new(ErrorCode::Timeout, "x"),
            );
        }
        let errors = status.last_errors();
        assert_eq!(errors.len(), LAST_ERRORS);
        assert_eq!(errors[0]["ACTION"], "A5");
    }

    #[tokio::test]
    async fn a_published_device_state_is_remembered_with_its_level() {
        let status = EngineStatus::new(Instant::now());
        let bus = EventBus::new();
        let stop = CancellationToken::new();
        let task = tokio::spawn(status.clone().track_devices(bus.clone(), stop.clone()));
        // On this single-threaded test runtime the tracker subscribes at its first poll.
        tokio::task::yield_now().await;
        let state = DeviceState::new("PRINT:BAR", DeviceStatus::PaperLow, "paper low");
        assert_eq!(bus.publish(state.event("PRINT", Audience::All)), 1);
        tokio::task::yield_now().await;
        let devices = status.devices();
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0].to_json()["LEVEL"], "ATTENTION");
        stop.cancel();
        task.await.unwrap();
    }
}

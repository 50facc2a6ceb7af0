//! A device's link: its connection state for STATUS and health, and the DEVICE_STATE events
//! announcing disconnects and reconnects.
//!
//! Drivers own their reconnect loops (with [`super::backoff::Backoff`]); this file holds what
//! they share so every device reports its link the same way.

use crate::clock::now_ms;
use crate::events::{Audience, DeviceState, DeviceStatus, EventBus};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// Connection state, shared between a driver and the service answering STATUS.
#[derive(Debug, Clone, Default)]
pub struct LinkState {
    inner: Arc<Mutex<LinkInner>>,
}

#[derive(Debug, Default)]
struct LinkInner {
    connected: bool,
    since_ms: u64,
    error: Option<String>,
    announced: Option<bool>,
}

impl LinkState {
    pub fn is_connected(&self) -> bool {
        self.inner.lock().map(|i| i.connected).unwrap_or(false)
    }

    /// Why the device is not connected, if it is not.
    pub fn error(&self) -> Option<String> {
        self.inner
            .lock()
            .ok()
            .and_then(|i| if i.connected { None } else { i.error.clone() })
    }

    /// Records a state; publishes DEVICE_STATE on `topic` only when it differs from the last one
    /// announced, so a device that stays unplugged does not flood the bus.
    pub fn set(&self, connected: bool, detail: &str, bus: &EventBus, service: &str, topic: &str) {
        let announce = match self.inner.lock() {
            Ok(mut i) => {
                i.connected = connected;
                i.since_ms = now_ms();
                i.error = (!connected).then(|| detail.to_string());
                let changed = i.announced != Some(connected);
                i.announced = Some(connected);
                changed
            }
            Err(_) => false,
        };
        if announce {
            let state = if connected {
                tracing::info!(device = topic, "{detail}");
                DeviceStatus::Connected
            } else {
                tracing::warn!(device = topic, "device unavailable: {detail}");
                DeviceStatus::Disconnected
            };
            bus.publish(
                DeviceState::new(topic, state, detail)
                    .event(service, Audience::Topic(topic.to_string())),
            );
        }
    }

    /// `{CONNECTED, SINCE_MS, ERROR}` for STATUS.
    pub fn to_json(&self) -> Value {
        match self.inner.lock() {
            Ok(i) => json!({ "CONNECTED": i.connected, "SINCE_MS": i.since_ms, "ERROR": i.error }),
            Err(_) => json!({ "CONNECTED": false }),
        }
    }
}

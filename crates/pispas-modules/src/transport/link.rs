//! A device's link: where it is (serial port or a serial-over-TCP device server), its connection
//! state for STATUS and health, and the DEVICE_STATE events announcing disconnects and reconnects.
//!
//! Drivers own their reconnect loops (with [`super::backoff::Backoff`]); this file holds what
//! they share so every device reports its link the same way.

use super::serial::{self, SerialSettings};
use super::uri::{DeviceUri, UriError};
use super::BoxedIo;
use crate::events::{Audience, Event, EventBus};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a device's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A local serial port: `/dev/ttyUSB0`, a pty link, `COM3`.
    Serial(String),
    /// A serial device server (`host:port`), e.g. a scale behind a Moxa box.
    Tcp(String),
}

impl Endpoint {
    /// `serial://…` or `tcp://host:port`; fails for other schemes.
    pub fn from_uri(uri: &DeviceUri) -> Result<Endpoint, UriError> {
        match uri.scheme.as_str() {
            "serial" => Ok(Endpoint::Serial(uri.path.clone())),
            "tcp" => Ok(Endpoint::Tcp(uri.path.clone())),
            other => Err(UriError::BadValue {
                uri: uri.to_string(),
                key: "scheme".into(),
                value: other.into(),
                why: "expected serial:// or tcp://".into(),
            }),
        }
    }

    /// Opens the device; the settings matter only for real serial ports.
    ///
    /// Fails when the port is missing or busy, or the server refuses the connection.
    pub async fn open(&self, settings: &SerialSettings) -> std::io::Result<BoxedIo> {
        match self {
            Endpoint::Serial(path) => serial::open(path, settings),
            Endpoint::Tcp(addr) => {
                let s = tokio::net::TcpStream::connect(addr.as_str()).await?;
                s.set_nodelay(true)?;
                Ok(Box::new(s))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Endpoint::Serial(p) => p.clone(),
            Endpoint::Tcp(a) => format!("tcp://{a}"),
        }
    }
}

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
                "CONNECTED"
            } else {
                "DISCONNECTED"
            };
            if connected {
                tracing::info!(device = topic, "{detail}");
            } else {
                tracing::warn!(device = topic, "device unavailable: {detail}");
            }
            bus.publish(Event {
                service: service.to_string(),
                uuid: Value::Null,
                audience: Audience::Topic(topic.to_string()),
                data: json!({ "EVENT": "DEVICE_STATE", "DEVICE": topic, "STATE": state, "DETAIL": detail }),
            });
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

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

//! The engine-owned event bus: every EVENT (weights, tags, job progress, heartbeats) goes through
//! here. The server fans events out to the connections that asked for them; the desktop shell and
//! the command log subscribe to the same bus.
//!
//! It is a broadcast channel: a slow subscriber loses old events (and is told how many) rather
//! than slowing the publisher. Durable state (print jobs, payments) never lives only in an event.
//!
//! `DEVICE_STATE`, the one event every device module sends, is built and read only through
//! [`DeviceState`], so the status window, the tray and the modules agree on its words.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, Notify};

/// How many events a subscriber may fall behind before it starts losing the oldest.
const CAPACITY: usize = 4096;

/// Who an event is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Connections that subscribed to this topic (see [`crate::router::RequestContext::subscribe`]).
    /// The event's `MESSAGE_UUID` is the UUIDV4 of the subscribing request.
    Topic(String),
    /// One connection only (progress of a request it made).
    Connection(u64),
    /// Every connection.
    All,
    /// Nobody on the WebSocket; in-process subscribers (the desktop shell) only.
    Internal,
}

/// One event, as published by a module.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `SERVICE_NAME` of the envelope (the module's TARGET).
    pub service: String,
    /// `MESSAGE_UUID` when the audience is a connection; ignored for topics (each subscriber
    /// gets its own subscription's UUIDV4).
    pub uuid: Value,
    pub audience: Audience,
    /// `MESSAGE_DATA`; by convention an object with an `EVENT` name field.
    pub data: Value,
}

/// A cheap, cloneable handle to the bus.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
    watchers: Arc<Watchers>,
}

/// How many connections watch each topic, so a device polls only while someone looks.
#[derive(Debug, Default)]
struct Watchers {
    counts: Mutex<HashMap<String, usize>>,
    changed: Notify,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        EventBus {
            tx,
            watchers: Arc::default(),
        }
    }

    /// Connections currently subscribed to `topic`.
    pub fn watchers(&self, topic: &str) -> usize {
        self.watchers
            .counts
            .lock()
            .map(|m| m.get(topic).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Resolves the next time any topic gains or loses a watcher (no polling while idle).
    pub async fn watchers_changed(&self) {
        self.watchers.changed.notified().await
    }

    /// Counts a watcher in (`delta` 1) or out (`delta` -1); called by connection subscriptions.
    pub(crate) fn adjust_watchers(&self, topic: &str, delta: isize) {
        if let Ok(mut counts) = self.watchers.counts.lock() {
            let n = counts.entry(topic.to_string()).or_insert(0);
            *n = n.saturating_add_signed(delta);
            if *n == 0 {
                counts.remove(topic);
            }
        }
        self.watchers.changed.notify_waiters();
    }

    /// Publishes an event; returns how many subscribers will see it (0 is fine).
    pub fn publish(&self, event: Event) -> usize {
        self.tx.send(Arc::new(event)).unwrap_or(0)
    }

    /// A new subscriber that sees every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

/// The EVENT name of a device's state change (docs/protocol.md, "DEVICE_STATE events").
pub const DEVICE_STATE: &str = "DEVICE_STATE";

/// How serious a state is, for the tray's colour and the status window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Working.
    Ok,
    /// Working, but someone should look (amber).
    Attention,
    /// Not working (red, and a notification when it was fine before).
    Problem,
}

impl Severity {
    /// The word sent in `LEVEL` fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Attention => "ATTENTION",
            Severity::Problem => "PROBLEM",
        }
    }
}

/// The states a device reports in `DEVICE_STATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceStatus {
    /// A serial device's link is up.
    Connected,
    /// A serial device's link is down (unplugged, port gone, server unreachable).
    Disconnected,
    /// A printer that can print.
    Ready,
    /// A printer whose paper is nearly out.
    PaperLow,
    PaperOut,
    CoverOpen,
    /// A printer reporting a mechanical, cutter or unrecoverable error.
    Error,
    /// A printer that cannot be reached or says it is offline.
    Offline,
    /// Something a person must resolve before the device is used again (a payment whose outcome
    /// is unknown, for example); the device itself may be reachable.
    NeedsAttention,
}

impl DeviceStatus {
    pub const ALL: [DeviceStatus; 9] = [
        DeviceStatus::Connected,
        DeviceStatus::Disconnected,
        DeviceStatus::Ready,
        DeviceStatus::PaperLow,
        DeviceStatus::PaperOut,
        DeviceStatus::CoverOpen,
        DeviceStatus::Error,
        DeviceStatus::Offline,
        DeviceStatus::NeedsAttention,
    ];

    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Connected => "CONNECTED",
            DeviceStatus::Disconnected => "DISCONNECTED",
            DeviceStatus::Ready => "READY",
            DeviceStatus::PaperLow => "PAPER_LOW",
            DeviceStatus::PaperOut => "PAPER_OUT",
            DeviceStatus::CoverOpen => "COVER_OPEN",
            DeviceStatus::Error => "ERROR",
            DeviceStatus::Offline => "OFFLINE",
            DeviceStatus::NeedsAttention => "NEEDS_ATTENTION",
        }
    }

    /// The state for a wire word; `None` for a word no module sends.
    pub fn parse(word: &str) -> Option<DeviceStatus> {
        DeviceStatus::ALL.into_iter().find(|s| s.as_str() == word)
    }

    pub fn severity(self) -> Severity {
        match self {
            DeviceStatus::Connected | DeviceStatus::Ready => Severity::Ok,
            DeviceStatus::PaperLow | DeviceStatus::NeedsAttention => Severity::Attention,
            DeviceStatus::Disconnected
            | DeviceStatus::PaperOut
            | DeviceStatus::CoverOpen
            | DeviceStatus::Error
            | DeviceStatus::Offline => Severity::Problem,
        }
    }
}

/// A device's state change: the payload of a `DEVICE_STATE` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    /// The device as the POS names it, prefixed by its kind (`SCALE:DEFAULT`, `PRINT:KITCHEN`).
    pub device: String,
    pub state: DeviceStatus,
    /// One sentence a cashier can read.
    pub detail: String,
}

impl DeviceState {
    pub fn new(device: impl Into<String>, state: DeviceStatus, detail: impl Into<String>) -> Self {
        DeviceState {
            device: device.into(),
            state,
            detail: detail.into(),
        }
    }

    /// The event announcing this state, from `service`, to `audience`.
    pub fn event(&self, service: &str, audience: Audience) -> Event {
        Event {
            service: service.to_string(),
            uuid: Value::Null,
            audience,
            data: json!({
                "EVENT": DEVICE_STATE,
                "DEVICE": self.device,
                "STATE": self.state.as_str(),
                "DETAIL": self.detail,
            }),
        }
    }

    /// Reads a `DEVICE_STATE` event's data; `None` for any other event (or a malformed one).
    pub fn from_event(data: &Value) -> Option<DeviceState> {
        if data.get("EVENT").and_then(Value::as_str) != Some(DEVICE_STATE) {
            return None;
        }
        let device = data.get("DEVICE")?.as_str()?;
        let state = DeviceStatus::parse(data.get("STATE")?.as_str()?)?;
        let detail = data.get("DETAIL").and_then(Value::as_str).unwrap_or("");
        Some(DeviceState::new(device, state, detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_subscriber_receives_what_is_published_after_it_subscribed() {
        let bus = EventBus::new();
        assert_eq!(bus.publish(ev("lost")), 0);
        let mut rx = bus.subscribe();
        assert_eq!(bus.publish(ev("seen")), 1);
        assert_eq!(rx.recv().await.unwrap().data["EVENT"], "seen");
    }

    #[test]
    fn watchers_are_counted_per_topic() {
        let bus = EventBus::new();
        bus.adjust_watchers("SCALE:DEFAULT", 1);
        bus.adjust_watchers("SCALE:DEFAULT", 1);
        assert_eq!(bus.watchers("SCALE:DEFAULT"), 2);
        bus.adjust_watchers("SCALE:DEFAULT", -1);
        bus.adjust_watchers("SCALE:DEFAULT", -1);
        assert_eq!(bus.watchers("SCALE:DEFAULT"), 0);
        assert_eq!(bus.watchers("RFID:DEFAULT"), 0);
    }

    #[test]
    fn a_device_state_reads_back_from_its_own_event() {
        for state in DeviceStatus::ALL {
            let ds = DeviceState::new("SCALE:DEFAULT", state, "a sentence");
            let ev = ds.event("SCALE", Audience::All);
            assert_eq!(ev.data["STATE"], state.as_str());
            assert_eq!(DeviceState::from_event(&ev.data), Some(ds));
        }
    }

    #[test]
    fn other_events_and_unknown_words_are_not_device_states() {
        assert_eq!(DeviceState::from_event(&json!({"EVENT": "WEIGHT"})), None);
        let odd = json!({"EVENT": DEVICE_STATE, "DEVICE": "X", "STATE": "SLEEPY"});
        assert_eq!(DeviceState::from_event(&odd), None);
    }

    #[test]
    fn paper_low_needs_attention_and_paper_out_is_a_problem() {
        assert_eq!(DeviceStatus::PaperLow.severity(), Severity::Attention);
        assert_eq!(DeviceStatus::PaperOut.severity(), Severity::Problem);
        assert_eq!(DeviceStatus::Connected.severity(), Severity::Ok);
    }

    fn ev(name: &str) -> Event {
        Event {
            service: "BASE".into(),
            uuid: Value::Null,
            audience: Audience::All,
            data: json!({"EVENT": name}),
        }
    }
}

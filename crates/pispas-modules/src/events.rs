//! The engine-owned event bus: every EVENT (weights, tags, job progress, heartbeats) goes through
//! here. The server fans events out to the connections that asked for them; the desktop shell and
//! the command log subscribe to the same bus.
//!
//! It is a broadcast channel: a slow subscriber loses old events (and is told how many) rather
//! than slowing the publisher. Durable state (print jobs, payments) never lives only in an event.

use serde_json::Value;
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

    fn ev(name: &str) -> Event {
        Event {
            service: "BASE".into(),
            uuid: Value::Null,
            audience: Audience::All,
            data: json!({"EVENT": name}),
        }
    }
}

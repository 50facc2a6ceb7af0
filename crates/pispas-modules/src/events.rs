//! The engine-owned event bus: every EVENT (weights, tags, job progress, heartbeats) goes through
//! here. The server fans events out to the connections that asked for them; the desktop shell and
//! the command log subscribe to the same bus.
//!
//! It is a broadcast channel: a slow subscriber loses old events (and is told how many) rather
//! than slowing the publisher. Durable state (print jobs, payments) never lives only in an event.

use serde_json::Value;
use std::sync::Arc;
use tokio::sync::broadcast;

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
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        EventBus { tx }
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

    fn ev(name: &str) -> Event {
        Event {
            service: "BASE".into(),
            uuid: Value::Null,
            audience: Audience::All,
            data: json!({"EVENT": name}),
        }
    }
}

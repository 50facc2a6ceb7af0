//! CACHE: a durable key/value store for the POS, so its state survives a browser wipe, a crash
//! of the service or a power cut. `action.rs` parses requests, `store.rs` owns the table and its
//! one writer (group commit), `error.rs` maps failures; this file answers SET, GET, DELETE, LIST,
//! CLEAR, STATS and SUBSCRIBE/UNSUBSCRIBE (`CACHE` events when another client changes a key).
//!
//! Keys live in the namespace of the client's Origin (native clients share one of their own),
//! or in the shared namespace with `SHARED: true`; one origin never reads another's keys. It does
//! not sync between tills (the store is this computer's).

mod action;
pub mod config;
mod error;
mod store;

use crate::clock::now_ms_i64;
use crate::context::{ModuleContext, ModuleError};
use crate::events::{Audience, Event, EventBus};
use crate::protocol::{Failure, Request};
use crate::router::{BoxFuture, Health, HealthState, Outcome, RequestContext, Service};
use action::{Action, Name, Parsed};
use config::{CacheConfig, MAX_KEY_CHARS};
use error::CacheError;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use store::{CacheStore, Entry, Refused, Write, Written};
use tokio_util::sync::CancellationToken;

/// The namespace of `SHARED: true` (no Origin starts with `*`).
const SHARED_NS: &str = "*";
/// The namespace of native clients (no Origin header; no Origin is a bare word).
const NATIVE_NS: &str = "native";

/// The CACHE module; a cheap handle.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    store: CacheStore,
    config: CacheConfig,
    events: EventBus,
    subscribers: Mutex<Vec<Subscriber>>,
}

/// One connection's SUBSCRIBE to a prefix of a namespace.
#[derive(Debug, Clone)]
struct Subscriber {
    connection: u64,
    ns: String,
    prefix: String,
    uuid: String,
    /// This connection's own topic: the bus counts it out when the connection ends.
    topic: String,
}

impl Cache {
    /// Opens the table and starts the writer and the expiry sweep.
    ///
    /// Fails naming the key of an invalid limit, or when the table cannot be opened.
    pub fn start(ctx: &ModuleContext) -> Result<Cache, ModuleError> {
        let config = CacheConfig::from_values(&ctx.config.values).map_err(ModuleError::Config)?;
        let store = CacheStore::open(&ctx.store, &config, &ctx.tracker, ctx.shutdown.clone())?;
        ctx.tracker.spawn(sweep(
            store.clone(),
            config.sweep_every,
            ctx.shutdown.clone(),
        ));
        Ok(Cache {
            inner: Arc::new(Inner {
                store,
                config,
                events: ctx.events.clone(),
                subscribers: Mutex::default(),
            }),
        })
    }

    async fn run(
        &self,
        parsed: Parsed,
        uuid: &str,
        ctx: &RequestContext,
    ) -> Result<Value, CacheError> {
        let shared = parsed.shared;
        let ns = namespace(ctx, shared);
        let store = &self.inner.store;
        match parsed.action {
            Action::Set {
                key,
                value,
                ttl,
                if_version,
            } => {
                let expires_at = ttl.map(|t| now_ms_i64().saturating_add(t.as_millis() as i64));
                let written = store
                    .write(Write::Set {
                        ns: ns.clone(),
                        key: key.clone(),
                        value: value.clone(),
                        expires_at,
                        if_version,
                    })
                    .await?;
                let Written::Set(meta) = refused(written)? else {
                    return Err(unexpected());
                };
                let reply = json!({
                    "KEY": key,
                    "VERSION": meta.version,
                    "UPDATED_AT": meta.updated_at,
                    "EXPIRES_AT": meta.expires_at,
                });
                let mut event = reply.clone();
                event["EVENT"] = json!("CACHE");
                event["CHANGE"] = json!("SET");
                event["SHARED"] = json!(shared);
                event["VALUE"] = serde_json::from_str(&value).unwrap_or(Value::Null);
                self.notify(ctx.connection_id, &ns, Some(&key), None, event);
                Ok(reply)
            }
            Action::Get { key } => Ok(match store.get(&ns, &key)? {
                Some(e) => get_reply(&e),
                None => json!({
                    "KEY": key, "FOUND": false, "VALUE": null, "VERSION": null,
                    "UPDATED_AT": null, "EXPIRES_AT": null,
                }),
            }),
            Action::Delete { key, if_version } => {
                let written = store
                    .write(Write::Delete {
                        ns: ns.clone(),
                        key: key.clone(),
                        if_version,
                    })
                    .await?;
                let Written::Deleted(deleted) = refused(written)? else {
                    return Err(unexpected());
                };
                if deleted {
                    let event =
                        json!({"EVENT": "CACHE", "CHANGE": "DELETE", "KEY": key, "SHARED": shared});
                    self.notify(ctx.connection_id, &ns, Some(&key), None, event);
                }
                Ok(json!({ "KEY": key, "DELETED": deleted }))
            }
            Action::Clear { prefix } => {
                let written = store
                    .write(Write::Clear {
                        ns: ns.clone(),
                        prefix: prefix.clone(),
                    })
                    .await?;
                let Written::Cleared(n) = refused(written)? else {
                    return Err(unexpected());
                };
                if n > 0 {
                    let event = json!({"EVENT": "CACHE", "CHANGE": "CLEAR", "PREFIX": prefix, "DELETED": n, "SHARED": shared});
                    self.notify(ctx.connection_id, &ns, None, Some(&prefix), event);
                }
                Ok(json!({ "PREFIX": prefix, "DELETED": n }))
            }
            Action::List {
                prefix,
                limit,
                after,
                values,
            } => {
                // One more than asked says whether there is a next page.
                let mut rows = store.list(ns, prefix.clone(), after, limit + 1).await?;
                let more = rows.len() > limit;
                rows.truncate(limit);
                let next = if more {
                    rows.last().map(|e| e.key.clone())
                } else {
                    None
                };
                let items: Vec<Value> = rows
                    .iter()
                    .map(|e| {
                        let mut item = json!({
                            "KEY": e.key,
                            "VERSION": e.meta.version,
                            "UPDATED_AT": e.meta.updated_at,
                            "EXPIRES_AT": e.meta.expires_at,
                            "BYTES": e.size,
                        });
                        if values {
                            item["VALUE"] = serde_json::from_str(&e.value).unwrap_or(Value::Null);
                        }
                        item
                    })
                    .collect();
                Ok(json!({ "PREFIX": prefix, "ITEMS": items, "NEXT": next }))
            }
            Action::Stats => {
                let (mine, all) = store.counts(ns).await?;
                Ok(json!({
                    "SHARED": shared,
                    "KEYS": mine.keys,
                    "BYTES": mine.bytes,
                    "TOTAL_KEYS": all.keys,
                    "TOTAL_BYTES": all.bytes,
                    "MAX_BYTES": self.inner.config.max_bytes,
                    "MAX_VALUE_BYTES": self.inner.config.max_value_bytes,
                    "MAX_KEY_CHARS": MAX_KEY_CHARS,
                }))
            }
            Action::Subscribe { prefix } => {
                let topic = topic(ctx.connection_id, &ns, &prefix);
                ctx.subscribe(&topic, uuid);
                if let Ok(mut subs) = self.inner.subscribers.lock() {
                    subs.retain(|s| s.topic != topic);
                    subs.push(Subscriber {
                        connection: ctx.connection_id,
                        ns,
                        prefix: prefix.clone(),
                        uuid: uuid.to_string(),
                        topic: topic.clone(),
                    });
                }
                Ok(json!({ "PREFIX": prefix, "SHARED": shared, "TOPIC": topic }))
            }
            Action::Unsubscribe { prefix } => {
                let topic = topic(ctx.connection_id, &ns, &prefix);
                if let Ok(mut subs) = self.inner.subscribers.lock() {
                    subs.retain(|s| s.topic != topic);
                }
                Ok(json!({ "WAS_SUBSCRIBED": ctx.unsubscribe(&topic) }))
            }
        }
    }

    /// Sends `event` to every other connection subscribed to a prefix of `key` (or, for a CLEAR
    /// of `prefix`, to every subscription the cleared range overlaps) in namespace `ns`.
    fn notify(
        &self,
        writer: u64,
        ns: &str,
        key: Option<&str>,
        cleared: Option<&str>,
        event: Value,
    ) {
        let bus = &self.inner.events;
        let Ok(mut subs) = self.inner.subscribers.lock() else {
            return;
        };
        subs.retain(|s| bus.watchers(&s.topic) > 0);
        for s in subs.iter() {
            let hit = match (key, cleared) {
                (Some(k), _) => k.starts_with(&s.prefix),
                (None, Some(p)) => p.starts_with(&s.prefix) || s.prefix.starts_with(p),
                (None, None) => false,
            };
            if s.connection != writer && s.ns == ns && hit {
                bus.publish(Event {
                    service: "CACHE".into(),
                    uuid: Value::String(s.uuid.clone()),
                    audience: Audience::Connection(s.connection),
                    data: event.clone(),
                });
            }
        }
    }
}

impl Service for Cache {
    fn target(&self) -> &'static str {
        "CACHE"
    }

    fn actions(&self) -> &'static [&'static str] {
        Name::NAMES
    }

    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        let this = self.clone();
        Box::pin(async move {
            let parsed = Action::parse(&request, this.inner.config.max_value_bytes)?;
            this.run(parsed, &request.uuid, &ctx)
                .await
                .map_err(Failure::from)
        })
    }

    fn health(&self) -> Health {
        let (used, max) = self.inner.store.usage();
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        Health {
            state: if used.saturating_mul(10) > max.saturating_mul(9) {
                HealthState::Degraded
            } else {
                HealthState::Ok
            },
            detail: format!("{:.1} of {:.0} MiB used", mib(used), mib(max)),
        }
    }
}

/// The namespace a request reads and writes: the shared one, the Origin's, or the native one.
fn namespace(ctx: &RequestContext, shared: bool) -> String {
    if shared {
        return SHARED_NS.to_string();
    }
    match &ctx.origin {
        Some(origin) => origin.to_ascii_lowercase(),
        None => NATIVE_NS.to_string(),
    }
}

fn topic(connection: u64, ns: &str, prefix: &str) -> String {
    format!("CACHE:{connection}:{ns}:{prefix}")
}

fn get_reply(e: &Entry) -> Value {
    json!({
        "KEY": e.key,
        "FOUND": true,
        "VALUE": serde_json::from_str::<Value>(&e.value).unwrap_or(Value::Null),
        "VERSION": e.meta.version,
        "UPDATED_AT": e.meta.updated_at,
        "EXPIRES_AT": e.meta.expires_at,
    })
}

fn refused(outcome: store::Outcome) -> Result<Written, CacheError> {
    outcome.map_err(|r| match r {
        Refused::VersionConflict { current } => CacheError::VersionConflict { current },
        Refused::Full { needed, max } => CacheError::Full { needed, max },
    })
}

/// The writer answered a write with another kind of outcome: a bug.
fn unexpected() -> CacheError {
    CacheError::Store(crate::store::StoreError::Worker(
        "the cache writer answered with the wrong kind of outcome".into(),
    ))
}

/// Removes expired rows every `every` until shutdown.
async fn sweep(store: CacheStore, every: std::time::Duration, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match store.write(Write::Sweep).await {
            Ok(Ok(Written::Swept(n))) if n > 0 => {
                tracing::debug!(rows = n, "expired cache keys removed")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expired cache keys could not be removed"),
        }
    }
}

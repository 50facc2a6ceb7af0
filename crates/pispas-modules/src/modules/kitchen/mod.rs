//! ORDER_KITCHEN: the kitchen display's tickets, owned by the engine. The POS SENDs, UPDATEs
//! and VOIDs tickets; displays LIST, SUBSCRIBE (with LAST_SEQ replay: what they missed, or a
//! snapshot), and mark lines done, BUMP, RECALL, SERVE and ACK. Every change is committed to
//! SQLite (tickets, events, the request's UUIDV4 as a UNIQUE key) before the reply, then
//! published as `EVENT: "KITCHEN"` to subscribers and to the connection that sent the ticket.
//!
//! `state.rs` holds the rules (pure), `store.rs` the rows, `action.rs` the parsing, `chit.rs`
//! and `printers.rs` the kitchen printers (KITCHEN_PRINT_*, through PRINT's queue). Not here
//! yet: the LAN listener for tablets (KITCHEN_LAN).

mod action;
mod chit;
pub mod config;
mod displays;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod model;
mod printers;
mod state;
mod store;

use crate::clock::now_ms;
use crate::context::{ModuleContext, ModuleError};
use crate::events::{Audience, Event, EventBus};
use crate::protocol::{Failure, Request};
use crate::router::{BoxFuture, Health, Outcome, RequestContext, Service};
use crate::store::group_commit::GroupCommit;
use crate::store::Store;
use action::{Action, Name};
use config::{KitchenConfig, PrintWhen};
use error::KitchenError;
use printers::Printers;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::Write;

/// TARGET of the module.
pub const TARGET: &str = "ORDER_KITCHEN";
/// The topic every kitchen event goes to.
const TOPIC: &str = "KITCHEN";
/// Prefix of the topics that only count displays per station (no event is sent on them).
const DISPLAY_TOPIC: &str = "KITCHEN_DISPLAY:";
/// The station word of a display that shows every station.
const EXPO: &str = "EXPO";

struct Shared {
    kitchen: state::Kitchen,
    /// UUIDV4 → (when, ms; the reply) of every mutating request (idempotency).
    keys: HashMap<String, (u64, Value)>,
    /// TICKET → (connection, UUIDV4 of its SEND): who hears about the ticket besides subscribers.
    origins: HashMap<String, (u64, String)>,
}

impl Shared {
    /// Forgets, in memory, what KITCHEN_RETENTION no longer keeps: closed tickets, their
    /// origins, and request keys older than `cutoff`. Returns how many tickets went.
    fn sweep(&mut self, cutoff: u64) -> usize {
        let gone = self.kitchen.prune(cutoff);
        for id in &gone {
            self.origins.remove(id);
        }
        self.keys.retain(|_, (at, _)| *at >= cutoff);
        gone.len()
    }
}

/// How often retention is enforced while running: a quarter of KITCHEN_RETENTION, between a
/// second and ten minutes.
fn sweep_every(retention_ms: u64) -> std::time::Duration {
    std::time::Duration::from_millis((retention_ms / 4).clamp(1_000, 600_000))
}

struct Inner {
    shared: Mutex<Shared>,
    commit: GroupCommit<Write, ()>,
    store: Store,
    events: EventBus,
    /// Present when a station has a KITCHEN_PRINT_ printer.
    printers: Option<Printers>,
    /// Tablets paired for the kitchen LAN listener.
    pairings: crate::pairing::Pairings,
    cfg: KitchenConfig,
}

/// The module; a cheap handle.
#[derive(Clone)]
pub struct Kitchen {
    inner: Arc<Inner>,
}

impl Kitchen {
    /// Reads KITCHEN_*, opens the tables and loads open tickets and recent events.
    ///
    /// Fails naming an invalid key, or when the tables cannot be opened.
    pub fn start(ctx: &ModuleContext) -> Result<Kitchen, ModuleError> {
        let cfg = KitchenConfig::from_values(&ctx.config.values).map_err(ModuleError::Config)?;
        store::ensure(&ctx.store)?;
        let loaded = store::load(&ctx.store, now_ms().saturating_sub(cfg.retention_ms))?;
        let retention = cfg.retention_ms;
        let cfg_copy = cfg.clone();
        let mut kitchen = state::Kitchen::new(cfg, loaded.tickets, loaded.seq, loaded.recent);
        kitchen.prune(now_ms().saturating_sub(retention));
        let store = ctx.store.clone();
        let printers = (!kitchen.cfg.printers.is_empty()).then(|| {
            Printers::start(
                store.clone(),
                ctx.directory.clone(),
                ctx.events.clone(),
                &ctx.tracker,
                ctx.shutdown.clone(),
            )
        });
        let writer = store.clone();
        let commit = GroupCommit::start(
            "kitchen tickets",
            Arc::new(move |batch: &[Write]| store::write_batch(&writer, batch)),
            &ctx.tracker,
            ctx.shutdown.clone(),
        );
        let k = Kitchen {
            inner: Arc::new(Inner {
                shared: Mutex::new(Shared {
                    kitchen,
                    keys: loaded.keys,
                    origins: HashMap::new(),
                }),
                commit,
                store,
                events: ctx.events.clone(),
                printers,
                pairings: ctx.pairings.clone(),
                cfg: cfg_copy,
            }),
        };
        // Retention enforced as the service runs (weeks without a restart are normal at a
        // till), in the database and in memory.
        let (sweeper, stop) = (k.clone(), ctx.shutdown.clone());
        ctx.tracker.spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(sweep_every(retention)) => {}
                }
                sweeper.sweep(retention).await;
            }
        });
        Ok(k)
    }

    /// Drops what KITCHEN_RETENTION no longer keeps, from the database, then from memory.
    async fn sweep(&self, retention_ms: u64) {
        let cutoff = now_ms().saturating_sub(retention_ms);
        let store = self.inner.store.clone();
        match tokio::task::spawn_blocking(move || store::prune(&store, cutoff)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "old kitchen tickets could not be removed"),
            Err(e) => tracing::warn!(error = %e, "old kitchen tickets could not be removed"),
        }
        if let Ok(mut s) = self.inner.shared.lock() {
            let gone = s.sweep(cutoff);
            if gone > 0 {
                tracing::debug!(
                    gone,
                    "served kitchen tickets past KITCHEN_RETENTION forgotten"
                );
            }
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Shared>, Failure> {
        self.inner.shared.lock().map_err(|_| {
            Failure::internal("reading the kitchen tickets", "a kitchen call panicked")
        })
    }

    async fn run(&self, action: Action, uuid: &str, ctx: &RequestContext) -> Outcome {
        if action.mutates() {
            return self.mutate(action, uuid, ctx).await;
        }
        let inner = &self.inner;
        match action {
            Action::Pair { name } => {
                return displays::pair(&inner.pairings, &inner.cfg, &name, ctx)
            }
            Action::Displays => {
                let (p, c, ctx) = (inner.pairings.clone(), inner.cfg.clone(), ctx.clone());
                return tokio::task::spawn_blocking(move || displays::list(&p, &c, &ctx))
                    .await
                    .map_err(|e| Failure::internal("kitchen displays", e))?;
            }
            Action::Revoke { name } => {
                let (p, ctx) = (inner.pairings.clone(), ctx.clone());
                return tokio::task::spawn_blocking(move || displays::revoke(&p, &name, &ctx))
                    .await
                    .map_err(|e| Failure::internal("kitchen displays", e))?;
            }
            _ => {}
        }
        let s = self.lock()?;
        match action {
            Action::List { station } => {
                if let Some(st) = &station {
                    self.check_station(&s, st, false)?;
                }
                Ok(json!({ "SEQ": s.kitchen.seq(), "TICKETS": s.kitchen.list(station.as_deref()) }))
            }
            Action::Get { ticket } => s
                .kitchen
                .ticket(&ticket)
                .map(|t| t.card(None))
                .ok_or_else(|| KitchenError::TicketNotFound(ticket).to_failure()),
            Action::Status => Ok(self.status(&s)),
            Action::Subscribe { station, last_seq } => {
                if let Some(st) = &station {
                    self.check_station(&s, st, true)?;
                }
                // Subscribed before the state is read: an event after this point arrives live;
                // one both live and in the reply has a SEQ the client already applied.
                ctx.subscribe(TOPIC, uuid);
                if let Some(st) = &station {
                    ctx.subscribe(&format!("{DISPLAY_TOPIC}{st}"), uuid);
                }
                let mut reply = self.setup(&s);
                let m = reply.as_object_mut().expect("an object");
                match last_seq.and_then(|n| s.kitchen.since(n)) {
                    Some(events) => {
                        m.insert("EVENTS".into(), events.iter().map(|e| e.data()).collect());
                    }
                    None => {
                        m.insert("SNAPSHOT".into(), Value::Array(s.kitchen.list(None)));
                    }
                }
                Ok(reply)
            }
            Action::Unsubscribe => {
                let mut was = ctx.unsubscribe(TOPIC);
                for st in s
                    .kitchen
                    .cfg
                    .stations
                    .iter()
                    .map(String::as_str)
                    .chain([EXPO])
                {
                    was |= ctx.unsubscribe(&format!("{DISPLAY_TOPIC}{st}"));
                }
                Ok(json!({ "UNSUBSCRIBED": was }))
            }
            _ => unreachable!("mutating actions are handled above"),
        }
    }

    fn check_station(&self, s: &Shared, station: &str, expo: bool) -> Result<(), Failure> {
        if s.kitchen.cfg.stations.iter().any(|x| x == station) || (expo && station == EXPO) {
            Ok(())
        } else {
            Err(Failure::bad_params(format!(
                "STATION {station:?} is not one of KITCHEN_STATIONS ({}){}",
                s.kitchen.cfg.stations.join(","),
                if expo { " or EXPO" } else { "" }
            )))
        }
    }

    /// What a display needs to draw itself: stages, alert times, stations, the sequence.
    fn setup(&self, s: &Shared) -> Value {
        let cfg = &s.kitchen.cfg;
        json!({
            "SEQ": s.kitchen.seq(),
            "STAGES": cfg.stages,
            "READY_STAGE": cfg.stages[cfg.ready_index()],
            "ALERTS": cfg.alerts,
            "STATIONS": cfg.stations,
            "NOW": now_ms(),
        })
    }

    fn status(&self, s: &Shared) -> Value {
        let (per, open, oldest) = s.kitchen.counts();
        let now = now_ms();
        let stations: Vec<Value> = per
            .iter()
            .map(|(st, n)| {
                json!({
                    "STATION": st,
                    "OPEN": n,
                    "DISPLAYS": self.inner.events.watchers(&format!("{DISPLAY_TOPIC}{st}")),
                })
            })
            .collect();
        let mut v = self.setup(s);
        let m = v.as_object_mut().expect("an object");
        m.insert("OPEN".into(), json!(open));
        m.insert(
            "OLDEST_AGE_MS".into(),
            json!(oldest.map(|o| now.saturating_sub(o))),
        );
        m.insert("STATIONS".into(), Value::Array(stations));
        m.insert(
            "EXPO_DISPLAYS".into(),
            json!(self
                .inner
                .events
                .watchers(&format!("{DISPLAY_TOPIC}{EXPO}"))),
        );
        m.insert(
            "SUBSCRIBERS".into(),
            json!(self.inner.events.watchers(TOPIC)),
        );
        v
    }

    /// Applies a mutating action once per UUIDV4: in memory under the lock, in line for the
    /// group commit before the lock is released (so rows are written in the order applied),
    /// answered and published only once committed.
    async fn mutate(&self, action: Action, uuid: &str, ctx: &RequestContext) -> Outcome {
        // A paired tablet is its name; another display is its connection unless it says BY.
        let default_by = ctx
            .display
            .clone()
            .unwrap_or_else(|| format!("CONNECTION-{}", ctx.connection_id));
        let now = now_ms();
        let mut released: Vec<tokio::sync::oneshot::Sender<bool>> = Vec::new();
        let (pending, reply, publish) = {
            let mut s = self.lock()?;
            if let Some((_, reply)) = s.keys.get(uuid).cloned() {
                // The same request again (a retry): the same answer, once the first is stored.
                let pending = self.inner.commit.enqueue(Write::default());
                let mut reply = reply;
                if let Some(m) = reply.as_object_mut() {
                    m.insert("REPLAYED".into(), Value::Bool(true));
                }
                (pending, reply, Vec::new())
            } else {
                let changes = match &action {
                    Action::Send(t) => Some(t.id.clone()),
                    Action::Update { ticket, .. } | Action::Void { ticket, .. } => {
                        Some(ticket.clone())
                    }
                    _ => None,
                };
                let before = changes
                    .as_deref()
                    .and_then(|id| s.kitchen.ticket(id).cloned());
                let Some(applied) = s.kitchen.apply(action, &default_by, now) else {
                    return Err(Failure::internal(
                        "kitchen",
                        "a read-only action reached mutate",
                    ));
                };
                let applied = applied.map_err(|e| e.to_failure())?;
                let chits = match (&self.inner.printers, &changes) {
                    (Some(_), Some(id)) => self.chits_for(&s, before.as_ref(), id),
                    _ => Vec::new(),
                };
                let cfg = &s.kitchen.cfg;
                let write = Write {
                    key: Some((uuid.to_string(), applied.reply.to_string())),
                    tickets: applied
                        .tickets
                        .iter()
                        .map(|t| {
                            (
                                t.id.clone(),
                                serde_json::to_string(t).unwrap_or_default(),
                                t.is_open(cfg),
                            )
                        })
                        .collect(),
                    events: applied
                        .events
                        .iter()
                        .map(|e| (e.seq, e.ticket.clone(), e.data.to_string()))
                        .collect(),
                    chits: chits.clone(),
                    at: now,
                };
                let pending = self.inner.commit.enqueue(write);
                // In line for the printers under the same lock, so chits leave in the order
                // their changes were applied; released only once committed.
                if let Some(p) = &self.inner.printers {
                    for c in chits {
                        let (tx, rx) = tokio::sync::oneshot::channel();
                        p.push(c, rx);
                        released.push(tx);
                    }
                }
                s.keys
                    .insert(uuid.to_string(), (now, applied.reply.clone()));
                for t in &applied.tickets {
                    if applied.events.first().map(|e| e.action) == Some(state::EventAction::Sent)
                        && !s.origins.contains_key(&t.id)
                    {
                        s.origins
                            .insert(t.id.clone(), (ctx.connection_id, uuid.to_string()));
                    }
                }
                let publish: Vec<(Value, Option<(u64, String)>)> = applied
                    .events
                    .iter()
                    .map(|e| (e.data.clone(), s.origins.get(&e.ticket).cloned()))
                    .collect();
                (pending, applied.reply, publish)
            }
        };
        if let Err(e) = pending.committed().await {
            for r in released {
                let _ = r.send(false);
            }
            self.reload().await;
            return Err(KitchenError::Store(e).to_failure());
        }
        for r in released {
            let _ = r.send(true);
        }
        for (data, origin) in publish {
            if let Some((conn, send_uuid)) = origin {
                let subscribed_here =
                    conn == ctx.connection_id && ctx.subscription_uuid(TOPIC).is_some();
                if !subscribed_here {
                    self.inner.events.publish(Event {
                        service: TARGET.into(),
                        uuid: Value::String(send_uuid),
                        audience: Audience::Connection(conn),
                        data: data.clone(),
                    });
                }
            }
            self.inner.events.publish(Event {
                service: TARGET.into(),
                uuid: Value::Null,
                audience: Audience::Topic(TOPIC.into()),
                data,
            });
        }
        Ok(reply)
    }

    /// The chits the change of ticket `id` from `before` makes, for the stations whose chits
    /// print now (KITCHEN_PRINT_WHEN=no_display: only while none of its displays, nor an EXPO
    /// display, is subscribed).
    fn chits_for(&self, s: &Shared, before: Option<&model::Ticket>, id: &str) -> Vec<chit::Chit> {
        let cfg = &s.kitchen.cfg;
        let Some(after) = s.kitchen.ticket(id) else {
            return Vec::new();
        };
        let watched = |station: &str| {
            self.inner
                .events
                .watchers(&format!("{DISPLAY_TOPIC}{station}"))
                + self
                    .inner
                    .events
                    .watchers(&format!("{DISPLAY_TOPIC}{EXPO}"))
                > 0
        };
        chit::chits(before, after, cfg)
            .into_iter()
            .filter(|c| cfg.print_when == PrintWhen::Always || !watched(&c.station))
            .collect()
    }

    /// After a failed commit the memory may be ahead of the database: read it back.
    async fn reload(&self) {
        let store = self.inner.store.clone();
        let Ok(cfg) = self.lock().map(|s| s.kitchen.cfg.clone()) else {
            return;
        };
        let cutoff = now_ms().saturating_sub(cfg.retention_ms);
        match tokio::task::spawn_blocking(move || store::load(&store, cutoff)).await {
            Ok(Ok(loaded)) => {
                if let Ok(mut s) = self.inner.shared.lock() {
                    s.kitchen = state::Kitchen::new(cfg, loaded.tickets, loaded.seq, loaded.recent);
                    s.keys = loaded.keys;
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "the kitchen tickets could not be read back"),
            Err(e) => tracing::error!(error = %e, "the kitchen tickets could not be read back"),
        }
    }
}

impl Service for Kitchen {
    fn target(&self) -> &'static str {
        TARGET
    }

    fn actions(&self) -> &'static [&'static str] {
        Name::NAMES
    }

    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        let this = self.clone();
        Box::pin(async move {
            let action = Action::parse(&request)?;
            this.run(action, &request.uuid, &ctx).await
        })
    }

    fn health(&self) -> Health {
        match self.inner.shared.lock() {
            Ok(s) => {
                let (_, open, _) = s.kitchen.counts();
                Health {
                    detail: format!("{open} open tickets"),
                    ..Health::ok()
                }
            }
            Err(_) => Health::ok(),
        }
    }
}

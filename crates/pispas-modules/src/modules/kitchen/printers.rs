//! Kitchen printers: the chits of `chit.rs` handed to PRINT's durable queue, through the router
//! directory (the kitchen never imports PRINT).
//!
//! A chit is an outbox row (`kitchen_chits`), written in the same transaction as the ticket
//! change that made it. One worker hands rows to PRINT in the order they were made, each as a
//! PRINT request whose UUIDV4 is the chit's key (`chit::chit_uuid`), and marks the row sent
//! once PRINT accepted the job (PRINT commits a job before it answers). After a crash, rows not
//! marked are handed again: PRINT's UNIQUE UUIDV4 turns a second hand-over of a job it already
//! has into the same job, so a chit is never lost and never printed twice.
//!
//! It does not render or retry printers: that is PRINT's queue.

use super::chit::Chit;
use crate::clock::now_ms;
use crate::events::EventBus;
use crate::protocol::{ErrorCode, Request};
use crate::router::{Directory, RequestContext, Subscriptions};
use crate::store::{Store, StoreError};
use rusqlite::params;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub(super) const SCHEMA: &str = "
CREATE TABLE kitchen_chits (
    uuid TEXT PRIMARY KEY,
    ticket TEXT NOT NULL,
    station TEXT NOT NULL,
    printer TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'PENDING',
    detail TEXT
);
";

/// The connection id of the kitchen's own requests to PRINT (in the command log).
const KITCHEN_CONNECTION_ID: u64 = u64::MAX - 2;
/// A chit still not handed to PRINT after this long (the engine was down) is not printed:
/// a chit an hour late starts a dish nobody waits for any more. Logged loudly instead.
const STALE_MS: u64 = 60 * 60 * 1000;

/// One chit in line, released once the write that made it is committed (`Ok`), or dropped
/// with it (`Err`: the change never happened, so neither does the chit).
pub(super) struct Queued {
    pub(super) chit: Chit,
    pub(super) committed: oneshot::Receiver<bool>,
}

/// Hands chits to the worker, in the order the kitchen made them.
#[derive(Clone)]
pub(super) struct Printers {
    tx: mpsc::UnboundedSender<Queued>,
}

impl Printers {
    /// Starts the worker; the chits still pending in the database go first.
    pub(super) fn start(
        store: Store,
        directory: Directory,
        events: EventBus,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Printers {
        let (tx, rx) = mpsc::unbounded_channel();
        let worker = Worker {
            store,
            directory,
            ctx: RequestContext::new(
                KITCHEN_CONNECTION_ID,
                SocketAddr::from(([127, 0, 0, 1], 0)),
                Some("kitchen://printers".into()),
                false,
                false,
                events.clone(),
                Subscriptions::new(events),
            ),
            tracker: tracker.clone(),
            shutdown: shutdown.clone(),
        };
        tracker.spawn(worker.run(rx));
        Printers { tx }
    }

    /// Puts `chit` in line behind the ones before it.
    pub(super) fn push(&self, chit: Chit, committed: oneshot::Receiver<bool>) {
        let _ = self.tx.send(Queued { chit, committed });
    }
}

/// The chit rows a write stores with its ticket change.
pub(super) fn insert(
    tx: &rusqlite::Transaction<'_>,
    chits: &[Chit],
    at: u64,
) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT OR IGNORE INTO kitchen_chits (uuid, ticket, station, printer, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for c in chits {
        st.execute(params![
            c.uuid,
            c.ticket_id,
            c.station,
            c.printer,
            c.text,
            at as i64
        ])?;
    }
    Ok(())
}

fn pending(store: &Store) -> Result<Vec<(Chit, u64)>, StoreError> {
    store.call_blocking(|conn| {
        let mut st = conn.prepare(
            "SELECT uuid, ticket, station, printer, body, created_at FROM kitchen_chits WHERE state = 'PENDING' ORDER BY rowid",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                Chit {
                    uuid: r.get(0)?,
                    ticket_id: r.get(1)?,
                    station: r.get(2)?,
                    printer: r.get(3)?,
                    text: r.get(4)?,
                },
                r.get::<_, i64>(5)? as u64,
            ))
        })?;
        rows.collect()
    })
}

fn mark(store: &Store, uuid: &str, state: &str, detail: &str) {
    let r = store.call_blocking(|conn| {
        conn.execute(
            "UPDATE kitchen_chits SET state = ?2, detail = ?3 WHERE uuid = ?1",
            params![uuid, state, detail],
        )
    });
    if let Err(e) = r {
        // Left PENDING: handed to PRINT again after a restart, where its UUIDV4 makes it the
        // same job. Nothing prints twice.
        tracing::warn!(chit = %uuid, error = %e, "a kitchen chit could not be marked sent");
    }
}

struct Worker {
    store: Store,
    directory: Directory,
    ctx: RequestContext,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Worker {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Queued>) {
        // The router is built after the modules: wait for it before the first hand-over.
        while !self.directory.has(super::TARGET) {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
        match pending(&self.store) {
            Ok(rows) => {
                for (chit, at) in rows {
                    if now_ms().saturating_sub(at) > STALE_MS {
                        tracing::error!(chit = %chit.uuid, ticket = %chit.ticket_id, station = %chit.station,
                            "a kitchen chit was never handed to its printer and is over an hour old: not printed");
                        mark(
                            &self.store,
                            &chit.uuid,
                            "STALE",
                            "over an hour old after a restart",
                        );
                        continue;
                    }
                    self.hand_over(chit);
                }
            }
            Err(e) => tracing::error!(error = %e, "the pending kitchen chits could not be read"),
        }
        loop {
            let q = tokio::select! {
                q = rx.recv() => match q { Some(q) => q, None => return },
                _ = self.shutdown.cancelled() => return,
            };
            // In order: a chit waits for its own commit, the next one waits behind it.
            if q.committed.await == Ok(true) {
                self.hand_over(q.chit);
            }
        }
    }

    /// Takes the chit's place in its printer's line now (PRINT does that when called) and
    /// awaits PRINT's answer in a task of its own, so a slow printer holds up no other.
    fn hand_over(&self, chit: Chit) {
        let mut params = Map::new();
        params.insert("PRINTER".into(), json!(chit.printer));
        params.insert("FORMAT".into(), json!("TEXT"));
        params.insert("DATA".into(), Value::String(chit.text.clone()));
        let request = Request {
            uuid: chit.uuid.clone(),
            target: "PRINT".into(),
            action: "PRINT".into(),
            raw_action: "PRINT".into(),
            params,
        };
        let Some(reply) = self.directory.call(request, self.ctx.clone()) else {
            tracing::error!(chit = %chit.uuid, printer = %chit.printer,
                "KITCHEN_PRINT_{} is set but PRINT is not enabled (MODULES): the chit stays pending", chit.station);
            return;
        };
        let store = self.store.clone();
        self.tracker.spawn(async move {
            match reply.await {
                Ok(data) => {
                    let state = data["STATE"].as_str().unwrap_or("QUEUED").to_string();
                    mark(&store, &chit.uuid, "SENT", &state);
                }
                Err(f) if f.code == ErrorCode::PrintInterrupted => {
                    // The service stopped while the chit was going out: it may be on paper.
                    // Never sent again by itself (a chit twice is food cooked twice).
                    tracing::error!(chit = %chit.uuid, ticket = %chit.ticket_id, printer = %chit.printer,
                        "a kitchen chit may not have printed (the service stopped while it was going out): check the printer, REPRINT it if missing");
                    mark(&store, &chit.uuid, "INTERRUPTED", &f.message);
                }
                Err(f) => {
                    // PRINT refused the job (no such printer, …): a settings problem that a
                    // retry does not fix. Kept in the table for support, said in the log.
                    tracing::error!(chit = %chit.uuid, ticket = %chit.ticket_id, printer = %chit.printer,
                        code = %f.code.as_str(), message = %f.message, "PRINT refused a kitchen chit");
                    mark(&store, &chit.uuid, "REFUSED", &f.message);
                }
            }
        });
    }
}

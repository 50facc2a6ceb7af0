//! ORDER_KITCHEN's tables: tickets (the card as JSON, one row per TICKET id), events (one row
//! per sequence number, the published event as JSON) and request keys (UUIDV4 UNIQUE → the
//! reply), written together by one transaction per burst (`store::group_commit`) before the
//! reply. Loading prunes what is older than KITCHEN_RETENTION. It does not know the rules of
//! tickets (`state.rs`).

use super::chit::Chit;
use super::state::{EventAction, KitchenEvent, Ticket, RING};
use crate::store::{Store, StoreError};
use rusqlite::params;
use serde_json::Value;
use std::collections::HashMap;

const SCHEMA: &str = "
CREATE TABLE kitchen_tickets (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    open INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE kitchen_events (
    seq INTEGER PRIMARY KEY,
    ticket TEXT NOT NULL,
    body TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE kitchen_requests (
    uuid TEXT PRIMARY KEY,
    reply TEXT NOT NULL,
    at INTEGER NOT NULL
);
";

/// One action's rows: its request key, the tickets it changed, its events and the chits it
/// makes for the kitchen printers (an outbox, `printers.rs`).
#[derive(Debug, Default)]
pub(super) struct Write {
    pub(super) key: Option<(String, String)>,
    pub(super) tickets: Vec<(String, String, bool)>,
    pub(super) events: Vec<(u64, String, String)>,
    pub(super) chits: Vec<Chit>,
    pub(super) at: u64,
}

/// What is stored, as the module starts.
pub(super) struct Loaded {
    pub(super) tickets: Vec<Ticket>,
    pub(super) seq: u64,
    pub(super) recent: Vec<KitchenEvent>,
    /// UUIDV4 → (when it was stored, ms; the reply).
    pub(super) keys: HashMap<String, (u64, Value)>,
}

/// Creates the tables once.
///
/// Fails when the database cannot be written.
pub(super) fn ensure(store: &Store) -> Result<(), StoreError> {
    store.ensure_schema("kitchen_v1", SCHEMA)?;
    store.ensure_schema("kitchen_chits_v1", super::printers::SCHEMA)
}

/// Writes a batch of actions in one transaction.
///
/// Fails as a whole; nothing of the batch is stored then.
pub(super) fn write_batch(store: &Store, batch: &[Write]) -> Result<Vec<()>, StoreError> {
    store.call_blocking(|conn| {
        let tx = conn.transaction()?;
        {
            let mut key = tx.prepare_cached("INSERT OR IGNORE INTO kitchen_requests (uuid, reply, at) VALUES (?1, ?2, ?3)")?;
            let mut ticket = tx.prepare_cached("INSERT OR REPLACE INTO kitchen_tickets (id, body, open, updated_at) VALUES (?1, ?2, ?3, ?4)")?;
            let mut event = tx.prepare_cached("INSERT INTO kitchen_events (seq, ticket, body, at) VALUES (?1, ?2, ?3, ?4)")?;
            for w in batch {
                if let Some((uuid, reply)) = &w.key {
                    key.execute(params![uuid, reply, w.at as i64])?;
                }
                for (id, body, open) in &w.tickets {
                    ticket.execute(params![id, body, *open as i64, w.at as i64])?;
                }
                for (seq, id, body) in &w.events {
                    event.execute(params![*seq as i64, id, body, w.at as i64])?;
                }
            }
            for w in batch {
                super::printers::insert(&tx, &w.chits, w.at)?;
            }
        }
        tx.commit()?;
        Ok(vec![(); batch.len()])
    })
}

fn action_of(word: &str) -> EventAction {
    match word {
        "UPDATED" => EventAction::Updated,
        "LINE_DONE" => EventAction::LineDone,
        "BUMPED" => EventAction::Bumped,
        "RECALLED" => EventAction::Recalled,
        "SERVED" => EventAction::Served,
        "VOIDED" => EventAction::Voided,
        "ACKED" => EventAction::Acked,
        _ => EventAction::Sent,
    }
}

/// Deletes closed tickets, events and request keys older than `cutoff` (the newest event is
/// always kept, so the sequence never restarts). Blocking.
///
/// Fails when the database cannot be written.
pub(super) fn prune(store: &Store, cutoff: u64) -> Result<(), StoreError> {
    store.call_blocking(|conn| delete_older(conn, cutoff))
}

fn delete_older(conn: &rusqlite::Connection, cutoff: u64) -> rusqlite::Result<()> {
    let c = cutoff as i64;
    conn.execute(
        "DELETE FROM kitchen_tickets WHERE open = 0 AND updated_at < ?1",
        [c],
    )?;
    conn.execute(
        "DELETE FROM kitchen_events WHERE at < ?1 AND seq < (SELECT MAX(seq) FROM kitchen_events)",
        [c],
    )?;
    conn.execute("DELETE FROM kitchen_requests WHERE at < ?1", [c])?;
    Ok(())
}

/// Prunes as [`prune`] does, then loads open and recent tickets, the
/// newest events and the request keys.
///
/// Fails when the database cannot be read; a row that does not parse is logged and skipped.
pub(super) fn load(store: &Store, cutoff: u64) -> Result<Loaded, StoreError> {
    store.call_blocking(|conn| {
        delete_older(conn, cutoff)?;
        let mut tickets = Vec::new();
        let mut st = conn.prepare("SELECT id, body FROM kitchen_tickets")?;
        for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (id, body) = row?;
            match serde_json::from_str::<Ticket>(&body) {
                Ok(t) => tickets.push(t),
                Err(e) => tracing::error!(ticket = %id, error = %e, "a stored kitchen ticket does not parse; skipped"),
            }
        }
        let seq: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM kitchen_events", [], |r| r.get(0))?;
        let mut st = conn.prepare("SELECT seq, ticket, body, at FROM kitchen_events ORDER BY seq DESC LIMIT ?1")?;
        let mut recent = Vec::new();
        for row in st.query_map([RING as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
        })? {
            let (seq, ticket, body, at) = row?;
            let Ok(data) = serde_json::from_str::<Value>(&body) else { continue };
            recent.push(KitchenEvent {
                seq: seq as u64,
                ticket,
                action: action_of(data["ACTION"].as_str().unwrap_or("")),
                by: data["BY"].as_str().unwrap_or("").to_string(),
                at: at as u64,
                data,
            });
        }
        recent.reverse();
        let mut keys = HashMap::new();
        let mut st = conn.prepare("SELECT uuid, reply, at FROM kitchen_requests")?;
        for row in st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })? {
            let (uuid, reply, at) = row?;
            if let Ok(v) = serde_json::from_str(&reply) {
                keys.insert(uuid, (at.max(0) as u64, v));
            }
        }
        Ok(Loaded {
            tickets,
            seq: seq as u64,
            recent,
            keys,
        })
    })
}

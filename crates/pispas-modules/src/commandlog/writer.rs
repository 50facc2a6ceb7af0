//! The command log's one writer task: every 100 ms it takes whatever is queued, redacts it, writes
//! it in one transaction, then publishes live entries to watchers.
//! Also trims the table by age and size every few minutes.
//!
//! It never holds up a connection: connections only `try_send` to it.

use super::redact::redact;
use super::{now_ms, CommandLog, Record, Retention, LIVE_TOPIC};
use crate::events::{Audience, Event, EventBus};
use crate::store::{Store, StoreError};
use rusqlite::params;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::{broadcast, mpsc};

/// Records usually written per transaction (the vector's starting capacity).
const BATCH: usize = 1024;
/// Most records taken from the queue per flush (the rest wait for the next tick).
const MAX_PER_FLUSH: usize = 64 * 1024;
/// How often queued records are written: live viewers see entries at most this late.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// How often the table is trimmed while running.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// A row ready for SQLite, already redacted.
enum Row {
    Insert {
        id: u64,
        at_ms: u64,
        kind: &'static str,
        conn: Option<u64>,
        client: String,
        target: String,
        action: String,
        uuid: Option<String>,
        request: Option<String>,
    },
    Finish {
        id: u64,
        duration_us: u64,
        code: Option<&'static str>,
        reply: String,
    },
}

pub(super) async fn run(
    mut rx: mpsc::Receiver<Record>,
    store: Store,
    mut bus: broadcast::Receiver<Arc<Event>>,
    events: EventBus,
    retention: Retention,
    log: CommandLog,
) {
    let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
    // Woken by a timer, not by each record: under load a wake-up and a commit (an fsync) per
    // request would cost more than the request itself.
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_prune = std::time::Instant::now();
    loop {
        tick.tick().await;
        let mut closing = None;
        while batch.len() < MAX_PER_FLUSH {
            match rx.try_recv() {
                Ok(Record::Close(done)) => {
                    closing = Some(done);
                    // Whatever was queued before Close is in `batch`; anything after it is
                    // still written below.
                    while let Ok(r) = rx.try_recv() {
                        if !matches!(r, Record::Close(_)) {
                            batch.push(r);
                        }
                    }
                    break;
                }
                Ok(r) => batch.push(r),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        }
        loop {
            match bus.try_recv() {
                Ok(event) => {
                    if event.audience != Audience::Topic(LIVE_TOPIC.into()) {
                        batch.push(Record::Event {
                            at_ms: now_ms(),
                            event,
                        });
                    }
                }
                Err(TryRecvError::Lagged(n)) => log.count_dropped(n),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            let rows: Vec<Row> = batch.drain(..).filter_map(to_row).collect();
            write(&store, rows, &events, &log).await;
        }
        if let Some(done) = closing {
            let _ = done.send(());
            return;
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = std::time::Instant::now();
            let s = store.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || prune_now(&s, retention)).await {
                tracing::warn!(error = %e, "command log trim failed");
            }
        }
    }
}

fn prune_now(store: &Store, retention: Retention) {
    if let Err(e) = prune(store, retention) {
        tracing::warn!(error = %e, "command log trim failed");
    }
}

/// Deletes entries older than the age limit, then the oldest ones until the table is under the
/// size limit.
///
/// Fails when the database cannot be written.
pub(super) fn prune(store: &Store, retention: Retention) -> Result<(), StoreError> {
    let cutoff = now_ms().saturating_sub(retention.max_age.as_millis() as u64) as i64;
    let max = retention.max_bytes as i64;
    store.call_blocking(|c| {
        let aged = c.execute("DELETE FROM command_log WHERE at_ms < ?1", [cutoff])?;
        let mut total: i64 = c.query_row(
            "SELECT COALESCE(SUM(bytes), 0) FROM command_log",
            [],
            |r| r.get(0),
        )?;
        let mut trimmed = 0;
        while total > max {
            // Drop the oldest tenth at a time so a big overshoot is not one huge statement.
            let n = c.execute(
                "DELETE FROM command_log WHERE id IN (SELECT id FROM command_log ORDER BY id LIMIT MAX(1, (SELECT COUNT(*) FROM command_log) / 10))",
                [],
            )?;
            trimmed += n;
            if n == 0 {
                break;
            }
            total = c.query_row(
                "SELECT COALESCE(SUM(bytes), 0) FROM command_log",
                [],
                |r| r.get(0),
            )?;
        }
        if aged + trimmed > 0 {
            tracing::info!(
                aged,
                trimmed,
                "command log trimmed (COMMAND_LOG_DAYS / COMMAND_LOG_MAX_MB)"
            );
        }
        Ok(())
    })
}

/// Parses and redacts a record; text that is not JSON is kept as a JSON string.
fn clean(text: &str) -> String {
    let mut value: Value =
        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
    redact(&mut value);
    value.to_string()
}

fn to_row(record: Record) -> Option<Row> {
    Some(match record {
        Record::Request {
            id,
            at_ms,
            client,
            text,
        } => {
            // Parsed here, off the request path; the connection only copied the text.
            let mut value: Value =
                serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
            let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
            let target = field("TARGET")
                .map(|t| t.trim().to_ascii_uppercase())
                .unwrap_or_else(|| "-".into());
            let action = field("ACTION")
                .map(|a| crate::protocol::normalize_action(&a))
                .unwrap_or_else(|| "-".into());
            let uuid = match value.get("UUIDV4") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            redact(&mut value);
            Row::Insert {
                id,
                at_ms,
                kind: "REQUEST",
                conn: Some(client.connection),
                client: client.label.clone(),
                target,
                action,
                uuid,
                request: Some(value.to_string()),
            }
        }
        Record::Reply {
            id,
            duration_us,
            code,
            text,
        } => Row::Finish {
            id,
            duration_us,
            code,
            reply: clean(&text),
        },
        Record::Event { at_ms, event } => {
            let mut data = event.data.clone();
            redact(&mut data);
            let name = data
                .get("EVENT")
                .and_then(Value::as_str)
                .unwrap_or("EVENT")
                .to_string();
            let audience = match &event.audience {
                Audience::All => "all clients".to_string(),
                Audience::Connection(id) => format!("connection {id}"),
                Audience::Topic(t) => format!("subscribers of {t}"),
                Audience::Internal => "internal".to_string(),
            };
            let body = json!({ "SERVICE_NAME": event.service, "MESSAGE_TYPE": "EVENT", "MESSAGE_UUID": event.uuid, "MESSAGE_DATA": data });
            Row::Insert {
                id: 0,
                at_ms,
                kind: "EVENT",
                conn: match event.audience {
                    Audience::Connection(id) => Some(id),
                    _ => None,
                },
                client: audience,
                target: event.service.clone(),
                action: name,
                uuid: event.uuid.as_str().map(str::to_string),
                request: Some(body.to_string()),
            }
        }
        Record::Close(_) => return None,
    })
}

async fn write(store: &Store, rows: Vec<Row>, events: &EventBus, log: &CommandLog) {
    let watched = log.watched();
    let result = store
        .call(move |c| {
            let tx = c.transaction()?;
            let mut changed = Vec::new();
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO command_log (id, at_ms, kind, conn, client, target, action, uuid, result, request, bytes)
                     VALUES (CASE WHEN ?1 = 0 THEN NULL ELSE ?1 END, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?;
                let mut finish = tx.prepare_cached(
                    "UPDATE command_log SET result = ?2, code = ?3, duration_us = ?4, reply = ?5, bytes = bytes + ?6 WHERE id = ?1",
                )?;
                for row in &rows {
                    match row {
                        Row::Insert { id, at_ms, kind, conn, client, target, action, uuid, request } => {
                            let result = if *kind == "EVENT" { "EVENT" } else { "PENDING" };
                            let bytes = request.as_ref().map_or(0, String::len) + client.len() + 64;
                            insert.execute(params![
                                *id as i64, *at_ms as i64, kind, conn.map(|c| c as i64), client, target,
                                action, uuid, result, request, bytes as i64
                            ])?;
                            if watched {
                                changed.push(tx.last_insert_rowid());
                            }
                        }
                        Row::Finish { id, duration_us, code, reply } => {
                            let result = if code.is_some() { "FAILURE" } else { "SUCCESS" };
                            finish.execute(params![
                                *id as i64, result, code, *duration_us as i64, reply, reply.len() as i64
                            ])?;
                            if watched {
                                changed.push(*id as i64);
                            }
                        }
                    }
                }
            }
            tx.commit()?;
            changed.dedup();
            if changed.is_empty() {
                return Ok(Vec::new());
            }
            super::query::summaries_by_id(c, &changed)
        })
        .await;
    match result {
        Ok(entries) => {
            for entry in entries {
                events.publish(Event {
                    service: "BASE".into(),
                    uuid: Value::Null,
                    audience: Audience::Topic(LIVE_TOPIC.into()),
                    data: json!({ "EVENT": "LOG_ENTRY", "ENTRY": entry }),
                });
            }
        }
        Err(e) => tracing::warn!(error = %e, "command log write failed; entries lost"),
    }
}

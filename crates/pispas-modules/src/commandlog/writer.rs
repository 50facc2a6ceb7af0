//! The command log's one writer task: every 50 ms it takes whatever is queued, parses and redacts
//! it on the blocking pool (without holding the database), then writes it in one transaction in
//! the log's own database; then it publishes live entries to watchers. The size limit is kept as
//! it writes; the age limit every few minutes.
//!
//! It never holds up a connection (they only `try_send` to it), and it shares no database with
//! the print queue or the payment journal, so it can never stall them.

use super::redact::redact;
use super::{now_ms, Client, CommandLog, Record, Retention, LIVE_TOPIC};
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
const FLUSH_EVERY: Duration = Duration::from_millis(50);
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
        /// The reply, when it arrived in the same batch (one INSERT instead of INSERT + UPDATE).
        finish: Option<Finish>,
    },
    Finish(u64, Finish),
}

impl Row {
    /// What the row adds to the table, as counted against COMMAND_LOG_MAX_MB.
    fn bytes(&self) -> u64 {
        let n = match self {
            Row::Insert {
                request,
                finish,
                client,
                ..
            } => {
                request.as_ref().map_or(0, String::len)
                    + finish.as_ref().map_or(0, |f| f.reply.len())
                    + client.len()
                    + 64
            }
            Row::Finish(_, f) => f.reply.len(),
        };
        n as u64
    }
}

/// How a request ended.
struct Finish {
    duration_us: u64,
    code: Option<&'static str>,
    reply: String,
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
    let mut total_bytes = stored_bytes(&store).await;
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
                        log.dequeued(&r);
                        if !matches!(r, Record::Close(_)) {
                            batch.push(r);
                        }
                    }
                    break;
                }
                Ok(r) => {
                    log.dequeued(&r);
                    batch.push(r);
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        }
        loop {
            match bus.try_recv() {
                Ok(event) => {
                    if event.audience != Audience::Topic(LIVE_TOPIC.into()) {
                        batch.push(Record::Event {
                            id: log.allocate_id(),
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
            let records: Vec<Record> = std::mem::take(&mut batch);
            batch.reserve(BATCH);
            total_bytes += write(&store, records, &events, &log).await;
        }
        if let Some(done) = closing {
            let _ = done.send(());
            return;
        }
        // The size limit holds as the log writes, not only every few minutes.
        if total_bytes > retention.max_bytes || last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = std::time::Instant::now();
            let s = store.clone();
            match tokio::task::spawn_blocking(move || prune(&s, retention)).await {
                Ok(Ok(left)) => total_bytes = left,
                Ok(Err(e)) => tracing::warn!(error = %e, "command log trim failed"),
                Err(e) => tracing::warn!(error = %e, "command log trim failed"),
            }
        }
    }
}

/// The bytes the table holds now (0 when it cannot be read: the next trim corrects it).
async fn stored_bytes(store: &Store) -> u64 {
    store
        .call(|c| {
            c.query_row("SELECT COALESCE(SUM(bytes), 0) FROM command_log", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .await
        .map_or(0, |b| b.max(0) as u64)
}

/// Deletes entries older than the age limit, then the oldest ones until the table is under the
/// size limit; returns the bytes left.
///
/// Fails when the database cannot be written.
pub(super) fn prune(store: &Store, retention: Retention) -> Result<u64, StoreError> {
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
        Ok(total.max(0) as u64)
    })
}

/// Whether `text` may hold something to redact; when not, it is stored exactly as it came.
/// Over-cautious on purpose: a secret-looking field name (the same rule as [`redact`]), 13 or more
/// digits anywhere, track-data markers or a long text all take the slow path (parse and redact).
fn needs_redaction(text: &str) -> bool {
    if text.len() > super::redact::MAX_STRING || text.contains('%') || text.contains(';') {
        return true;
    }
    if text.bytes().filter(u8::is_ascii_digit).count() >= 13 {
        return true;
    }
    // Pretty-printed JSON (`"name" : …`) is rare from a POS: just take the slow path.
    if text.contains("\" :")
        || text.contains("\"\t")
        || text.contains("\"\n")
        || text.contains("\"\r")
    {
        return true;
    }
    // Every `"name":` in the text: is the name a secret field?
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find("\":") {
        let end = from + pos;
        let start = bytes[..end]
            .iter()
            .rposition(|&b| b == b'"')
            .map_or(0, |i| i + 1);
        let key = &text[start..end];
        if key.contains('\\') || super::redact::is_secret_field(key) {
            return true;
        }
        from = end + 2;
    }
    false
}

/// Redacts a reply; text that is not JSON is kept as a JSON string.
fn clean(text: String) -> String {
    if !needs_redaction(&text) && serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() {
        return text;
    }
    let mut value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    redact(&mut value);
    value.to_string()
}

/// The envelope fields of a request, read without building the whole JSON tree.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(rename = "TARGET", borrow, default)]
    target: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "ACTION", borrow, default)]
    action: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "UUIDV4", default)]
    uuid: Option<Value>,
}

/// Turns records into rows, folding a reply into its request's row when both are in the batch.
fn to_rows(records: impl Iterator<Item = Record>) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut pending: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for record in records {
        match record {
            Record::Reply {
                id,
                duration_us,
                code,
                text,
            } => {
                let finish = Finish {
                    duration_us,
                    code,
                    reply: clean(text),
                };
                match pending.get(&id).and_then(|&i| rows.get_mut(i)) {
                    Some(Row::Insert { finish: slot, .. }) => *slot = Some(finish),
                    _ => rows.push(Row::Finish(id, finish)),
                }
            }
            other => {
                if let Some(row) = to_row(other) {
                    if let Row::Insert {
                        id,
                        kind: "REQUEST",
                        ..
                    } = &row
                    {
                        pending.insert(*id, rows.len());
                    }
                    rows.push(row);
                }
            }
        }
    }
    rows
}

fn request_row(id: u64, at_ms: u64, client: &Client, text: String) -> Row {
    let head: Option<Head> = serde_json::from_str(&text).ok();
    let target = head
        .as_ref()
        .and_then(|h| h.target.as_deref())
        .map(|t| t.trim().to_ascii_uppercase())
        .unwrap_or_else(|| "-".into());
    let action = head
        .as_ref()
        .and_then(|h| h.action.as_deref())
        .map(crate::protocol::normalize_action)
        .unwrap_or_else(|| "-".into());
    let uuid = match head.as_ref().and_then(|h| h.uuid.as_ref()) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let valid = head.is_some();
    drop(head);
    let request = if valid && !needs_redaction(&text) {
        text
    } else {
        let mut value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        redact(&mut value);
        value.to_string()
    };
    Row::Insert {
        id,
        at_ms,
        kind: "REQUEST",
        conn: Some(client.connection),
        client: client.label.clone(),
        target,
        action,
        uuid,
        request: Some(request),
        finish: None,
    }
}

fn to_row(record: Record) -> Option<Row> {
    Some(match record {
        Record::Request {
            id,
            at_ms,
            client,
            text,
        } => request_row(id, at_ms, &client, text),
        Record::Reply {
            id,
            duration_us,
            code,
            text,
        } => Row::Finish(
            id,
            Finish {
                duration_us,
                code,
                reply: clean(text),
            },
        ),
        Record::Event { id, at_ms, event } => {
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
                id,
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
                finish: None,
            }
        }
        Record::Close(_) => return None,
    })
}

/// Converts on the blocking pool (parsing and redacting a batch takes milliseconds, which on an
/// async worker would delay the requests queued behind it), then writes in one transaction;
/// the database is held only for the write. Returns the bytes added.
async fn write(store: &Store, records: Vec<Record>, events: &EventBus, log: &CommandLog) -> u64 {
    let watched = log.watched();
    let rows = match tokio::task::spawn_blocking(move || to_rows(records.into_iter())).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "command log entries could not be converted; lost");
            return 0;
        }
    };
    let added: u64 = rows.iter().map(Row::bytes).sum();
    let result = store
        .call(move |c| {
            let tx = c.transaction()?;
            let mut changed = Vec::new();
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO command_log (id, at_ms, kind, conn, client, target, action, uuid, result, request, bytes, code, duration_us, reply)
                     VALUES (CASE WHEN ?1 = 0 THEN NULL ELSE ?1 END, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )?;
                let mut finish = tx.prepare_cached(
                    "UPDATE command_log SET result = ?2, code = ?3, duration_us = ?4, reply = ?5, bytes = bytes + ?6 WHERE id = ?1",
                )?;
                for row in &rows {
                    match row {
                        Row::Insert { id, at_ms, kind, conn, client, target, action, uuid, request, finish } => {
                            let result = match (finish, *kind) {
                                (_, "EVENT") => "EVENT",
                                (None, _) => "PENDING",
                                (Some(f), _) if f.code.is_some() => "FAILURE",
                                (Some(_), _) => "SUCCESS",
                            };
                            let bytes = row.bytes();
                            insert.execute(params![
                                *id as i64, *at_ms as i64, kind, conn.map(|c| c as i64), client, target,
                                action, uuid, result, request, bytes as i64,
                                finish.as_ref().and_then(|f| f.code),
                                finish.as_ref().map(|f| f.duration_us as i64),
                                finish.as_ref().map(|f| f.reply.as_str())
                            ])?;
                            if watched {
                                changed.push(tx.last_insert_rowid());
                            }
                        }
                        Row::Finish(id, f) => {
                            let result = if f.code.is_some() { "FAILURE" } else { "SUCCESS" };
                            finish.execute(params![
                                *id as i64, result, f.code, f.duration_us as i64, f.reply, f.reply.len() as i64
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
        Err(e) => {
            tracing::warn!(error = %e, "command log write failed; entries lost");
            return 0;
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Arc<Client> {
        Arc::new(Client {
            connection: 7,
            label: "127.0.0.1:5000".into(),
        })
    }

    fn request(id: u64, text: &str) -> Record {
        Record::Request {
            id,
            at_ms: 1,
            client: client(),
            text: text.into(),
        }
    }

    #[test]
    fn a_plain_request_is_stored_as_sent_and_its_reply_folds_into_the_same_row() {
        let ping = r#"{"UUIDV4":"u-1","TARGET":"base","ACTION":"ping"}"#;
        let rows = to_rows(
            vec![
                request(1, ping),
                Record::Reply {
                    id: 1,
                    duration_us: 5,
                    code: None,
                    text: r#"{"MESSAGE_DATA":"PONG"}"#.into(),
                },
            ]
            .into_iter(),
        );
        assert_eq!(rows.len(), 1);
        let Row::Insert {
            target,
            action,
            uuid,
            request,
            finish: Some(f),
            ..
        } = &rows[0]
        else {
            panic!("one folded insert expected");
        };
        assert_eq!((target.as_str(), action.as_str()), ("BASE", "PING"));
        assert_eq!(uuid.as_deref(), Some("u-1"));
        assert_eq!(request.as_deref(), Some(ping));
        assert_eq!(f.reply, r#"{"MESSAGE_DATA":"PONG"}"#);
    }

    #[test]
    fn anything_that_might_hold_a_secret_takes_the_redacting_path() {
        let rows = to_rows(
            vec![request(
                2,
                r#"{"UUIDV4":"u-2","TARGET":"PAY","ACTION":"CHARGE","Pin":"1234","NOTE":"4111111111111111"}"#,
            )]
            .into_iter(),
        );
        let Row::Insert { request, .. } = &rows[0] else {
            panic!("insert expected");
        };
        let text = request.as_deref().unwrap();
        assert!(!text.contains("1234\""), "{text}");
        assert!(text.contains("************1111"), "{text}");
        assert!(needs_redaction(r#"{"x":"%B4111"}"#));
        assert!(!needs_redaction(r#"{"MESSAGE_DATA":"PONG","N":123}"#));
        assert!(!needs_redaction(r#"{"ACTION":"PING","TARGET":"BASE"}"#));
        assert!(needs_redaction(r#"{"pin" : "1234"}"#));
        assert!(needs_redaction(r#"{"A":{"ADMIN_TOKEN":"x"}}"#));
    }

    #[test]
    fn a_reply_without_its_request_in_the_batch_updates_the_row_later() {
        let rows = to_rows(
            vec![Record::Reply {
                id: 9,
                duration_us: 1,
                code: Some("TIMEOUT"),
                text: "{}".into(),
            }]
            .into_iter(),
        );
        assert!(matches!(rows[0], Row::Finish(9, _)));
    }
}

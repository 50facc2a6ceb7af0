//! The command log: support's record of every request, reply and event that passed through the
//! engine, with time, client, TARGET, ACTION, result and duration, kept in the engine's SQLite
//! store so it survives restarts.
//!
//! Recording is off the hot path: a connection hands the raw text to a bounded channel
//! (`try_send`, never waiting; if the writer falls behind, entries are counted as dropped rather
//! than slowing a reply). One writer task parses, redacts (`redact.rs`) and writes whole batches in
//! one transaction, then tells live viewers. Reading is in `query.rs`. Reading the log (BASE
//! `LOG_*` actions) is not itself recorded, and neither are the live-view events.

pub mod query;
pub mod redact;
mod writer;

use crate::events::{Event, EventBus};
use crate::store::{Store, StoreError};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// The topic live log entries are published on (BASE `LOG_SUBSCRIBE`).
pub const LIVE_TOPIC: &str = "LOG";
/// Entries waiting for the writer before new ones are dropped.
const QUEUE: usize = 16 * 1024;
/// Bytes of text waiting for the writer before new entries are dropped, so a burst of large
/// frames cannot hold the memory of sixteen thousand copies.
const MAX_QUEUED_BYTES: usize = 32 * 1024 * 1024;
/// A frame or reply longer than this is recorded as a summary (its size, TARGET, ACTION, UUID),
/// not copied: the log keeps who sent what, not the 30 MiB themselves.
const MAX_TEXT: usize = 256 * 1024;
/// The database file of the command log, beside the engine's: its writes never wait for the
/// print queue's or the payment journal's, nor they for it.
pub const FILE: &str = "commandlog.db";

const SCHEMA: &str = "
CREATE TABLE command_log (
    id          INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    conn        INTEGER,
    client      TEXT NOT NULL,
    target      TEXT NOT NULL,
    action      TEXT NOT NULL,
    uuid        TEXT,
    result      TEXT NOT NULL,
    code        TEXT,
    duration_us INTEGER,
    request     TEXT,
    reply       TEXT,
    bytes       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX command_log_at ON command_log (at_ms);
CREATE INDEX command_log_target ON command_log (target, id);
";

/// Retention settings, from COMMAND_LOG_DAYS and COMMAND_LOG_MAX_MB.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub max_age: Duration,
    pub max_bytes: u64,
}

/// Who sent a request: one per connection, shared by all its entries.
#[derive(Debug)]
pub struct Client {
    pub connection: u64,
    /// The page's Origin when there is one, otherwise the peer address.
    pub label: String,
}

/// One thing to record, as cheap as possible to build on the connection's task.
#[derive(Debug)]
pub(crate) enum Record {
    /// TARGET, ACTION and UUIDV4 are read from `text` by the writer.
    Request {
        id: u64,
        at_ms: u64,
        client: Arc<Client>,
        text: String,
    },
    Reply {
        id: u64,
        duration_us: u64,
        code: Option<&'static str>,
        text: String,
    },
    Event {
        /// From the same counter as requests: a row left to SQLite's rowid would take the id
        /// a request already holds and fail its whole batch (UNIQUE constraint).
        id: u64,
        at_ms: u64,
        event: Arc<Event>,
    },
    /// Flush everything before this and stop.
    Close(oneshot::Sender<()>),
}

impl Record {
    /// The text it holds, as counted against [`MAX_QUEUED_BYTES`].
    pub(crate) fn queued_bytes(&self) -> usize {
        match self {
            Record::Request { text, .. } | Record::Reply { text, .. } => text.len(),
            Record::Event { .. } | Record::Close(_) => 0,
        }
    }
}

/// A cheap, cloneable handle. A disabled log records nothing and answers queries with nothing.
#[derive(Clone)]
pub struct CommandLog {
    inner: Arc<Inner>,
}

struct Inner {
    tx: Option<mpsc::Sender<Record>>,
    store: Option<Store>,
    next_id: AtomicU64,
    dropped: AtomicU64,
    live: Mutex<HashSet<u64>>,
    live_count: AtomicUsize,
    queued_bytes: AtomicUsize,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl CommandLog {
    /// A log that records nothing (COMMAND_LOG=off).
    pub fn disabled() -> CommandLog {
        CommandLog {
            inner: Arc::new(Inner {
                tx: None,
                store: None,
                next_id: AtomicU64::new(1),
                dropped: AtomicU64::new(0),
                live: Mutex::new(HashSet::new()),
                live_count: AtomicUsize::new(0),
                queued_bytes: AtomicUsize::new(0),
                writer: Mutex::new(None),
            }),
        }
    }

    /// Creates the table if needed, trims by `retention` and starts the writer on the current
    /// runtime. Stop it with [`CommandLog::close`].
    ///
    /// Fails when the database cannot be written.
    pub fn start(
        store: Store,
        events: EventBus,
        retention: Retention,
    ) -> Result<CommandLog, StoreError> {
        store.ensure_schema("command_log_v1", SCHEMA)?;
        writer::prune(&store, retention)?;
        let last: i64 = store.call_blocking(|c| {
            c.query_row("SELECT COALESCE(MAX(id), 0) FROM command_log", [], |r| {
                r.get(0)
            })
        })?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let log = CommandLog {
            inner: Arc::new(Inner {
                tx: Some(tx),
                store: Some(store.clone()),
                next_id: AtomicU64::new(last as u64 + 1),
                dropped: AtomicU64::new(0),
                live: Mutex::new(HashSet::new()),
                live_count: AtomicUsize::new(0),
                queued_bytes: AtomicUsize::new(0),
                writer: Mutex::new(None),
            }),
        };
        let handle = tokio::spawn(writer::run(
            rx,
            store,
            events.subscribe(),
            events,
            retention,
            log.clone(),
        ));
        if let Ok(mut w) = log.inner.writer.lock() {
            *w = Some(handle);
        }
        Ok(log)
    }

    /// Whether anything is recorded.
    pub fn enabled(&self) -> bool {
        self.inner.tx.is_some()
    }

    /// The database, for queries (None when disabled).
    pub fn store(&self) -> Option<&Store> {
        self.inner.store.as_ref()
    }

    /// Entries lost because the writer could not keep up (since start).
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Records a request as it arrives (`target`, `action` and `uuid` as parsed, to skip log
    /// reads and to summarise a frame too large to keep); returns the entry id for
    /// [`CommandLog::reply`], or 0 when nothing was recorded.
    pub fn request(
        &self,
        client: &Arc<Client>,
        target: &str,
        action: &str,
        uuid: &str,
        text: &str,
    ) -> u64 {
        let Some(tx) = &self.inner.tx else {
            return 0;
        };
        if is_log_reading(target, action) {
            return 0;
        }
        let text = if text.len() > MAX_TEXT {
            serde_json::json!({ "UUIDV4": uuid, "TARGET": target, "ACTION": action, "TRUNCATED": true, "BYTES": text.len() })
                .to_string()
        } else {
            text.to_string()
        };
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let record = Record::Request {
            id,
            at_ms: now_ms(),
            client: client.clone(),
            text,
        };
        if self.send(tx, record) {
            id
        } else {
            0
        }
    }

    /// Queues a record within the byte budget; false (and counted as dropped) when it does not
    /// fit or the queue is full.
    fn send(&self, tx: &mpsc::Sender<Record>, record: Record) -> bool {
        let bytes = record.queued_bytes();
        let before = self.inner.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        if before + bytes > MAX_QUEUED_BYTES || tx.try_send(record).is_err() {
            self.inner.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// The writer took a record off the queue.
    pub(crate) fn dequeued(&self, record: &Record) {
        self.inner
            .queued_bytes
            .fetch_sub(record.queued_bytes(), Ordering::Relaxed);
    }

    /// Records the reply to entry `id` (from [`CommandLog::request`]); `code` is the FAILURE
    /// code, `None` on SUCCESS.
    pub fn reply(&self, id: u64, duration: Duration, code: Option<&'static str>, text: &str) {
        let (Some(tx), true) = (&self.inner.tx, id != 0) else {
            return;
        };
        let text = if text.len() > MAX_TEXT {
            serde_json::json!({ "TRUNCATED": true, "BYTES": text.len() }).to_string()
        } else {
            text.to_string()
        };
        let record = Record::Reply {
            id,
            duration_us: duration.as_micros() as u64,
            code,
            text,
        };
        self.send(tx, record);
    }

    /// Records a frame that was not a valid request, with the FAILURE it got.
    pub fn rejected(&self, client: &Arc<Client>, text: &str, code: &'static str, reply: &str) {
        let id = self.request(client, "-", "-", "", text);
        self.reply(id, Duration::ZERO, Some(code), reply);
    }

    /// A connection asked for live entries.
    pub fn watch(&self, connection: u64) {
        if let Ok(mut live) = self.inner.live.lock() {
            live.insert(connection);
            self.inner.live_count.store(live.len(), Ordering::Relaxed);
        }
    }

    /// A connection stopped watching (or closed).
    pub fn unwatch(&self, connection: u64) -> bool {
        let Ok(mut live) = self.inner.live.lock() else {
            return false;
        };
        let was = live.remove(&connection);
        self.inner.live_count.store(live.len(), Ordering::Relaxed);
        was
    }

    /// Whether anyone watches live (the writer publishes nothing otherwise, so the bus stays
    /// quiet under load).
    pub(crate) fn watched(&self) -> bool {
        self.inner.live_count.load(Ordering::Relaxed) > 0
    }

    /// The next row id, for records the writer makes itself (events).
    pub(crate) fn allocate_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn count_dropped(&self, n: u64) {
        self.inner.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Writes what is queued and stops the writer. Call after every connection has finished so
    /// their last replies are recorded.
    pub async fn close(&self) {
        let Some(tx) = &self.inner.tx else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if tx.send(Record::Close(done)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
        }
        let handle = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(h) = handle {
            let _ = h.await;
        }
    }
}

/// Reading the log is not recorded: a support person scrolling would otherwise flood it.
fn is_log_reading(target: &str, action: &str) -> bool {
    target == "BASE" && action.starts_with("LOG")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `2026-11-25T16:45:12.345Z` for a Unix time in milliseconds (UTC, no time zone database).
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_right_around_leap_years() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_795_625_112_345), "2026-11-25T16:45:12.345Z");
    }
}

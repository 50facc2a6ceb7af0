//! CACHE's table and its writer. Every change goes through one group commit (the print queue's,
//! `store/group_commit.rs`), so a SET is acknowledged only once committed, a burst of SETs shares
//! one disk flush, and versions and the byte total are decided by one writer in arrival order.
//! Reads use a second connection, so a GET never waits behind a write's flush.
//!
//! Versions come from one counter for the whole cache (kept in `cache_meta`), never reused: a key
//! deleted and written again gets a new version, so a stale IF_VERSION cannot match it. Expired
//! rows are invisible to every read and to IF_VERSION at once and are deleted by a sweep (and
//! before a write is refused as CACHE_FULL). This file knows no request or connection.

use super::config::CacheConfig;
use crate::clock::now_ms_i64;
use crate::store::group_commit::{GroupCommit, WriteBatch};
use crate::store::{Store, StoreError};
use rusqlite::{params, OptionalExtension, Transaction};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const SCHEMA: &str = "
CREATE TABLE cache_entries (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    size INTEGER NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE INDEX cache_expiry ON cache_entries (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE cache_meta (id INTEGER PRIMARY KEY CHECK (id = 1), next_version INTEGER NOT NULL);
INSERT INTO cache_meta (id, next_version) VALUES (1, 1);
";

/// A change, as the writer applies it.
#[derive(Debug, Clone)]
pub(super) enum Write {
    Set {
        ns: String,
        key: String,
        value: String,
        expires_at: Option<i64>,
        if_version: Option<u64>,
    },
    Delete {
        ns: String,
        key: String,
        if_version: Option<u64>,
    },
    Clear {
        ns: String,
        prefix: String,
    },
    /// Deletes expired rows.
    Sweep,
}

/// What a committed change did.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Written {
    Set(Meta),
    /// Whether a live key was deleted.
    Deleted(bool),
    /// Live keys deleted.
    Cleared(u64),
    /// Expired rows deleted.
    Swept(u64),
}

/// Why a change was not made (nothing of it was stored).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Refused {
    VersionConflict { current: Option<u64> },
    Full { needed: u64, max: u64 },
}

pub(super) type Outcome = Result<Written, Refused>;

/// A key's version and times.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Meta {
    pub version: u64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
}

/// A live key as read.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub key: String,
    pub value: String,
    pub meta: Meta,
    pub size: u64,
}

/// Counts for STATS.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct Counts {
    pub keys: u64,
    pub bytes: u64,
}

/// What only the writer changes: the byte total and the next version.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    bytes: u64,
    next_version: u64,
}

/// A cheap handle to CACHE's table.
#[derive(Clone)]
pub(super) struct CacheStore {
    reader: Store,
    writer: GroupCommit<Write, Outcome>,
    totals: Arc<Mutex<Totals>>,
    max_bytes: u64,
}

impl CacheStore {
    /// Creates the table if needed, reads the totals and starts the writer.
    ///
    /// Fails when the database cannot be opened or migrated.
    pub(super) fn open(
        store: &Store,
        config: &CacheConfig,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<CacheStore, StoreError> {
        store.ensure_schema("cache_v1", SCHEMA)?;
        let totals = store.call_blocking(|c| {
            let bytes: i64 = c.query_row(
                "SELECT COALESCE(SUM(size), 0) FROM cache_entries",
                [],
                |r| r.get(0),
            )?;
            let next: i64 = c.query_row(
                "SELECT next_version FROM cache_meta WHERE id = 1",
                [],
                |r| r.get(0),
            )?;
            Ok(Totals {
                bytes: bytes.max(0) as u64,
                next_version: next.max(1) as u64,
            })
        })?;
        let totals = Arc::new(Mutex::new(totals));
        let max_bytes = config.max_bytes;
        let apply: WriteBatch<Write, Outcome> = {
            let store = store.clone();
            let totals = totals.clone();
            Arc::new(move |ops: &[Write]| apply_batch(&store, &totals, max_bytes, ops.to_vec()))
        };
        Ok(CacheStore {
            reader: store.reader()?,
            writer: GroupCommit::start("cache", apply, tracker, shutdown),
            totals,
            max_bytes,
        })
    }

    /// Applies `write` once committed.
    ///
    /// Fails when the database cannot be written or the engine is stopping.
    pub(super) async fn write(&self, write: Write) -> Result<Outcome, StoreError> {
        self.writer.enqueue(write).committed().await
    }

    /// Bytes stored (live and not yet swept) and the limit.
    pub(super) fn usage(&self) -> (u64, u64) {
        let bytes = self.totals.lock().map(|t| t.bytes).unwrap_or(0);
        (bytes, self.max_bytes)
    }

    /// A live key. A point lookup by primary key on the read connection: it runs on the calling
    /// thread (microseconds; a hop to the blocking pool would cost more than the read).
    ///
    /// Fails when the database cannot be read.
    pub(super) fn get(&self, ns: &str, key: &str) -> Result<Option<Entry>, StoreError> {
        let now = now_ms_i64();
        self.reader.call_blocking(|c| {
            c.prepare_cached(
                "SELECT key, value, version, updated_at, expires_at, size FROM cache_entries
                 WHERE ns = ?1 AND key = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
            )?
            .query_row(params![ns, key, now], entry)
            .optional()
        })
    }

    /// Live keys of `ns` starting with `prefix`, after `after`, in key order, at most `limit`.
    ///
    /// Fails when the database cannot be read.
    pub(super) async fn list(
        &self,
        ns: String,
        prefix: String,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let now = now_ms_i64();
        self.reader
            .call(move |c| {
                let from = match after {
                    Some(a) if a >= prefix => a,
                    _ => String::new(),
                };
                let mut stmt = c.prepare_cached(
                    "SELECT key, value, version, updated_at, expires_at, size FROM cache_entries
                     WHERE ns = ?1 AND key >= ?2 AND key > ?3 AND substr(key, 1, length(?2)) = ?2
                       AND (expires_at IS NULL OR expires_at > ?4)
                     ORDER BY key LIMIT ?5",
                )?;
                let rows = stmt.query_map(params![ns, prefix, from, now, limit as i64], entry)?;
                rows.collect()
            })
            .await
    }

    /// Live keys and their bytes in `ns`, and in the whole cache.
    ///
    /// Fails when the database cannot be read.
    pub(super) async fn counts(&self, ns: String) -> Result<(Counts, Counts), StoreError> {
        let now = now_ms_i64();
        self.reader
            .call(move |c| {
                let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
                    c.query_row(sql, p, |r| {
                        Ok(Counts {
                            keys: r.get::<_, i64>(0)?.max(0) as u64,
                            bytes: r.get::<_, i64>(1)?.max(0) as u64,
                        })
                    })
                };
                let mine = count(
                    "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM cache_entries
                     WHERE ns = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                    &[&ns, &now],
                )?;
                let all = count(
                    "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM cache_entries
                     WHERE expires_at IS NULL OR expires_at > ?1",
                    &[&now],
                )?;
                Ok((mine, all))
            })
            .await
    }
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        key: r.get(0)?,
        value: r.get(1)?,
        meta: Meta {
            version: r.get::<_, i64>(2)?.max(0) as u64,
            updated_at: r.get(3)?,
            expires_at: r.get(4)?,
        },
        size: r.get::<_, i64>(5)?.max(0) as u64,
    })
}

/// One batch in one transaction. The totals are changed only when it commits.
fn apply_batch(
    store: &Store,
    shared: &Mutex<Totals>,
    max_bytes: u64,
    ops: Vec<Write>,
) -> Result<Vec<Outcome>, StoreError> {
    let start = shared
        .lock()
        .map_err(|_| StoreError::Worker("cache totals poisoned".into()))
        .map(|t| *t)?;
    let (outs, totals) = store.call_blocking(move |c| {
        let tx = c.transaction()?;
        let mut totals = start;
        let now = now_ms_i64();
        let mut outs = Vec::with_capacity(ops.len());
        for op in ops {
            outs.push(apply_one(&tx, &mut totals, max_bytes, now, op)?);
        }
        if totals.next_version != start.next_version {
            tx.execute(
                "UPDATE cache_meta SET next_version = ?1 WHERE id = 1",
                [totals.next_version as i64],
            )?;
        }
        tx.commit()?;
        Ok((outs, totals))
    })?;
    if let Ok(mut t) = shared.lock() {
        *t = totals;
    }
    Ok(outs)
}

/// A row as the writer sees it: version, size, and whether it is still live.
struct Current {
    version: u64,
    size: u64,
    live: bool,
}

fn current(
    tx: &Transaction<'_>,
    ns: &str,
    key: &str,
    now: i64,
) -> rusqlite::Result<Option<Current>> {
    tx.query_row(
        "SELECT version, size, expires_at FROM cache_entries WHERE ns = ?1 AND key = ?2",
        params![ns, key],
        |r| {
            let expires: Option<i64> = r.get(2)?;
            Ok(Current {
                version: r.get::<_, i64>(0)?.max(0) as u64,
                size: r.get::<_, i64>(1)?.max(0) as u64,
                live: expires.is_none_or(|e| e > now),
            })
        },
    )
    .optional()
}

fn apply_one(
    tx: &Transaction<'_>,
    totals: &mut Totals,
    max_bytes: u64,
    now: i64,
    op: Write,
) -> rusqlite::Result<Outcome> {
    Ok(match op {
        Write::Set {
            ns,
            key,
            value,
            expires_at,
            if_version,
        } => {
            let mut cur = current(tx, &ns, &key, now)?;
            let live_version = cur.as_ref().filter(|c| c.live).map(|c| c.version);
            if let Some(want) = if_version {
                if live_version.unwrap_or(0) != want {
                    return Ok(Err(Refused::VersionConflict {
                        current: live_version,
                    }));
                }
            }
            let size = (key.len() + value.len()) as u64;
            let mut needed =
                totals.bytes - cur.as_ref().map_or(0, |c| c.size).min(totals.bytes) + size;
            if needed > max_bytes {
                totals.bytes = totals.bytes.saturating_sub(sweep(tx, now)?.1);
                cur = current(tx, &ns, &key, now)?;
                needed = totals.bytes - cur.as_ref().map_or(0, |c| c.size).min(totals.bytes) + size;
                if needed > max_bytes {
                    return Ok(Err(Refused::Full {
                        needed,
                        max: max_bytes,
                    }));
                }
            }
            let version = totals.next_version;
            totals.next_version += 1;
            tx.execute(
                "INSERT INTO cache_entries (ns, key, value, version, updated_at, expires_at, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, version = excluded.version,
                   updated_at = excluded.updated_at, expires_at = excluded.expires_at, size = excluded.size",
                params![ns, key, value, version as i64, now, expires_at, size as i64],
            )?;
            totals.bytes = needed;
            Ok(Written::Set(Meta {
                version,
                updated_at: now,
                expires_at,
            }))
        }
        Write::Delete {
            ns,
            key,
            if_version,
        } => {
            let cur = current(tx, &ns, &key, now)?;
            let live_version = cur.as_ref().filter(|c| c.live).map(|c| c.version);
            if let Some(want) = if_version {
                if live_version.unwrap_or(0) != want {
                    return Ok(Err(Refused::VersionConflict {
                        current: live_version,
                    }));
                }
            }
            if let Some(c) = &cur {
                tx.execute(
                    "DELETE FROM cache_entries WHERE ns = ?1 AND key = ?2",
                    params![ns, key],
                )?;
                totals.bytes = totals.bytes.saturating_sub(c.size);
            }
            Ok(Written::Deleted(live_version.is_some()))
        }
        Write::Clear { ns, prefix } => {
            let (live, bytes): (i64, i64) = tx.query_row(
                "SELECT COALESCE(SUM(CASE WHEN expires_at IS NULL OR expires_at > ?3 THEN 1 ELSE 0 END), 0),
                        COALESCE(SUM(size), 0)
                 FROM cache_entries WHERE ns = ?1 AND key >= ?2 AND substr(key, 1, length(?2)) = ?2",
                params![ns, prefix, now],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            tx.execute(
                "DELETE FROM cache_entries WHERE ns = ?1 AND key >= ?2 AND substr(key, 1, length(?2)) = ?2",
                params![ns, prefix],
            )?;
            totals.bytes = totals.bytes.saturating_sub(bytes.max(0) as u64);
            Ok(Written::Cleared(live.max(0) as u64))
        }
        Write::Sweep => {
            let (rows, bytes) = sweep(tx, now)?;
            totals.bytes = totals.bytes.saturating_sub(bytes);
            Ok(Written::Swept(rows))
        }
    })
}

/// Deletes expired rows: (rows, bytes).
fn sweep(tx: &Transaction<'_>, now: i64) -> rusqlite::Result<(u64, u64)> {
    let bytes: i64 = tx.query_row(
        "SELECT COALESCE(SUM(size), 0) FROM cache_entries WHERE expires_at IS NOT NULL AND expires_at <= ?1",
        [now],
        |r| r.get(0),
    )?;
    let rows = tx.execute(
        "DELETE FROM cache_entries WHERE expires_at IS NOT NULL AND expires_at <= ?1",
        [now],
    )?;
    Ok((rows as u64, bytes.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(name: &str, max_bytes: u64) -> (CacheStore, TaskTracker) {
        let d = std::env::temp_dir().join(format!("pispas-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let store = Store::open(&d).unwrap();
        let tracker = TaskTracker::new();
        let config = CacheConfig {
            max_bytes,
            ..CacheConfig::default()
        };
        let cs = CacheStore::open(&store, &config, &tracker, CancellationToken::new()).unwrap();
        (cs, tracker)
    }

    fn set(ns: &str, key: &str, value: &str, if_version: Option<u64>) -> Write {
        Write::Set {
            ns: ns.into(),
            key: key.into(),
            value: value.into(),
            expires_at: None,
            if_version,
        }
    }

    #[tokio::test]
    async fn versions_grow_and_are_not_reused_after_a_delete() {
        let (cs, _t) = open("versions", 1 << 20);
        let Ok(Written::Set(a)) = cs.write(set("n", "k", "1", None)).await.unwrap() else {
            panic!()
        };
        cs.write(Write::Delete {
            ns: "n".into(),
            key: "k".into(),
            if_version: None,
        })
        .await
        .unwrap()
        .unwrap();
        let Ok(Written::Set(b)) = cs.write(set("n", "k", "2", Some(0))).await.unwrap() else {
            panic!()
        };
        assert!(b.version > a.version);
        let stale = cs.write(set("n", "k", "3", Some(a.version))).await.unwrap();
        assert_eq!(
            stale,
            Err(Refused::VersionConflict {
                current: Some(b.version)
            })
        );
    }

    #[tokio::test]
    async fn a_write_over_the_total_is_refused_and_the_total_is_unchanged() {
        let (cs, _t) = open("full", 100);
        cs.write(set("n", "a", &"x".repeat(60), None))
            .await
            .unwrap()
            .unwrap();
        let before = cs.usage().0;
        let r = cs
            .write(set("n", "b", &"x".repeat(60), None))
            .await
            .unwrap();
        assert!(matches!(r, Err(Refused::Full { .. })), "{r:?}");
        assert_eq!(cs.usage().0, before);
        assert_eq!(cs.get("n", "b").unwrap(), None);
        // Replacing the one key with something of the same size fits.
        cs.write(set("n", "a", &"y".repeat(60), None))
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn expired_rows_are_invisible_and_swept_to_make_room() {
        let (cs, _t) = open("expired", 100);
        cs.write(Write::Set {
            ns: "n".into(),
            key: "old".into(),
            value: "x".repeat(60),
            expires_at: Some(now_ms_i64() - 1),
            if_version: None,
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(cs.get("n", "old").unwrap(), None);
        cs.write(set("n", "new", &"x".repeat(60), None))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cs.usage().0, 63);
    }

    #[tokio::test]
    async fn list_pages_by_prefix_in_key_order() {
        let (cs, _t) = open("list", 1 << 20);
        for k in ["a/1", "a/2", "a/3", "b/1"] {
            cs.write(set("n", k, "0", None)).await.unwrap().unwrap();
        }
        let page = cs.list("n".into(), "a/".into(), None, 2).await.unwrap();
        let keys: Vec<_> = page.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a/1", "a/2"]);
        let next = cs
            .list("n".into(), "a/".into(), Some("a/2".into()), 2)
            .await
            .unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].key, "a/3");
    }
}

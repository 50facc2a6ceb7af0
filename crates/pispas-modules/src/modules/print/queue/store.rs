//! The print queue's table in the engine's SQLite store: jobs are written here before a PRINT
//! is acknowledged, and their final state after the printer took them.
//!
//! A job's UUIDV4 is UNIQUE, which makes the request idempotent: a retried request finds the
//! first job instead of adding one. A job costs three commits: accepted, `sending_at` (just
//! before its first byte leaves) and finished. A crash before `sending_at` leaves it QUEUED, to
//! be resumed or expired; a crash after it leaves a job that may be on paper, which the next
//! start reports as FAILED `PRINT_INTERRUPTED` and never sends again by itself.

use super::state::JobState;
use crate::modules::print::document::{Format, Options};
use crate::protocol::ErrorCode;
use crate::store::{Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};
use serde_json::Value;

const SCHEMA: &str = "
CREATE TABLE print_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    printer TEXT NOT NULL,
    format TEXT NOT NULL,
    data BLOB NOT NULL,
    options TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    accepted_at INTEGER NOT NULL,
    finished_at INTEGER,
    bytes INTEGER,
    timings TEXT,
    source_job INTEGER
);
CREATE INDEX print_jobs_pending ON print_jobs (printer, state, id);
";

/// Why a job that was going out when the engine stopped is not sent again.
pub const INTERRUPTED: &str = "the service stopped while this job was going to the printer: it may have printed whole, in part or not at all, so it is not sent again by itself; look at the printer and REPRINT it if it is not there";

/// A new job.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub uuid: String,
    pub printer: String,
    pub format: Format,
    pub data: Vec<u8>,
    pub options: Options,
    pub accepted_at: i64,
    pub source_job: Option<i64>,
    /// The client that sent it: its browser origin, or `native clients`.
    pub client: String,
}

/// A job as stored (without its data unless asked).
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub id: i64,
    pub uuid: String,
    pub printer: String,
    pub format: Format,
    pub options: Options,
    pub state: JobState,
    /// Why it waits or failed: the FAILURE code the POS gets.
    pub reason: Option<ErrorCode>,
    pub message: Option<String>,
    pub attempts: i64,
    pub accepted_at: i64,
    pub finished_at: Option<i64>,
    pub bytes: Option<i64>,
    pub timings: Option<Value>,
    pub source_job: Option<i64>,
    pub size: i64,
    /// Who sent it (`None` for jobs stored before this was recorded).
    pub client: Option<String>,
}

const COLUMNS: &str = "id, uuid, printer, format, options, state, reason, message, attempts, accepted_at, finished_at, bytes, timings, source_job, length(data), client";

/// A column whose text is not what this version writes: the row cannot be used as a job.
fn unreadable(index: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, what.into())
}

/// The code stored as a job's reason. Rows written before reasons were codes said `EXPIRED` and
/// `CANCELLED`; text that is no code is dropped with a warning rather than failing the read.
fn reason_of(text: Option<String>) -> Option<ErrorCode> {
    let text = text?;
    match text.as_str() {
        "EXPIRED" => Some(ErrorCode::JobExpired),
        "CANCELLED" => Some(ErrorCode::JobCancelled),
        other => ErrorCode::from_wire(other).or_else(|| {
            tracing::warn!(
                reason = other,
                "a stored print job has a reason this version does not know"
            );
            None
        }),
    }
}

fn row(r: &Row) -> rusqlite::Result<JobRow> {
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let format: String = r.get(3)?;
    let format =
        Format::from_stored(&format).ok_or_else(|| unreadable(3, format!("format {format:?}")))?;
    let options: String = r.get(4)?;
    let options = serde_json::from_str::<Value>(&options)
        .map_err(|e| e.to_string())
        .and_then(|v| Options::parse(Some(&v)))
        .map_err(|e| unreadable(4, format!("options: {e}")))?;
    let state: String = r.get(5)?;
    let state = JobState::parse(&state).ok_or_else(|| unreadable(5, format!("state {state:?}")))?;
    Ok(JobRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        printer: r.get(2)?,
        format,
        options,
        state,
        reason: reason_of(r.get(6)?),
        message: r.get(7)?,
        attempts: r.get(8)?,
        accepted_at: r.get(9)?,
        finished_at: r.get(10)?,
        bytes: r.get(11)?,
        timings: json(r.get(12)?),
        source_job: r.get(13)?,
        size: r.get(14)?,
        client: r.get(15)?,
    })
}

/// The queue's view of the store; a cheap clone.
#[derive(Clone, Debug)]
pub struct JobStore {
    store: Store,
}

/// Whether an insert created the job or found it already there.
#[derive(Debug)]
pub enum Inserted {
    New(JobRow),
    Existing(JobRow),
}

impl JobStore {
    /// Creates the table if needed.
    ///
    /// Fails when the database cannot be written.
    pub fn open(store: Store) -> Result<JobStore, StoreError> {
        store.ensure_schema("print_v1", SCHEMA)?;
        // Who sent each job, so only that client (or an administrator) may cancel it.
        store.ensure_schema(
            "print_v2_client",
            "ALTER TABLE print_jobs ADD COLUMN client TEXT",
        )?;
        // When the job's bytes started to leave (NULL while it has not, or when a failed attempt
        // put it back in line): a restart must not send it again by itself.
        store.ensure_schema(
            "print_v3_sending",
            "ALTER TABLE print_jobs ADD COLUMN sending_at INTEGER",
        )?;
        Ok(JobStore { store })
    }

    /// Inserts jobs in one transaction (one disk flush for all of them); each is new, or the one
    /// already stored under its UUID. Blocking: run it on the blocking pool.
    ///
    /// Fails when the database cannot be written; then none of them is stored.
    pub fn insert_batch_blocking(&self, jobs: &[NewJob]) -> Result<Vec<Inserted>, StoreError> {
        self.store.call_blocking(|c| {
            let tx = c.transaction()?;
            let mut out = Vec::with_capacity(jobs.len());
            for job in jobs {
                let existing = tx
                    .query_row(&format!("SELECT {COLUMNS} FROM print_jobs WHERE uuid = ?1"), [&job.uuid], row)
                    .optional()?;
                if let Some(e) = existing {
                    out.push(Inserted::Existing(e));
                    continue;
                }
                tx.execute(
                    "INSERT INTO print_jobs (uuid, printer, format, data, options, state, accepted_at, source_job, client) VALUES (?1, ?2, ?3, ?4, ?5, 'QUEUED', ?6, ?7, ?8)",
                    params![job.uuid, job.printer, job.format.to_stored(), job.data, job.options.to_json().to_string(), job.accepted_at, job.source_job, job.client],
                )?;
                let id = tx.last_insert_rowid();
                out.push(Inserted::New(tx.query_row(&format!("SELECT {COLUMNS} FROM print_jobs WHERE id = ?1"), [id], row)?));
            }
            tx.commit()?;
            Ok(out)
        })
    }

    /// The oldest job of `printer` still to print, with its data. A job whose row this
    /// version cannot read is marked FAILED (INTERNAL, saying so) rather than blocking the line.
    pub async fn next_pending(
        &self,
        printer: &str,
    ) -> Result<Option<(JobRow, Vec<u8>)>, StoreError> {
        let printer = printer.to_string();
        self.store
            .call(move |c| loop {
                let id: Option<i64> = c
                    .query_row(
                        "SELECT id FROM print_jobs WHERE printer = ?1 AND state IN ('QUEUED','WAITING') ORDER BY id LIMIT 1",
                        [&printer],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(id) = id else { return Ok(None) };
                let found = c.query_row(
                    &format!("SELECT {COLUMNS}, data FROM print_jobs WHERE id = ?1"),
                    [id],
                    |r| Ok((row(r)?, r.get::<_, Vec<u8>>(16)?)),
                );
                match found {
                    Ok(job) => return Ok(Some(job)),
                    Err(rusqlite::Error::FromSqlConversionFailure(_, _, why)) => {
                        tracing::error!(job = id, %why, "stored print job unreadable; marked failed");
                        c.execute(
                            "UPDATE print_jobs SET state = 'FAILED', reason = ?2, message = ?3, finished_at = ?4 WHERE id = ?1",
                            params![id, ErrorCode::Internal.as_str(), format!("the stored job could not be read ({why})"), crate::clock::now_ms_i64()],
                        )?;
                    }
                    Err(e) => return Err(e),
                }
            })
            .await
    }

    /// Records a state change; returns whether the job was still pending (a cancelled job is
    /// not overwritten).
    pub async fn set_state(
        &self,
        id: i64,
        new_state: JobState,
        reason: Option<ErrorCode>,
        message: Option<String>,
        finished: Option<(i64, i64, Value)>,
    ) -> Result<bool, StoreError> {
        self.store
            .call(move |c| {
                let (finished_at, bytes, timings) = match finished {
                    Some((at, bytes, t)) => (Some(at), Some(bytes), Some(t.to_string())),
                    None => (None, None, None),
                };
                let n = c.execute(
                    "UPDATE print_jobs SET state = ?2, reason = ?3, message = ?4, attempts = attempts + (?2 = 'WAITING'), sending_at = CASE WHEN ?2 = 'WAITING' THEN NULL ELSE sending_at END, finished_at = COALESCE(?5, finished_at), bytes = COALESCE(?6, bytes), timings = COALESCE(?7, timings) WHERE id = ?1 AND state IN ('QUEUED','WAITING')",
                    params![id, new_state.as_str(), reason.map(ErrorCode::as_str), message, finished_at, bytes, timings],
                )?;
                Ok(n == 1)
            })
            .await
    }

    /// Records, durably, that the job's bytes start to leave now. Returns whether the job was
    /// still pending.
    ///
    /// Fails when the database cannot be written.
    pub async fn mark_sending(&self, id: i64, at: i64) -> Result<bool, StoreError> {
        self.store
            .call(move |c| {
                c.execute(
                    "UPDATE print_jobs SET sending_at = ?2 WHERE id = ?1 AND state IN ('QUEUED','WAITING')",
                    params![id, at],
                )
                .map(|n| n == 1)
            })
            .await
    }

    /// Jobs a stopped engine had started to send and never finished become FAILED
    /// `PRINT_INTERRUPTED`: they may be on paper, whole or in part, so they are reported, not
    /// sent again. Returns them.
    ///
    /// Fails when the database cannot be written.
    pub fn interrupt_started(&self, now: i64) -> Result<Vec<JobRow>, StoreError> {
        self.store.call_blocking(move |c| {
            let tx = c.transaction()?;
            let started: Vec<JobRow> = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT {COLUMNS} FROM print_jobs WHERE state IN ('QUEUED','WAITING') AND sending_at IS NOT NULL ORDER BY id"
                ))?;
                let rows = stmt.query_map([], row)?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            tx.execute(
                "UPDATE print_jobs SET state = 'FAILED', reason = ?1, message = ?2, finished_at = ?3 WHERE state IN ('QUEUED','WAITING') AND sending_at IS NOT NULL",
                params![ErrorCode::PrintInterrupted.as_str(), INTERRUPTED, now],
            )?;
            tx.commit()?;
            Ok(started
                .into_iter()
                .map(|mut j| {
                    j.state = JobState::Failed;
                    j.reason = Some(ErrorCode::PrintInterrupted);
                    j.message = Some(INTERRUPTED.into());
                    j.finished_at = Some(now);
                    j
                })
                .collect())
        })
    }

    /// A job by id, with or without its data.
    pub async fn get(&self, id: i64) -> Result<Option<JobRow>, StoreError> {
        self.store
            .call(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM print_jobs WHERE id = ?1"),
                    [id],
                    row,
                )
                .optional()
            })
            .await
    }

    /// A job by its request's UUIDV4.
    pub async fn by_uuid(&self, uuid: &str) -> Result<Option<JobRow>, StoreError> {
        let uuid = uuid.to_string();
        self.store
            .call(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM print_jobs WHERE uuid = ?1"),
                    [uuid],
                    row,
                )
                .optional()
            })
            .await
    }

    /// A job's document.
    pub async fn data(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.store
            .call(move |c| {
                c.query_row("SELECT data FROM print_jobs WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
            })
            .await
    }

    /// The newest jobs first, optionally of one printer and/or one state.
    pub async fn list(
        &self,
        printer: Option<String>,
        state: Option<JobState>,
        limit: u32,
    ) -> Result<Vec<JobRow>, StoreError> {
        self.store
            .call(move |c| {
                let mut stmt = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM print_jobs WHERE (?1 IS NULL OR printer = ?1) AND (?2 IS NULL OR state = ?2) ORDER BY id DESC LIMIT ?3"
                ))?;
                let rows = stmt.query_map(params![printer, state.map(JobState::as_str), limit], row)?;
                rows.collect()
            })
            .await
    }

    /// Cancels a pending job; returns the job as it is now.
    pub async fn cancel(&self, id: i64, at: i64) -> Result<Option<JobRow>, StoreError> {
        self.store
            .call(move |c| {
                c.execute(
                    "UPDATE print_jobs SET state = 'CANCELLED', finished_at = ?2, reason = 'JOB_CANCELLED', message = 'cancelled before it printed' WHERE id = ?1 AND state IN ('QUEUED','WAITING')",
                    params![id, at],
                )?;
                c.query_row(&format!("SELECT {COLUMNS} FROM print_jobs WHERE id = ?1"), [id], row).optional()
            })
            .await
    }

    /// Jobs accepted before `cutoff` and never delivered become EXPIRED; returns them.
    pub fn expire_older_than(&self, cutoff: i64, now: i64) -> Result<Vec<JobRow>, StoreError> {
        self.store
            .call_blocking(move |c| {
                let tx = c.transaction()?;
                let expired: Vec<JobRow> = {
                    let mut stmt = tx.prepare(&format!(
                        "SELECT {COLUMNS} FROM print_jobs WHERE state IN ('QUEUED','WAITING') AND accepted_at < ?1 ORDER BY id"
                    ))?;
                    let rows = stmt.query_map([cutoff], row)?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                tx.execute(
                    "UPDATE print_jobs SET state = 'EXPIRED', reason = 'JOB_EXPIRED', finished_at = ?2, message = 'not printed within PRINT_RESUME_WINDOW; re-send it from the command log if still wanted' WHERE state IN ('QUEUED','WAITING') AND accepted_at < ?1",
                    params![cutoff, now],
                )?;
                tx.commit()?;
                Ok(expired
                    .into_iter()
                    .map(|mut j| {
                        j.state = JobState::Expired;
                        j.reason = Some(ErrorCode::JobExpired);
                        j
                    })
                    .collect())
            })
    }

    /// Deletes finished jobs older than `cutoff` (keeps the table small).
    pub fn prune(&self, cutoff: i64) -> Result<usize, StoreError> {
        self.store
            .call_blocking(move |c| c.execute("DELETE FROM print_jobs WHERE finished_at IS NOT NULL AND finished_at < ?1 AND state NOT IN ('QUEUED','WAITING')", [cutoff]))
    }

    /// Bytes of documents waiting to print.
    ///
    /// Fails when the table cannot be read.
    pub fn waiting_bytes(&self) -> Result<u64, StoreError> {
        self.store.call_blocking(|c| {
            c.query_row(
                "SELECT COALESCE(SUM(length(data)), 0) FROM print_jobs WHERE state IN ('QUEUED','WAITING')",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|b| b.max(0) as u64)
    }

    /// Deletes the oldest finished jobs until the table's documents take at most `max_bytes`;
    /// returns how many went.
    ///
    /// Fails when the database cannot be written.
    pub fn prune_to_size(&self, max_bytes: u64) -> Result<usize, StoreError> {
        let max = i64::try_from(max_bytes).unwrap_or(i64::MAX);
        self.store.call_blocking(move |c| {
            let mut removed = 0;
            loop {
                let total: i64 = c.query_row("SELECT COALESCE(SUM(length(data)), 0) FROM print_jobs", [], |r| r.get(0))?;
                if total <= max {
                    return Ok(removed);
                }
                let n = c.execute(
                    "DELETE FROM print_jobs WHERE id IN (SELECT id FROM print_jobs WHERE state NOT IN ('QUEUED','WAITING') ORDER BY id LIMIT 100)",
                    [],
                )?;
                if n == 0 {
                    return Ok(removed);
                }
                removed += n;
            }
        })
    }

    /// How many jobs each printer has waiting.
    pub async fn pending_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.store
            .call(|c| {
                let mut stmt = c.prepare("SELECT printer, count(*) FROM print_jobs WHERE state IN ('QUEUED','WAITING') GROUP BY printer")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect()
            })
            .await
    }
}

//! The engine's one SQLite database (`<DATA_DIR>/pispas.db`, WAL): the print queue, the command
//! log, the CACHE store and the payment journal each own tables in it.
//!
//! Modules declare their tables with [`Store::ensure_schema`] (named, applied once, recorded in
//! `schema_migrations`) and run statements through [`Store::call`], which moves the blocking
//! SQLite work off the async runtime. Writes the client was told succeeded are committed before the
//! reply. A damaged database found at open is renamed aside and replaced (`recovery.rs`).
//! This file knows no module's tables.

pub mod group_commit;
mod recovery;

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// File name of the database inside the data folder.
pub const FILE: &str = "pispas.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database worker stopped: {0}")]
    Worker(String),
    /// The disk was full (reported from another task, so only the text is kept).
    #[error("database: {0}")]
    Full(String),
}

impl StoreError {
    /// Whether the disk (or the database's size limit) is full: SQLite wrote nothing of the
    /// transaction and the database is as it was, so the caller can say so and carry on.
    pub fn is_full(&self) -> bool {
        let sql = match self {
            StoreError::Open { source, .. } | StoreError::Sql(source) => source,
            StoreError::Worker(_) => return false,
            StoreError::Full(_) => return true,
        };
        sql.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
    }
}

/// A cheap, cloneable handle to the database.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    /// What was done at open with a damaged or orphaned file, for the log and STATUS.
    recovered: Option<Arc<str>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, in WAL mode with full sync, so a
    /// committed row survives a crash or power cut.
    ///
    /// Fails when the file cannot be opened or is not a SQLite database.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_file(data_dir, FILE)
    }

    /// Opens (creating if needed) the database `file` in `data_dir`, as [`Store::open`] does.
    /// A part whose writes must never wait for another's (the command log) has a file of its
    /// own: SQLite lets one writer at a time into a database.
    ///
    /// Fails when the file cannot be opened or is not a SQLite database.
    pub fn open_file(data_dir: &Path, file: &str) -> Result<Store, StoreError> {
        let path = data_dir.join(file);
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let io_err = |e: std::io::Error| StoreError::Worker(format!("{}: {e}", path.display()));
        let mut recovered = recovery::set_aside_orphan_wal(&path).map_err(io_err)?;
        let conn = match Store::connect(&path, true) {
            Ok(conn) => conn,
            Err(recovery::Damage::Refused(e)) if !recovery::is_damage(&e) => {
                return Err(open_err(e))
            }
            Err(damage) => {
                recovered = Some(recovery::set_aside_damaged(&path, &damage).map_err(io_err)?);
                Store::connect(&path, false).map_err(|d| match d {
                    recovery::Damage::Refused(e) => open_err(e),
                    recovery::Damage::Check(c) => StoreError::Worker(c),
                })?
            }
        };
        if let Some(note) = &recovered {
            tracing::error!(path = %path.display(), "{note}");
        }
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
            recovered: recovered.map(Arc::from),
        })
    }

    /// One connection in WAL mode with full sync; `check` runs SQLite's quick integrity check
    /// first (at start only: a reader opened beside a running store skips it).
    fn connect(path: &Path, check: bool) -> Result<Connection, recovery::Damage> {
        use recovery::Damage::Refused;
        let conn = Connection::open(path).map_err(Refused)?;
        // Owner-only: the queue keeps receipts and the journal payments. SQLite gives its -wal
        // and -shm files the same permissions.
        if let Err(e) = crate::config::owner_only(path) {
            tracing::warn!(path = %path.display(), error = %e, "could not make the database owner-only");
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(Refused)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(Refused)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(Refused)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(Refused)?;
        if check {
            recovery::check(&conn)?;
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)",
        )
        .map_err(Refused)?;
        Ok(conn)
    }

    /// What the store did at open with a damaged database or an orphaned write-ahead log (the
    /// files it renamed and kept), if anything.
    pub fn recovered(&self) -> Option<&str> {
        self.recovered.as_deref()
    }

    /// Another connection to the same database file, for reads that must not wait behind a
    /// write's disk flush (WAL lets readers run beside the one writer).
    ///
    /// Fails when the file cannot be opened.
    pub fn reader(&self) -> Result<Store, StoreError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let path = dir.join(self.path.file_name().unwrap_or(FILE.as_ref()));
        let conn = Store::connect(&path, false).map_err(|d| match d {
            recovery::Damage::Refused(source) => StoreError::Open {
                path: path.clone(),
                source,
            },
            recovery::Damage::Check(c) => StoreError::Worker(c),
        })?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
            recovered: None,
        })
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `sql` once under `name` (e.g. `print_v1`); later calls with the same name do
    /// nothing. Each migration runs in one transaction.
    ///
    /// Fails when the SQL fails; nothing of it is kept then.
    pub fn ensure_schema(&self, name: &str, sql: &str) -> Result<(), StoreError> {
        self.call_blocking(|conn| {
            let tx = conn.transaction()?;
            let done: bool =
                tx.query_row("SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)", [name], |r| r.get(0))?;
            if !done {
                tx.execute_batch(sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, strftime('%s','now'))",
                    [name],
                )?;
            }
            tx.commit()
        })
    }

    /// Runs `f` on the connection on the current thread. Use from blocking contexts only.
    pub fn call_blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Worker("a database call panicked".into()))?;
        Ok(f(&mut conn)?)
    }

    /// Runs `f` on the connection on the blocking thread pool, so the async runtime never waits
    /// on disk.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.call_blocking(f))
            .await
            .map_err(|e| StoreError::Worker(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pispas-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[cfg(unix)]
    #[test]
    fn the_database_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("mode");
        let store = Store::open(&d).unwrap();
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_schema_is_applied_once_and_rows_survive_reopening() {
        let d = dir("schema");
        let store = Store::open(&d).unwrap();
        store
            .ensure_schema("t_v1", "CREATE TABLE t (x INTEGER)")
            .unwrap();
        store
            .ensure_schema("t_v1", "CREATE TABLE t (x INTEGER)")
            .unwrap();
        store
            .call_blocking(|c| c.execute("INSERT INTO t VALUES (7)", []))
            .unwrap();
        drop(store);
        let again = Store::open(&d).unwrap();
        let x: i64 = again
            .call_blocking(|c| c.query_row("SELECT x FROM t", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(x, 7);
        let mode: String = again
            .call_blocking(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind() {
        let store = Store::open(&dir("fail")).unwrap();
        assert!(store
            .ensure_schema("bad", "CREATE TABLE a (x); THIS IS NOT SQL")
            .is_err());
        let exists: bool = store
            .call_blocking(|c| {
                c.query_row(
                    "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name='a')",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert!(!exists);
        store.ensure_schema("bad", "CREATE TABLE a (x)").unwrap();
    }

    #[tokio::test]
    async fn async_calls_run_off_the_runtime() {
        let store = Store::open(&dir("async")).unwrap();
        let n: i64 = store
            .call(|c| c.query_row("SELECT 40 + 2", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(n, 42);
    }
}

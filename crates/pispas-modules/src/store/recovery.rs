//! What the store does with a database it cannot trust at start: a file that is not SQLite, one
//! that fails `PRAGMA quick_check` (truncated, overwritten), or a `-wal` left beside a database
//! that was deleted. The damaged files are renamed, never deleted (`pispas.db.corrupt-<unix
//! time>`, `pispas.db-wal.orphan-<unix time>`), so support can still read what they hold, and a
//! new empty database is started; the note it returns goes to the log and to STATUS's WARNINGS.
//! It does not try to repair or copy rows out of a damaged file: a half-read payment journal is
//! worse than an empty one that says so.

use std::path::{Path, PathBuf};

/// Why a database file was not used.
#[derive(Debug)]
pub(super) enum Damage {
    /// SQLite refused it (not a database, corrupt).
    Refused(rusqlite::Error),
    /// `PRAGMA quick_check` found problems; its first line.
    Check(String),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Refused(e) => write!(f, "{e}"),
            Damage::Check(first) => write!(f, "integrity check: {first}"),
        }
    }
}

/// Whether `e` says the file itself is damaged (rather than, say, unreadable or the disk full).
pub(super) fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Runs SQLite's quick integrity check on an open connection.
pub(super) fn check(conn: &rusqlite::Connection) -> Result<(), Damage> {
    let first: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(Damage::Refused)?;
    if first == "ok" {
        Ok(())
    } else {
        Err(Damage::Check(first))
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The database was deleted but its `-wal` (and `-shm`) stayed: SQLite would replay those pages
/// into the new empty file. They are renamed first. Returns the note, if anything was moved.
///
/// Fails when a file cannot be renamed.
pub(super) fn set_aside_orphan_wal(path: &Path) -> std::io::Result<Option<String>> {
    let wal = with_suffix(path, "-wal");
    if path.exists() || !wal.exists() {
        return Ok(None);
    }
    let stamp = unix_now();
    let aside = with_suffix(&wal, &format!(".orphan-{stamp}"));
    std::fs::rename(&wal, &aside)?;
    let shm = with_suffix(path, "-shm");
    if shm.exists() {
        std::fs::rename(&shm, with_suffix(&shm, &format!(".orphan-{stamp}")))?;
    }
    Ok(Some(format!(
        "database {} was missing but its write-ahead log was there; the log was kept as {} and a new empty database started",
        path.display(),
        aside.display()
    )))
}

/// Renames the damaged database and its `-wal`/`-shm` aside. Returns the note.
///
/// Fails when the database file cannot be renamed.
pub(super) fn set_aside_damaged(path: &Path, damage: &Damage) -> std::io::Result<String> {
    let stamp = unix_now();
    let aside = with_suffix(path, &format!(".corrupt-{stamp}"));
    std::fs::rename(path, &aside)?;
    for side in ["-wal", "-shm"] {
        let p = with_suffix(path, side);
        if p.exists() {
            std::fs::rename(&p, with_suffix(&aside, side))?;
        }
    }
    Ok(format!(
        "database {} was damaged ({damage}); it was kept as {} and a new empty database started: jobs, payments, tickets and cached values from before are not in the new one",
        path.display(),
        aside.display()
    ))
}

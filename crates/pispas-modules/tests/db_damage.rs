//! The database damaged between runs of the real binary: truncated, overwritten with garbage, or
//! deleted with its write-ahead log left behind. The engine starts anyway on a new empty
//! database, says so (STATUS's WARNINGS and the log), and keeps the damaged files renamed beside
//! it (`pispas.db.corrupt-<time>`, `pispas.db-wal.orphan-<time>`) for support to read.
// SIGTERM for a clean stop (so the database file is complete, its log checkpointed): Unix only.
#![cfg(unix)]

use pispas_testkit::client::Client;
use pispas_testkit::{test_dir, BinaryServer};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const ENV: [(&str, &str); 2] = [("MODULES", "base,cache"), ("LOG_LEVEL", "warn")];

fn engine(dir: &Path) -> BinaryServer {
    BinaryServer::start_in(Path::new(env!("CARGO_BIN_EXE_pispas-modules")), dir, &ENV)
        .expect("the engine starts whatever the database looks like")
}

/// An engine that stored one CACHE value; `clean` stops it with SIGTERM (database complete,
/// log checkpointed), otherwise SIGKILL (the value only in the write-ahead log).
async fn a_run_that_stored_a_value(dir: &Path, clean: bool) {
    let mut e = engine(dir);
    let mut c = Client::plain(e.addr).await.unwrap();
    let r = c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "cart/1", "VALUE": "two cafes"}),
        )
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    drop(c);
    if clean {
        let pid = e.child.id().to_string();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        assert!(e.child.wait().unwrap().success(), "a clean stop");
    } else {
        e.kill().unwrap();
    }
}

/// Files in `dir` whose name starts with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect()
}

async fn warnings(c: &mut Client) -> Vec<String> {
    let r = c.call("BASE", "STATUS", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    r["MESSAGE_DATA"]["WARNINGS"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

/// The new database works: the old value is gone (it was in the damaged file) and a new one
/// is kept.
async fn the_new_database_works(c: &mut Client) {
    let r = c
        .call("CACHE", "GET", json!({"KEY": "cart/1"}))
        .await
        .unwrap();
    assert_ne!(r["MESSAGE_DATA"]["VALUE"], "two cafes", "{r:#}");
    let r = c
        .call("CACHE", "SET", json!({"KEY": "cart/2", "VALUE": "one"}))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
}

#[tokio::test]
async fn a_truncated_database_is_kept_aside_and_the_engine_starts_on_a_new_one() {
    let dir = test_dir("db-truncated");
    a_run_that_stored_a_value(&dir, true).await;
    let db = dir.join("pispas.db");
    let len = std::fs::metadata(&db).unwrap().len();
    assert!(len > 8192, "a database with pages to lose ({len} bytes)");
    let half = len / 2;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(half)
        .unwrap();
    let e = engine(&dir);
    let mut c = Client::plain(e.addr).await.unwrap();
    let w = warnings(&mut c).await;
    assert!(
        w.iter()
            .any(|w| w.contains("damaged") && w.contains("corrupt-")),
        "STATUS says what was done: {w:?}"
    );
    let kept = named(&dir, "pispas.db.corrupt-");
    let kept: Vec<_> = kept
        .iter()
        .filter(|p| {
            !p.to_string_lossy().ends_with("-wal") && !p.to_string_lossy().ends_with("-shm")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        std::fs::metadata(kept[0]).unwrap().len(),
        half,
        "kept as it was"
    );
    the_new_database_works(&mut c).await;
}

#[tokio::test]
async fn a_database_of_garbage_bytes_is_kept_aside_byte_for_byte() {
    let dir = test_dir("db-garbage");
    let garbage: Vec<u8> = (0u32..65_536)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("pispas.db"), &garbage).unwrap();
    let e = engine(&dir);
    let mut c = Client::plain(e.addr).await.unwrap();
    let w = warnings(&mut c).await;
    assert!(w.iter().any(|w| w.contains("damaged")), "{w:?}");
    let kept = named(&dir, "pispas.db.corrupt-");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), garbage);
    the_new_database_works(&mut c).await;
}

#[tokio::test]
async fn a_deleted_database_with_a_leftover_wal_starts_empty_and_keeps_the_wal() {
    let dir = test_dir("db-deleted");
    a_run_that_stored_a_value(&dir, false).await;
    let wal = dir.join("pispas.db-wal");
    let wal_bytes = std::fs::read(&wal).expect("SIGKILL left the write-ahead log");
    assert!(!wal_bytes.is_empty());
    std::fs::remove_file(dir.join("pispas.db")).unwrap();
    let e = engine(&dir);
    let mut c = Client::plain(e.addr).await.unwrap();
    let w = warnings(&mut c).await;
    assert!(
        w.iter()
            .any(|w| w.contains("missing") && w.contains("orphan-")),
        "{w:?}"
    );
    let kept = named(&dir, "pispas.db-wal.orphan-");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), wal_bytes);
    the_new_database_works(&mut c).await;
}

#[tokio::test]
async fn a_sound_database_is_used_as_it_is_and_nothing_is_renamed() {
    let dir = test_dir("db-sound");
    a_run_that_stored_a_value(&dir, false).await;
    let e = engine(&dir);
    let mut c = Client::plain(e.addr).await.unwrap();
    let r = c
        .call("CACHE", "GET", json!({"KEY": "cart/1"}))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_DATA"]["VALUE"], "two cafes", "{r:#}");
    assert!(warnings(&mut c)
        .await
        .iter()
        .all(|w| !w.contains("database")));
    assert!(named(&dir, "pispas.db.").is_empty());
    assert!(named(&dir, "pispas.db-wal.").is_empty());
}

//! A full disk while queueing (security review: "a full disk gives a clear FAILURE and corrupts
//! nothing"): the engine's data folder on a small tmpfs, filled to the last byte. A job sent then
//! is refused with STORAGE_FULL, the connection and the jobs stored before are unharmed, and once
//! space is freed the next job prints. Mounting needs root (CI runs as root); elsewhere the test
//! says it did not run.
#![cfg(target_os = "linux")]

mod print_support;

use pispas_testkit::client::Client;
use print_support::*;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A 4 MiB tmpfs, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(name: &str) -> Option<SmallDisk> {
        let dir = pispas_testkit::test_dir(name);
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes a file until the disk refuses more.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    path
}

#[tokio::test]
async fn a_full_disk_refuses_the_job_clearly_and_loses_nothing_stored_before() {
    let Some(disk) = SmallDisk::mount("disk-full") else {
        eprintln!("not run: mounting a tmpfs needs root");
        return;
    };
    let printer = tcp_printer().await;
    let uri = format!("tcp://{}", printer.addr());
    let data_dir = disk.0.to_string_lossy().into_owned();
    let server = engine(
        "disk-full-engine",
        &[("RECEIPT", uri)],
        &[("DATA_DIR", &data_dir)],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let first = print(&mut c, "RECEIPT", "TEXT", json!("Mesa 1\n"), json!({})).await;
    let first_id = delivered(&first)["JOB_ID"].clone();

    let filler = fill(&disk.0);
    let big = "Mesa 2 ".repeat(40_000);
    let refused = print(&mut c, "RECEIPT", "TEXT", json!(big), json!({})).await;
    failed_with(&refused, "STORAGE_FULL");
    assert!(
        refused["MESSAGE_DATA"]["MESSAGE"]
            .as_str()
            .is_some_and(|m| m.contains("disk")),
        "{refused}"
    );
    // The connection is fine, and the job stored before is still there and printed.
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
    std::fs::remove_file(filler).unwrap();
    let job = c
        .call("PRINT", "JOB", json!({ "JOB_ID": first_id }))
        .await
        .unwrap();
    assert_eq!(job["MESSAGE_DATA"]["STATE"], "DELIVERED", "{job}");
    let again = print(&mut c, "RECEIPT", "TEXT", json!("Mesa 2\n"), json!({})).await;
    delivered(&again);
    drop(server);
}

//! The virtual printer on a real pty (Unix): the engine opens the link like a serial printer.
#![cfg(unix)]

use pispas_sim::printer::{Paper, VirtualPrinter};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);

fn link(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pispas-sim-test-{name}-{}", std::process::id()))
}

async fn open(path: &std::path::Path) -> tokio::fs::File {
    tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .await
        .expect("open the pty link")
}

#[tokio::test]
async fn a_job_written_to_the_link_prints_and_jobs_end_at_cuts() {
    let path = link("prn-jobs");
    let printer = VirtualPrinter::start_pty(&path).await.expect("pty");
    let mut port = open(&path).await;
    port.write_all(b"one\n\x1DV\x01two\n\x1DV\x01")
        .await
        .expect("write");
    port.flush().await.expect("flush");
    printer.wait_for_cuts(2, WAIT).await.expect("two cuts");
    let jobs = printer.wait_for_jobs(2, WAIT).await.expect("two jobs");
    assert_eq!(jobs[0].document.text(), "one\n");
    assert_eq!(jobs[1].document.text(), "two\n");
    assert_eq!(printer.text(), "one\ntwo\n");
}

#[tokio::test]
async fn dle_eot_is_answered_over_the_pty() {
    let path = link("prn-status");
    let printer = VirtualPrinter::start_pty(&path).await.expect("pty");
    printer.set_paper(Paper::Out);
    let mut port = open(&path).await;
    port.write_all(&[0x10, 0x04, 0x04]).await.expect("write");
    port.flush().await.expect("flush");
    let mut answer = [0u8; 1];
    port.read_exact(&mut answer).await.expect("answer");
    assert_eq!(answer, [0x72]);
}

#[tokio::test]
async fn drop_after_closes_the_pty_and_a_new_one_serves_the_same_link() {
    let path = link("prn-fault");
    let printer = VirtualPrinter::start_pty(&path).await.expect("pty");
    let first_target = std::fs::read_link(&path).expect("link");
    printer.drop_after(4);
    let mut port = open(&path).await;
    port.write_all(b"lost job\n").await.expect("write");
    port.flush().await.expect("flush");
    let jobs = printer.wait_for_jobs(1, WAIT).await.expect("dropped job");
    assert!(jobs[0].dropped);
    assert_eq!(printer.received_bytes(), b"lost");
    let mut byte = [0u8; 1];
    assert!(
        matches!(port.read(&mut byte).await, Err(_) | Ok(0)),
        "the old line is dead"
    );
    // The new pty is made right after the drop; the engine reopens the same path.
    let mut port = loop {
        match std::fs::read_link(&path) {
            Ok(target) if target != first_target => break open(&path).await,
            _ => tokio::task::yield_now().await,
        }
    };
    port.write_all(b"again\n\x1DV\x00").await.expect("write");
    port.flush().await.expect("flush");
    printer
        .wait_for_cuts(1, WAIT)
        .await
        .expect("printed on the new pty");
    // What arrived before the hang-up was printed; the rest of that job was lost.
    assert_eq!(printer.text(), "lostagain\n");
}

#[tokio::test]
async fn the_link_is_removed_when_the_printer_is_dropped() {
    let path = link("prn-drop");
    let printer = VirtualPrinter::start_pty(&path).await.expect("pty");
    assert!(std::fs::read_link(&path).is_ok());
    drop(printer);
    // The pty closes on the runtime; the waiter here is the runtime yielding to that task.
    for _ in 0..1000 {
        if std::fs::symlink_metadata(&path).is_err() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("link {} still there", path.display());
}

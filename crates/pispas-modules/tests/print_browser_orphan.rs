//! A killed service leaves no rendering browser behind (security review, load and faults): the
//! real binary renders an HTML receipt (so its warm Chromium runs), is SIGKILLed, and every
//! process of that browser must be gone soon after — before the guard, one stayed for good.
// Needs Chromium from the host and /proc: Linux only.
#![cfg(target_os = "linux")]

mod print_support;

use pispas_testkit::client::Client;
use pispas_testkit::BinaryServer;
use print_support::*;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// Pids of processes whose command line names a profile of the service `engine`.
fn browser_processes(engine: u32) -> Vec<u32> {
    let marker = format!("pispas-chromium-{engine}-");
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = state
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
        if !zombie && String::from_utf8_lossy(&cmd).contains(&marker) {
            out.push(pid);
        }
    }
    out
}

#[tokio::test]
async fn the_rendering_browser_dies_with_a_killed_service() {
    let sim = tcp_printer().await;
    let uri = format!("tcp://{}", sim.addr());
    let mut server = BinaryServer::start(
        Path::new(env!("CARGO_BIN_EXE_pispas-modules")),
        "browser-orphan",
        &[("MODULES", "base,print"), ("PRINTER_RECEIPT", &uri)],
    )
    .unwrap();
    let mut c = Client::plain(server.addr).await.unwrap();
    let html = "<html><body><p>Mesa 4</p></body></html>";
    delivered(&print(&mut c, "RECEIPT", "HTML", json!(html), json!({})).await);
    let engine = server.child.id();
    let before = browser_processes(engine);
    assert!(!before.is_empty(), "the warm browser should be running");

    server.child.kill().unwrap();
    server.child.wait().unwrap();
    // Wait for the processes to go (they exit by themselves); give up after a minute.
    let started = Instant::now();
    let mut left = browser_processes(engine);
    while !left.is_empty() && started.elapsed() < Duration::from_mins(1) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = browser_processes(engine);
    }
    assert!(
        left.is_empty(),
        "browser processes outlived the service: {left:?} (of {before:?})"
    );
}

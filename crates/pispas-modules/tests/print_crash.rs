//! Crash and restart with the real binary: jobs accepted but not printed when the engine is
//! SIGKILLed print exactly once after it starts again, unless they are older than
//! PRINT_RESUME_WINDOW, in which case they are expired and never printed.
// Needs Chromium, pdfium, CUPS, ptys or Unix signals from the host: Linux only (docs/windows.md).
#![cfg(not(windows))]
#![cfg(unix)]

mod print_support;

use pispas_testkit::client::Client;
use pispas_testkit::{free_port, test_dir};
use print_support::*;
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The engine process; killed (SIGKILL) when dropped, so a failing test leaves nothing behind.
struct Engine(Option<Child>);

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(data_dir: &Path, printer_uri: &str, window: &str) -> (Engine, SocketAddr) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pispas-modules"))
        .arg("--config")
        .arg(data_dir.join(".env"))
        .arg("--data-dir")
        .arg(data_dir)
        .env("LOCAL_PORT", port.to_string())
        .env("MODULES", "base,print")
        .env("PRINTER_RECEIPT", printer_uri)
        .env("PRINT_PREWARM", "false")
        .env("PRINT_RESUME_WINDOW", window)
        .env("LOG_LEVEL", "info,pispas_modules=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("binary");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let t = Instant::now();
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "the engine exited");
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the engine did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (Engine(Some(child)), addr)
}

fn kill(mut engine: Engine) {
    // std's kill is SIGKILL on Unix: no shutdown code runs.
    if let Some(mut child) = engine.0.take() {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[tokio::test]
async fn jobs_queued_when_the_engine_is_killed_print_exactly_once_after_restart() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let dir = test_dir("crash-resume");
    let uri = format!("tcp://{}", sim.addr());
    let (child, addr) = start(&dir, &uri, "300");
    let mut c = Client::plain(addr).await.unwrap();
    for i in 0..3 {
        let r = print(
            &mut c,
            "RECEIPT",
            "TEXT",
            json!(format!("survivor {i}")),
            json!({}),
        )
        .await;
        assert_eq!(
            r["MESSAGE_DATA"]["REASON"], "PAPER_OUT",
            "waiting, or queued behind the one that waits: {r:#}"
        );
    }
    kill(child);
    sim.set_paper(Paper::Ok);
    let (child, addr) = start(&dir, &uri, "300");
    sim.wait_for_cuts(3, WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sim.cuts().len(), 3, "each printed once");
    let text = sim.text();
    for i in 0..3 {
        assert_eq!(text.matches(&format!("survivor {i}")).count(), 1, "{text}");
    }
    let order: Vec<usize> = (0..3)
        .map(|i| text.find(&format!("survivor {i}")).unwrap())
        .collect();
    assert!(
        order[0] < order[1] && order[1] < order[2],
        "in the order they were accepted"
    );
    let mut c = Client::plain(addr).await.unwrap();
    let jobs = c.call("PRINT", "JOBS", json!({})).await.unwrap();
    let states: Vec<&str> = jobs["MESSAGE_DATA"]["JOBS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["STATE"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["DELIVERED"; 3]);
    kill(child);
}

#[tokio::test]
async fn jobs_older_than_the_resume_window_are_expired_not_printed_after_restart() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let dir = test_dir("crash-expire");
    let uri = format!("tcp://{}", sim.addr());
    let (child, addr) = start(&dir, &uri, "300");
    let mut c = Client::plain(addr).await.unwrap();
    let r = print(
        &mut c,
        "RECEIPT",
        "TEXT",
        json!("two hours late"),
        json!({}),
    )
    .await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "WAITING");
    kill(child);
    sim.set_paper(Paper::Ok);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (child, addr) = start(&dir, &uri, "1");
    let mut c = Client::plain(addr).await.unwrap();
    let job = c
        .call(
            "PRINT",
            "JOB",
            json!({ "JOB_ID": r["MESSAGE_DATA"]["JOB_ID"] }),
        )
        .await
        .unwrap();
    assert_eq!(job["MESSAGE_DATA"]["STATE"], "EXPIRED", "{job:#}");
    assert!(job["MESSAGE_DATA"]["MESSAGE"]
        .as_str()
        .unwrap()
        .contains("re-send"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sim.cuts().is_empty());
    kill(child);
}

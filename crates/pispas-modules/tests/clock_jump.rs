//! The wall clock jumping under the running engine (issue 14: "the clock jumping"), as NTP does to
//! a till that booted with a dead CMOS battery: the real binary runs under libfaketime (Debian's
//! `faketime`, scripts/setup/engine.sh) reading its offset from a file on every call, with the
//! monotonic clock left alone, as on a real machine. A day forward and a day back: a job waiting
//! for paper still prints (it waited seconds, not a day), the kitchen keeps its tickets and takes
//! bumps, the cache keeps its values, and every reply stays a reply.
// LD_PRELOAD of a Linux library.
#![cfg(target_os = "linux")]

mod print_support;

use pispas_testkit::client::Client;
use pispas_testkit::{test_dir, BinaryServer};
use print_support::{tcp_printer, Paper, WAIT};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const DAY_MS: i64 = 24 * 3600 * 1000;

fn libfaketime() -> PathBuf {
    let candidates = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("libfaketime is missing: apt-get install faketime (scripts/setup/engine.sh does)")
}

fn set_clock(file: &Path, offset: &str) {
    // Written whole, then renamed, so the engine never reads half an offset.
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, offset).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

fn ok(r: &Value) -> &Value {
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    &r["MESSAGE_DATA"]
}

/// The engine's wall clock, as ORDER_KITCHEN STATUS reports it.
async fn engine_now(c: &mut Client) -> i64 {
    let r = c.call("ORDER_KITCHEN", "STATUS", json!({})).await.unwrap();
    ok(&r)["NOW"].as_i64().unwrap()
}

async fn job_state(c: &mut Client, id: &Value) -> String {
    let r = c
        .call("PRINT", "JOB", json!({ "JOB_ID": id }))
        .await
        .unwrap();
    ok(&r)["STATE"].as_str().unwrap().to_string()
}

async fn print_text(c: &mut Client, text: &str) -> Value {
    let r = c
        .call("PRINT", "PRINT", json!({ "FORMAT": "TEXT", "DATA": text }))
        .await
        .unwrap();
    ok(&r)["JOB_ID"].clone()
}

/// Waits until `text` is on paper and the printer has cut `cuts` receipts in all, then for the
/// job to leave the queue; returns its state.
async fn printed_state(
    c: &mut Client,
    printer: &pispas_sim::printer::VirtualPrinter,
    job: &Value,
    text: &str,
    cuts: usize,
) -> String {
    printer
        .wait_until(text, WAIT, |d| d.text().contains(text))
        .await
        .unwrap();
    let mut state = job_state(c, job).await;
    for _ in 0..100 {
        if !matches!(state.as_str(), "WAITING" | "PRINTING" | "QUEUED") {
            break;
        }
        printer.wait_for_cuts(cuts, WAIT).await.ok();
        state = job_state(c, job).await;
    }
    state
}

#[tokio::test]
async fn a_day_forward_and_back_loses_nothing_and_expires_nothing_early() {
    let printer = tcp_printer().await;
    printer.set_paper(Paper::Out);
    let dir = test_dir("clock-jump");
    let clock = dir.join("faketime");
    set_clock(&clock, "+0");
    let lib = libfaketime();
    let uri = format!("tcp://{}", printer.addr());
    let env = [
        ("LD_PRELOAD", lib.to_str().unwrap()),
        ("FAKETIME_TIMESTAMP_FILE", clock.to_str().unwrap()),
        ("FAKETIME_NO_CACHE", "1"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ("MODULES", "base,print,cache,order_kitchen"),
        ("PRINTER_RECEIPT", uri.as_str()),
        ("PRINT_PREWARM", "false"),
        ("LOG_LEVEL", "warn"),
    ];
    let e = BinaryServer::start_in(Path::new(env!("CARGO_BIN_EXE_pispas-modules")), &dir, &env)
        .expect("the engine starts under libfaketime");
    let mut c = Client::plain(e.addr).await.unwrap();
    let job = print_text(&mut c, "before the jump").await;
    assert_eq!(job_state(&mut c, &job).await, "WAITING");
    ok(&c
        .call(
            "ORDER_KITCHEN",
            "SEND",
            json!({ "TICKET": "J1", "LINES": [{ "LINE": "1", "QTY": 1, "NAME": "Paella" }] }),
        )
        .await
        .unwrap());
    ok(&c
        .call(
            "CACHE",
            "SET",
            json!({ "KEY": "cart/7", "VALUE": "3 cañas" }),
        )
        .await
        .unwrap());
    let before = engine_now(&mut c).await;

    // A day forward (NTP after a boot with the wrong date).
    set_clock(&clock, "+1d");
    let after = engine_now(&mut c).await;
    assert!(
        (after - before - DAY_MS).abs() < 60_000,
        "the engine's clock jumped a day ({before} → {after}): libfaketime works here"
    );
    printer.set_paper(Paper::Ok);
    let state = printed_state(&mut c, &printer, &job, "before the jump", 1).await;
    assert_eq!(
        state, "DELIVERED",
        "a job that waited seconds is not expired by a clock that jumped a day"
    );
    let t = ok(&c
        .call("ORDER_KITCHEN", "GET", json!({ "TICKET": "J1" }))
        .await
        .unwrap())
    .clone();
    assert_eq!(t["TICKET"], "J1", "{t:#}");
    ok(&c
        .call(
            "ORDER_KITCHEN",
            "BUMP",
            json!({ "TICKET": "J1", "BY": "GRILL" }),
        )
        .await
        .unwrap());
    assert_eq!(
        ok(&c
            .call("CACHE", "GET", json!({ "KEY": "cart/7" }))
            .await
            .unwrap())["VALUE"],
        "3 cañas"
    );

    // Two days back: before the ticket was made.
    set_clock(&clock, "-1d");
    let back = engine_now(&mut c).await;
    assert!(back < before, "the clock went back ({before} → {back})");
    let status = c.call("ORDER_KITCHEN", "STATUS", json!({})).await.unwrap();
    let age = ok(&status)["OLDEST_AGE_MS"].as_i64().unwrap();
    assert!(
        (0..DAY_MS).contains(&age),
        "a ticket from the future is not a negative age: {age}"
    );
    ok(&c
        .call(
            "ORDER_KITCHEN",
            "BUMP",
            json!({ "TICKET": "J1", "BY": "GRILL" }),
        )
        .await
        .unwrap());
    let fresh_job = print_text(&mut c, "after going back").await;
    let state = printed_state(&mut c, &printer, &fresh_job, "after going back", 2).await;
    assert_eq!(state, "DELIVERED");
    assert_eq!(
        ok(&c
            .call("CACHE", "GET", json!({ "KEY": "cart/7" }))
            .await
            .unwrap())["VALUE"],
        "3 cañas"
    );
    let r = c.call("BASE", "PING", json!({})).await.unwrap();
    ok(&r);
}

//! Kitchen printers end to end: ORDER_KITCHEN's chits (KITCHEN_PRINT_<STATION>) reach a virtual
//! ESC/POS printer through PRINT's queue, each ticket version once: a new ticket prints its
//! station's lines, an UPDATE or VOID only what changed; retries and duplicate SENDs print
//! nothing; KITCHEN_PRINT_WHEN=no_display prints only while no display is subscribed; and the
//! real binary SIGKILLed with chits queued prints each exactly once after it starts again.
#![cfg(unix)]

mod print_support;

use pispas_testkit::client::{next_uuid, Client};
use pispas_testkit::launch::BinaryServer;
use pispas_testkit::{start_engine, test_dir, TestEngine};
use print_support::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

fn ok(r: &Value) -> &Value {
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    &r["MESSAGE_DATA"]
}

fn ticket(id: &str, order: &str) -> Value {
    json!({
        "TICKET": id, "ORDER": order, "TABLE": "7",
        "LINES": [
            {"LINE": "1", "QTY": 2, "NAME": "Burger", "MODIFIERS": ["no onion"]},
            {"LINE": "2", "QTY": 1, "NAME": "Cola", "STATION": "BAR"}
        ]
    })
}

/// Waits until nothing more prints for a while, then returns the cut count.
async fn settled(sim: &VirtualPrinter) -> usize {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sim.cuts().len()
}

/// An engine with stations GRILL and BAR, and GRILL's chits going to PRINTER_KITCHEN at `uri`.
async fn grill_printer(name: &str, uri: &str, extra: &[(&str, &str)]) -> TestEngine {
    let mut env = vec![
        ("MODULES", "base,print,order_kitchen"),
        ("PRINT_PREWARM", "false"),
        ("PRINTER_KITCHEN", uri),
        ("KITCHEN_STATIONS", "GRILL,BAR"),
        ("KITCHEN_PRINT_GRILL", "KITCHEN"),
    ];
    env.extend_from_slice(extra);
    start_engine(name, &env).await
}

#[tokio::test]
async fn each_ticket_version_prints_once_and_an_update_prints_only_what_changed() {
    let sim = tcp_printer().await;
    let uri = format!("tcp://{}", sim.addr());
    let engine = grill_printer("kitchen-print", &uri, &[]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let send = next_uuid();
    ok(&pos
        .call_with_uuid(&send, "ORDER_KITCHEN", "SEND", ticket("T1", "A-101"))
        .await
        .unwrap());
    // A retry of the same SEND and the same TICKET under a new UUIDV4: no new chit.
    let r = pos
        .call_with_uuid(&send, "ORDER_KITCHEN", "SEND", ticket("T1", "A-101"))
        .await
        .unwrap();
    assert_eq!(ok(&r)["REPLAYED"], true);
    let r = pos
        .call("ORDER_KITCHEN", "SEND", ticket("T1", "A-101"))
        .await
        .unwrap();
    assert_eq!(ok(&r)["DUPLICATE"], true);
    sim.wait_for_cuts(1, WAIT).await.unwrap();
    let update = json!({"TICKET": "T1", "LINES": [
        {"LINE": "1", "CANCEL_QTY": 1},
        {"LINE": "3", "QTY": 1, "NAME": "Fries"}
    ]});
    let u = next_uuid();
    ok(&pos
        .call_with_uuid(&u, "ORDER_KITCHEN", "UPDATE", update.clone())
        .await
        .unwrap());
    ok(&pos
        .call_with_uuid(&u, "ORDER_KITCHEN", "UPDATE", update)
        .await
        .unwrap());
    ok(&pos
        .call(
            "ORDER_KITCHEN",
            "VOID",
            json!({"TICKET": "T1", "LINE": "3"}),
        )
        .await
        .unwrap());
    // A change on BAR only (no printer there): nothing for the grill.
    ok(&pos
        .call(
            "ORDER_KITCHEN",
            "VOID",
            json!({"TICKET": "T1", "LINE": "2"}),
        )
        .await
        .unwrap());
    sim.wait_for_cuts(3, WAIT).await.unwrap();
    assert_eq!(settled(&sim).await, 3, "new, update, void: one chit each");
    let text = sim.text();
    assert_eq!(text.matches("2x Burger").count(), 1, "{text}");
    assert_eq!(text.matches("** UPDATE **").count(), 2, "{text}");
    assert_eq!(text.matches("CANCEL 1x Burger").count(), 1, "{text}");
    assert_eq!(text.matches("ADD 1x Fries").count(), 1, "{text}");
    assert_eq!(text.matches("VOID 1x Fries").count(), 1, "{text}");
    assert!(
        !text.contains("Cola"),
        "BAR lines never reach the grill: {text}"
    );
}

#[tokio::test]
async fn with_print_when_no_display_a_subscribed_display_stops_the_chits() {
    let sim = tcp_printer().await;
    let uri = format!("tcp://{}", sim.addr());
    let engine = grill_printer(
        "kitchen-print-when",
        &uri,
        &[("KITCHEN_PRINT_WHEN", "no_display")],
    )
    .await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let mut display = Client::plain(engine.addr()).await.unwrap();
    ok(&display
        .call("ORDER_KITCHEN", "SUBSCRIBE", json!({"STATION": "GRILL"}))
        .await
        .unwrap());
    ok(&pos
        .call("ORDER_KITCHEN", "SEND", ticket("T1", "SHOWN-1"))
        .await
        .unwrap());
    assert_eq!(settled(&sim).await, 0, "the display shows it: no chit");
    drop(display);
    tokio::time::sleep(Duration::from_millis(300)).await;
    ok(&pos
        .call("ORDER_KITCHEN", "SEND", ticket("T2", "PAPER-2"))
        .await
        .unwrap());
    sim.wait_for_cuts(1, WAIT).await.unwrap();
    assert_eq!(settled(&sim).await, 1);
    let text = sim.text();
    assert!(
        text.contains("PAPER-2") && !text.contains("SHOWN-1"),
        "{text}"
    );
}

fn start(dir: &Path, uri: &str) -> BinaryServer {
    BinaryServer::start_in(
        Path::new(env!("CARGO_BIN_EXE_pispas-modules")),
        dir,
        &[
            ("MODULES", "base,print,order_kitchen"),
            ("PRINTER_KITCHEN", uri),
            ("PRINT_PREWARM", "false"),
            ("KITCHEN_PRINT_KITCHEN", "KITCHEN"),
        ],
    )
    .expect("the engine binary")
}

#[tokio::test]
async fn chits_queued_when_the_engine_is_killed_print_exactly_once_after_restart() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let dir = test_dir("kitchen-print-crash");
    let uri = format!("tcp://{}", sim.addr());
    let engine = start(&dir, &uri);
    let mut pos = Client::plain(engine.addr).await.unwrap();
    for i in 0..3 {
        ok(&pos
            .call(
                "ORDER_KITCHEN",
                "SEND",
                json!({"TICKET": format!("K{i}"), "ORDER": format!("SURVIVOR-{i}"),
                       "LINES": [{"LINE": "1", "QTY": 1, "NAME": "Steak"}]}),
            )
            .await
            .unwrap());
    }
    // Until PRINT holds the three jobs (waiting for paper).
    let t = Instant::now();
    loop {
        let jobs = pos.call("PRINT", "JOBS", json!({})).await.unwrap();
        if jobs["MESSAGE_DATA"]["JOBS"].as_array().map_or(0, Vec::len) >= 3 {
            break;
        }
        assert!(t.elapsed() < WAIT, "PRINT never got the chits: {jobs:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine.kill().unwrap(); // SIGKILL: no shutdown code runs
    sim.set_paper(Paper::Ok);
    let engine = start(&dir, &uri);
    sim.wait_for_cuts(3, WAIT).await.unwrap();
    assert_eq!(settled(&sim).await, 3, "each chit printed once");
    let text = sim.text();
    for i in 0..3 {
        assert_eq!(text.matches(&format!("SURVIVOR-{i}")).count(), 1, "{text}");
    }
    // A retry of a SEND after the restart prints nothing more.
    let mut pos = Client::plain(engine.addr).await.unwrap();
    let r = pos
        .call(
            "ORDER_KITCHEN",
            "SEND",
            json!({"TICKET": "K0", "ORDER": "SURVIVOR-0",
                   "LINES": [{"LINE": "1", "QTY": 1, "NAME": "Steak"}]}),
        )
        .await
        .unwrap();
    assert_eq!(ok(&r)["DUPLICATE"], true);
    assert_eq!(settled(&sim).await, 3);
}

#[tokio::test]
async fn chits_made_while_print_was_off_print_once_when_it_is_back() {
    let sim = tcp_printer().await;
    let dir = test_dir("kitchen-print-outbox");
    let uri = format!("tcp://{}", sim.addr());
    // PRINT is not enabled: the chit can only wait in the kitchen's outbox.
    let without_print = BinaryServer::start_in(
        Path::new(env!("CARGO_BIN_EXE_pispas-modules")),
        &dir,
        &[
            ("MODULES", "base,order_kitchen"),
            ("KITCHEN_PRINT_KITCHEN", "KITCHEN"),
        ],
    )
    .expect("the engine binary");
    let mut pos = Client::plain(without_print.addr).await.unwrap();
    ok(&pos
        .call(
            "ORDER_KITCHEN",
            "SEND",
            json!({"TICKET": "W1", "ORDER": "WAITED-1",
                   "LINES": [{"LINE": "1", "QTY": 1, "NAME": "Soup"}]}),
        )
        .await
        .unwrap());
    without_print.kill().unwrap();
    let engine = start(&dir, &uri);
    sim.wait_for_cuts(1, WAIT).await.unwrap();
    assert_eq!(settled(&sim).await, 1);
    engine.kill().unwrap();
    // Started once more: the chit was marked sent, nothing prints again.
    let _engine = start(&dir, &uri);
    assert_eq!(settled(&sim).await, 1, "{}", sim.text());
    assert_eq!(sim.text().matches("WAITED-1").count(), 1);
}

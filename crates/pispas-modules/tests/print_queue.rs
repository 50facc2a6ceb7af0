//! The durable queue as a POS sees it: nothing prints twice, nothing is printed blind into a
//! printer without paper, jobs wait and then print (or expire), a slow printer blocks nobody,
//! and bad input gets a clear FAILURE while the service carries on.
// Needs Chromium, pdfium, CUPS, ptys or Unix signals from the host: Linux only (docs/windows.md).
#![cfg(not(windows))]

mod print_support;

use pispas_testkit::client::{request_text, Client, Connect};
use print_support::*;
use serde_json::{json, Value};
use std::time::Duration;

fn job_bytes_sent(sim: &VirtualPrinter) -> bool {
    // Anything besides DLE EOT status requests (10 04 n) is job data.
    sim.received_bytes()
        .chunks(3)
        .any(|c| c.len() < 3 || c[0] != 0x10 || c[1] != 0x04)
}

#[tokio::test]
async fn paper_out_is_known_before_sending_and_the_job_prints_when_paper_is_back() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let server = engine(
        "q-paper",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(
        &mut c,
        "RECEIPT",
        "TEXT",
        json!("wait for paper"),
        json!({}),
    )
    .await;
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "WAITING");
    assert_eq!(r["MESSAGE_DATA"]["REASON"], "PAPER_OUT");
    assert!(
        !job_bytes_sent(&sim),
        "not one byte of the job went to a printer without paper"
    );
    let t = std::time::Instant::now();
    let behind = print(&mut c, "RECEIPT", "TEXT", json!("behind it"), json!({})).await;
    // Told at once, not at PRINT_REPLY_TIMEOUT_MS (30 s): half of it is a bound no busy
    // machine comes near, and a reply held to the timeout cannot beat it.
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "told at once, not at the reply timeout ({:?})",
        t.elapsed()
    );
    assert_eq!(
        (
            behind["MESSAGE_DATA"]["STATE"].as_str(),
            behind["MESSAGE_DATA"]["REASON"].as_str()
        ),
        (Some("QUEUED"), Some("PAPER_OUT")),
        "{behind:#}"
    );
    sim.set_paper(Paper::Ok);
    let s = c.call("PRINT", "STATUS", json!({})).await.unwrap();
    assert_eq!(s["MESSAGE_DATA"]["STATE"], "READY");
    sim.wait_for_cuts(2, WAIT).await.unwrap();
    let text = sim.text();
    assert!(
        text.find("wait for paper").unwrap() < text.find("behind it").unwrap(),
        "{text}"
    );
    let id = r["MESSAGE_DATA"]["JOB_ID"].clone();
    let job = c
        .call("PRINT", "JOB", json!({ "JOB_ID": id }))
        .await
        .unwrap();
    assert_eq!(job["MESSAGE_DATA"]["STATE"], "DELIVERED", "{job:#}");
}

#[tokio::test]
async fn with_queue_off_paper_out_is_a_paper_out_failure_and_never_prints() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let server = engine(
        "q-paper-fail",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(
        &mut c,
        "RECEIPT",
        "TEXT",
        json!("now or never"),
        json!({ "QUEUE": false }),
    )
    .await;
    failed_with(&r, "PAPER_OUT");
    assert_eq!(r["MESSAGE_DATA"]["DETAILS"]["STATE"], "FAILED");
    sim.set_cover_open(true);
    sim.set_paper(Paper::Ok);
    failed_with(
        &print(
            &mut c,
            "RECEIPT",
            "TEXT",
            json!("x"),
            json!({ "QUEUE": false }),
        )
        .await,
        "COVER_OPEN",
    );
    sim.set_cover_open(false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!job_bytes_sent(&sim));
}

#[tokio::test]
async fn an_unreachable_printer_keeps_the_job_until_it_is_back() {
    let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = spare.local_addr().unwrap();
    drop(spare);
    let server = engine("q-offline", &[("RECEIPT", format!("tcp://{addr}"))], &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(&mut c, "RECEIPT", "TEXT", json!("later"), json!({})).await;
    assert_eq!(
        (
            r["MESSAGE_DATA"]["STATE"].as_str(),
            r["MESSAGE_DATA"]["REASON"].as_str()
        ),
        (Some("WAITING"), Some("PRINTER_OFFLINE")),
        "{r:#}"
    );
    let s = c.call("PRINT", "STATUS", json!({})).await.unwrap();
    assert_eq!(
        (
            s["MESSAGE_DATA"]["STATE"].as_str(),
            s["MESSAGE_DATA"]["ONLINE"].as_bool()
        ),
        (Some("OFFLINE"), Some(false))
    );
    let sim = VirtualPrinter::start_tcp(&addr.to_string()).await.unwrap();
    sim.wait_for_cuts(1, WAIT).await.unwrap();
    assert!(sim.text().contains("later"));
}

#[tokio::test]
async fn a_printer_that_drops_mid_job_gets_the_job_again_and_it_prints_once() {
    let sim = tcp_printer().await;
    sim.drop_after(2000);
    let server = engine(
        "q-drop",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(
        &mut c,
        "RECEIPT",
        "IMAGE",
        json!(b64(&pattern_png(576, 200))),
        json!({}),
    )
    .await;
    delivered(&r);
    let jobs = sim.jobs();
    assert!(
        jobs.iter().any(|j| j.dropped),
        "the first attempt was cut off"
    );
    assert_eq!(sim.cuts().len(), 1, "printed once");
    let complete = jobs.iter().filter(|j| j.document.cuts().len() == 1).count();
    assert_eq!(complete, 1);
}

#[tokio::test]
async fn the_same_uuid_twice_prints_once_and_answers_the_first_outcome() {
    let sim = tcp_printer().await;
    let server = engine(
        "q-idem",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let req = request_text(
        "11111111-1111-4111-8111-111111111111",
        "PRINT",
        "PRINT",
        json!({ "PRINTER": "RECEIPT", "FORMAT": "TEXT", "DATA": "once" }),
    );
    // Two in flight at once (a POS retrying on a fresh socket), then a third after the fact.
    let mut c2 = Client::plain(server.addr()).await.unwrap();
    c.send_text(req.clone()).await.unwrap();
    c2.send_text(req.clone()).await.unwrap();
    let a = c
        .reply_to("11111111-1111-4111-8111-111111111111")
        .await
        .unwrap();
    let b = c2
        .reply_to("11111111-1111-4111-8111-111111111111")
        .await
        .unwrap();
    c.send_text(req).await.unwrap();
    let third = c
        .reply_to("11111111-1111-4111-8111-111111111111")
        .await
        .unwrap();
    for r in [&a, &b, &third] {
        assert_eq!(delivered(r)["JOB_ID"], a["MESSAGE_DATA"]["JOB_ID"]);
    }
    assert_eq!(third["MESSAGE_DATA"]["DUPLICATE"], true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.cuts().len(), 1);
    assert_eq!(sim.text().matches("once").count(), 1);
}

#[tokio::test]
async fn a_printer_running_out_of_paper_is_a_device_state_event_for_the_status_window_and_tray() {
    let sim = tcp_printer().await;
    let server = engine(
        "q-device",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut bus = server.engine.events().subscribe();
    let mut c = Client::plain(server.addr()).await.unwrap();
    sim.set_paper(Paper::Out);
    let r = print(&mut c, "RECEIPT", "TEXT", json!("x"), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["REASON"], "PAPER_OUT");
    let ev = tokio::time::timeout(WAIT, async {
        loop {
            let ev = bus.recv().await.unwrap();
            if ev.data["EVENT"] == "DEVICE_STATE" {
                return ev;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        (ev.data["DEVICE"].as_str(), ev.data["STATE"].as_str()),
        (Some("PRINT:RECEIPT"), Some("PAPER_OUT")),
        "{:?}",
        ev.data
    );
}

#[tokio::test]
async fn jobs_to_one_printer_print_in_the_order_they_were_sent() {
    let sim = tcp_printer().await;
    let server = engine(
        "q-order",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let mut uuids = Vec::new();
    for i in 0..20 {
        uuids.push(
            c.send(
                "PRINT",
                "PRINT",
                json!({ "PRINTER": "RECEIPT", "FORMAT": "TEXT", "DATA": format!("ticket {i:02}") }),
            )
            .await
            .unwrap(),
        );
    }
    for u in &uuids {
        delivered(&c.reply_to(u).await.unwrap());
    }
    let text = sim.text();
    let order: Vec<usize> = (0..20)
        .map(|i| text.find(&format!("ticket {i:02}")).expect("printed"))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[tokio::test]
async fn a_slow_printer_blocks_neither_another_printer_nor_a_ping() {
    let slow = tcp_printer().await;
    slow.set_slow(Some(4000));
    let fast = tcp_printer().await;
    let server = engine(
        "q-slow",
        &[
            ("SLOW", format!("tcp://{}", slow.addr())),
            ("FAST", format!("tcp://{}", fast.addr())),
        ],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let big = c
        .send(
            "PRINT",
            "PRINT",
            json!({ "PRINTER": "SLOW", "FORMAT": "IMAGE", "DATA": b64(&pattern_png(576, 300)) }),
        )
        .await
        .unwrap();
    // Wait until the slow printer has the job (its events say so), not for a fixed time.
    c.wait_for(|v| {
        v["MESSAGE_TYPE"] == "EVENT"
            && v["MESSAGE_UUID"] == big.as_str()
            && v["MESSAGE_DATA"]["JOB"]["STATE"] == "PRINTING"
    })
    .await
    .unwrap();
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
    delivered(&print(&mut c, "FAST", "TEXT", json!("fast"), json!({})).await);
    assert!(
        slow.cuts().is_empty(),
        "the fast printer and the PING had to wait for the slow one"
    );
    let s = c
        .call("PRINT", "STATUS", json!({ "PRINTER": "SLOW" }))
        .await
        .unwrap();
    assert_eq!(
        s["MESSAGE_DATA"]["PRINTING"], true,
        "STATUS does not open a second connection mid-job: {s:#}"
    );
    delivered(&c.reply_to(&big).await.unwrap());
}

#[tokio::test]
async fn a_waiting_job_can_be_cancelled_and_then_never_prints() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let server = engine(
        "q-cancel",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(&mut c, "RECEIPT", "TEXT", json!("cancel me"), json!({})).await;
    let id = r["MESSAGE_DATA"]["JOB_ID"].as_i64().unwrap();
    let x = c
        .call("PRINT", "CANCEL", json!({ "JOB_ID": id }))
        .await
        .unwrap();
    assert_eq!(x["MESSAGE_DATA"]["STATE"], "CANCELLED", "{x:#}");
    failed_with(
        &c.call("PRINT", "CANCEL", json!({ "JOB_ID": id }))
            .await
            .unwrap(),
        "JOB_NOT_CANCELLABLE",
    );
    failed_with(
        &c.call("PRINT", "CANCEL", json!({ "JOB_ID": 999_999 }))
            .await
            .unwrap(),
        "JOB_NOT_FOUND",
    );
    sim.set_paper(Paper::Ok);
    c.call("PRINT", "STATUS", json!({})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!job_bytes_sent(&sim));
    let jobs = c
        .call("PRINT", "JOBS", json!({ "PRINTER": "RECEIPT" }))
        .await
        .unwrap();
    assert_eq!(jobs["MESSAGE_DATA"]["JOBS"][0]["STATE"], "CANCELLED");
}

#[tokio::test]
async fn a_job_waiting_longer_than_the_resume_window_expires_unprinted() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let server = engine(
        "q-expire",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[("PRINT_RESUME_WINDOW", "1")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    c.call("PRINT", "SUBSCRIBE", json!({})).await.unwrap();
    let r = print(&mut c, "RECEIPT", "TEXT", json!("too late"), json!({})).await;
    let id = r["MESSAGE_DATA"]["JOB_ID"].clone();
    let expired = c
        .wait_for(|v| {
            v["MESSAGE_TYPE"] == "EVENT" && v["MESSAGE_DATA"]["JOB"]["STATE"] == "EXPIRED"
        })
        .await
        .unwrap();
    assert_eq!(expired["MESSAGE_DATA"]["JOB"]["JOB_ID"], id);
    sim.set_paper(Paper::Ok);
    c.call("PRINT", "STATUS", json!({})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!job_bytes_sent(&sim), "a late receipt is worse than none");
}

#[tokio::test]
async fn job_state_changes_are_events() {
    let sim = tcp_printer().await;
    let server = engine(
        "q-events",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let sub = c.call("PRINT", "SUBSCRIBE", json!({})).await.unwrap();
    let sub_uuid = sub["MESSAGE_UUID"].clone();
    let uuid = c
        .send(
            "PRINT",
            "PRINT",
            json!({ "FORMAT": "TEXT", "DATA": "evented" }),
        )
        .await
        .unwrap();
    delivered(&c.reply_to(&uuid).await.unwrap());
    let mut states = Vec::new();
    while states.last().map(String::as_str) != Some("DELIVERED") {
        let e = c
            .wait_for(|v| v["MESSAGE_TYPE"] == "EVENT" && v["MESSAGE_DATA"]["EVENT"] == "JOB")
            .await
            .unwrap();
        if e["MESSAGE_UUID"] == sub_uuid {
            states.push(
                e["MESSAGE_DATA"]["JOB"]["STATE"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
        }
    }
    assert_eq!(states, ["QUEUED", "PRINTING", "DELIVERED"]);
}

#[tokio::test]
async fn reprint_needs_the_admin_token_and_can_go_to_another_printer() {
    let a = tcp_printer().await;
    let b = tcp_printer().await;
    let server = engine(
        "q-reprint",
        &[
            ("RECEIPT", format!("tcp://{}", a.addr())),
            ("BAR", format!("tcp://{}", b.addr())),
        ],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(&mut c, "RECEIPT", "TEXT", json!("copy me"), json!({})).await;
    let id = r["MESSAGE_DATA"]["JOB_ID"].clone();
    failed_with(
        &c.call("PRINT", "REPRINT", json!({ "JOB_ID": id }))
            .await
            .unwrap(),
        "UNAUTHORIZED",
    );
    let token = server.engine.admin_token().to_string();
    let mut admin = Client::connect(
        server.addr(),
        Connect {
            token: Some(&token),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let again = admin
        .call(
            "PRINT",
            "REPRINT",
            json!({ "JOB_ID": id, "PRINTER": "BAR" }),
        )
        .await
        .unwrap();
    assert_eq!(delivered(&again)["REPRINT_OF"], id);
    assert!(b.text().contains("copy me"));
    assert_eq!(a.cuts().len(), 1);
}

#[tokio::test]
async fn bad_input_gets_a_clear_failure_and_the_service_carries_on() {
    let sim = tcp_printer().await;
    let server = engine(
        "q-bad",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let cases: Vec<(&str, Value, Value, &str)> = vec![
        ("RAW", json!("%%% not base64 %%%"), json!({}), "BAD_DATA"),
        ("TEXT", json!(""), json!({}), "BAD_DATA"),
        ("HTML", json!("   "), json!({}), "BAD_DATA"),
        ("RECEIPT", json!({ "ITEMS": [] }), json!({}), "BAD_DATA"),
        (
            "RECEIPT",
            json!({ "ITEMS": [{ "TYPE": "QR" }] }),
            json!({}),
            "BAD_DATA",
        ),
        ("IMAGE", json!(b64(b"GIF89a")), json!({}), "BAD_DATA"),
        ("PDF", json!(b64(b"hello")), json!({}), "BAD_DATA"),
        ("POSTSCRIPT", json!("x"), json!({}), "BAD_PARAMS"),
        ("TEXT", json!("x"), json!({ "COPIES": 99 }), "BAD_PARAMS"),
    ];
    for (format, data, options, code) in cases {
        let r = print(&mut c, "RECEIPT", format, data, options).await;
        failed_with(&r, code);
        assert!(!r["MESSAGE_DATA"]["MESSAGE"]
            .as_str()
            .unwrap_or("")
            .is_empty());
    }
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
    delivered(&print(&mut c, "RECEIPT", "TEXT", json!("still fine"), json!({})).await);
    assert_eq!(sim.cuts().len(), 1);
}

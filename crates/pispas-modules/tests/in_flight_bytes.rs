//! Memory held by requests is capped in bytes, per connection and in total: beyond the cap the
//! server stops reading (back-pressure), so the client's later frames wait instead of piling up.
//! Each test checks the order replies come in, which the cap changes; no clocks are asserted.

use pispas_testkit::client::Client;
use pispas_testkit::start_engine;
use serde_json::json;
use std::time::{Duration, Instant};

/// 40 KiB of text, so two ECHOes are over a 64 KiB budget and one is under it.
fn payload(kib: usize) -> String {
    "x".repeat(kib * 1024)
}

#[tokio::test]
async fn a_connection_over_its_byte_budget_is_not_read_until_a_request_finishes() {
    let server = start_engine("inflight-conn", &[("MAX_IN_FLIGHT_BYTES", "65536")]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let first = c
        .send(
            "BASE",
            "ECHO",
            json!({ "DELAY_MS": 1500, "DATA": payload(40) }),
        )
        .await
        .unwrap();
    let second = c
        .send(
            "BASE",
            "ECHO",
            json!({ "DELAY_MS": 1500, "DATA": payload(40) }),
        )
        .await
        .unwrap();
    // Over budget after the second: this PING is not read until an ECHO has finished, so it
    // cannot overtake both (without the cap it answers at once, before either).
    let ping = c.send("BASE", "PING", json!({})).await.unwrap();
    let order: Vec<String> = [c.next().await, c.next().await, c.next().await]
        .into_iter()
        .map(|m| m.unwrap()["MESSAGE_UUID"].as_str().unwrap().to_string())
        .collect();
    assert_ne!(
        order[0], ping,
        "the PING was read past the byte budget: {order:?}"
    );
    assert!(order.contains(&first) && order.contains(&second) && order.contains(&ping));
}

#[tokio::test]
async fn under_its_budget_a_connection_keeps_reading_so_a_ping_overtakes() {
    let server = start_engine("inflight-under", &[("MAX_IN_FLIGHT_BYTES", "65536")]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let slow = c
        .send(
            "BASE",
            "ECHO",
            json!({ "DELAY_MS": 1500, "DATA": payload(40) }),
        )
        .await
        .unwrap();
    let ping = c.send("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(c.next().await.unwrap()["MESSAGE_UUID"], ping.as_str());
    assert_eq!(c.next().await.unwrap()["MESSAGE_UUID"], slow.as_str());
}

#[tokio::test]
async fn a_frame_that_does_not_fit_the_total_budget_waits_for_another_connection_to_finish() {
    let server = start_engine("inflight-total", &[("MAX_TOTAL_IN_FLIGHT_BYTES", "65536")]).await;
    let mut a = Client::plain(server.addr()).await.unwrap();
    let mut b = Client::plain(server.addr()).await.unwrap();
    let delay = Duration::from_secs(2);
    let sent = Instant::now();
    let held = a
        .send(
            "BASE",
            "ECHO",
            json!({ "DELAY_MS": 2000, "DATA": payload(56) }),
        )
        .await
        .unwrap();
    // A PING behind it on the same socket proves the ECHO was read and holds its share.
    a.call("BASE", "PING", json!({})).await.unwrap();
    let quick = b
        .send("BASE", "ECHO", json!({ "DATA": payload(16) }))
        .await
        .unwrap();
    // B's ECHO has no delay, yet it cannot start before A's gives its bytes back: its reply
    // cannot come sooner than A's delay (a lower bound, which a slow machine only lengthens).
    let b_reply = b.reply_to(&quick).await.unwrap();
    assert_eq!(b_reply["MESSAGE_EXEC"], "SUCCESS");
    assert!(
        sent.elapsed() >= delay,
        "B's frame ran while A held the whole budget ({:?})",
        sent.elapsed()
    );
    let a_reply = a.reply_to(&held).await.unwrap();
    assert_eq!(
        a_reply["MESSAGE_DATA"].as_str().map(str::len),
        Some(56 * 1024)
    );
}

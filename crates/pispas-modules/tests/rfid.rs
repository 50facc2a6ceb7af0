//! RFID end to end: the real server, a real pty and a reader simulator written from the notes.
#![cfg(unix)]

mod devices_common;

use devices_common::*;
use pispas_sim::rfid::{RfidProtocol, RfidSim, TagId};
use pispas_testkit::{Client, TestEngine};
use serde_json::json;
use std::time::Duration;

async fn rig(protocol: RfidProtocol, dedup_ms: u64) -> (RfidSim, TestEngine, Client) {
    let dir = pispas_testkit::test_dir("rfid");
    let link = dir.join("reader");
    let sim = RfidSim::start_pty(protocol, &link).await.unwrap();
    let uri = format!(
        "serial://{}?protocol=em4100&dedup_ms={dedup_ms}",
        link.display()
    );
    let (server, mut c) = engine_with("rfid", "RFID", &uri).await;
    wait_connected(&mut c, "RFID").await;
    (sim, server, c)
}

fn tag(hex: &str) -> TagId {
    TagId::parse(hex).unwrap()
}

#[tokio::test]
async fn read_returns_the_next_tag_in_both_frame_layouts() {
    for protocol in [RfidProtocol::Em4100Short, RfidProtocol::Em4100Long] {
        let (sim, _server, mut c) = rig(protocol, 1000).await;
        let uuid = c
            .send("RFID", "READ", json!({ "TIMEOUT": 5000 }))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        sim.present(tag("62E3086CED"));
        let r = c.reply_to(&uuid).await.unwrap();
        assert_eq!(r["MESSAGE_DATA"]["UID"], "62E3086CED", "{protocol:?}: {r}");
        assert_eq!(
            r["MESSAGE_DATA"]["DECIMAL"],
            format!("{:010}", 0xE3086CEDu32)
        );
        let last = c.call("RFID", "LAST", json!({})).await.unwrap();
        assert_eq!(last["MESSAGE_DATA"]["UID"], "62E3086CED");
    }
}

#[tokio::test]
async fn a_tag_held_on_the_reader_is_reported_once_per_presentation() {
    let (sim, _server, mut c) = rig(RfidProtocol::Em4100Short, 300).await;
    let sub = c.send("RFID", "SUBSCRIBE", json!({})).await.unwrap();
    c.reply_to(&sub).await.unwrap();
    sim.present(tag("0A00B1C2D3"));
    sim.wait_for_frames(8, Duration::from_secs(5))
        .await
        .unwrap();
    sim.remove();
    tokio::time::sleep(Duration::from_millis(600)).await;
    sim.present(tag("0A00B1C2D3"));
    sim.wait_for_frames(12, Duration::from_secs(5))
        .await
        .unwrap();
    sim.remove();
    let marker = c.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(marker["MESSAGE_DATA"], "PONG");
    let mut events = 0;
    while let Ok(Ok(v)) = tokio::time::timeout(Duration::from_millis(500), c.next()).await {
        if v["MESSAGE_DATA"]["EVENT"] == "TAG" {
            assert_eq!(v["MESSAGE_UUID"], sub.as_str());
            events += 1;
        }
    }
    assert_eq!(events, 2, "8+ frames in two presentations make two events");
}

#[tokio::test]
async fn a_bad_checksum_is_skipped_and_counted_and_a_good_frame_still_reads() {
    let (sim, _server, mut c) = rig(RfidProtocol::Em4100Long, 1000).await;
    let uuid = c
        .send("RFID", "READ", json!({ "TIMEOUT": 5000 }))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.send_bad_checksum(tag("1111111111"));
    sim.send_garbage();
    sim.present(tag("2222222222"));
    let r = c.reply_to(&uuid).await.unwrap();
    assert_eq!(
        r["MESSAGE_DATA"]["UID"], "2222222222",
        "the bad frame was not taken: {r}"
    );
    let status = c
        .call("RFID", "STATUS", json!({ "READER": "DEFAULT" }))
        .await
        .unwrap();
    assert!(
        status["MESSAGE_DATA"]["BAD_CHECKSUMS"].as_u64().unwrap() >= 1,
        "{status}"
    );
}

#[tokio::test]
async fn read_times_out_when_no_tag_comes() {
    let (_sim, _server, mut c) = rig(RfidProtocol::Em4100Short, 1000).await;
    let r = c
        .call("RFID", "READ", json!({ "TIMEOUT": 300 }))
        .await
        .unwrap();
    assert_eq!(outcome(&r), "TIMEOUT");
}

#[tokio::test]
async fn an_unplugged_reader_fails_fast_announces_it_and_recovers() {
    let (sim, _server, mut c) = rig(RfidProtocol::Em4100Short, 1000).await;
    let sub = c.send("RFID", "SUBSCRIBE", json!({})).await.unwrap();
    c.reply_to(&sub).await.unwrap();
    sim.unplug().await;
    c.wait_for(|v| {
        v["MESSAGE_DATA"]["EVENT"] == "DEVICE_STATE" && v["MESSAGE_DATA"]["STATE"] == "DISCONNECTED"
    })
    .await
    .unwrap();
    let r = c
        .call("RFID", "READ", json!({ "TIMEOUT": 10_000 }))
        .await
        .unwrap();
    assert_eq!(outcome(&r), "DEVICE_UNAVAILABLE");
    sim.replug().await.unwrap();
    c.wait_for(|v| {
        v["MESSAGE_DATA"]["EVENT"] == "DEVICE_STATE" && v["MESSAGE_DATA"]["STATE"] == "CONNECTED"
    })
    .await
    .unwrap();
    let uuid = c
        .send("RFID", "READ", json!({ "TIMEOUT": 5000 }))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.present(tag("ABCDEF0123"));
    assert_eq!(
        c.reply_to(&uuid).await.unwrap()["MESSAGE_DATA"]["UID"],
        "ABCDEF0123"
    );
}

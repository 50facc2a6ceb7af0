//! Load (security review, "Load, soak and faults"): 200 clients × 1,000 requests mixed across
//! targets (PING, ECHO with data, CACHE SET and GET of the client's own key, a bad frame now and
//! then), pipelined 32 deep per client. Every reply must come back once, to the right UUIDV4, with
//! the right content (an ECHO its data, a GET the value that client last set), and after the
//! clients leave the service holds no more file handles than before.
//! `PISPAS_LOAD_CLIENTS` and `PISPAS_LOAD_REQUESTS` change the size.
#![cfg(target_os = "linux")]

use futures_util::{SinkExt, StreamExt};
use pispas_testkit::client::{connect_raw, request_text, Connect};
use pispas_testkit::start_engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use tokio_tungstenite::tungstenite::Message;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// What a reply must say, by UUIDV4.
enum Expect {
    Pong,
    Echo(String),
    Set,
    Get(String),
    BadJson,
}

fn check(expect: &Expect, reply: &Value) -> Result<(), String> {
    let data = &reply["MESSAGE_DATA"];
    let ok = match expect {
        Expect::Pong => data == "PONG",
        Expect::Echo(s) => data == s.as_str(),
        Expect::Set => reply["MESSAGE_EXEC"] == "SUCCESS" && data["VERSION"].is_u64(),
        Expect::Get(v) => data["FOUND"] == true && data["VALUE"] == v.as_str(),
        Expect::BadJson => data["CODE"] == "BAD_JSON",
    };
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected reply {reply}"))
    }
}

async fn one_client(
    addr: std::net::SocketAddr,
    id: usize,
    requests: usize,
) -> Result<usize, String> {
    let mut ws = connect_raw(addr, Connect::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut pending: HashMap<String, Expect> = HashMap::new();
    let mut last_set: Option<String> = None;
    let mut sent = 0;
    let mut answered = 0;
    let mut bad = 0;
    while answered + bad < requests {
        while sent < requests && pending.len() < 32 {
            let uuid = format!("load-{id}-{sent}");
            let (text, expect) = match sent % 10 {
                0 if sent % 100 == 0 => ("{not json".to_string(), Expect::BadJson),
                0..=2 => (request_text(&uuid, "BASE", "PING", json!({})), Expect::Pong),
                3 | 4 => {
                    let data = format!("client {id} request {sent}");
                    (
                        request_text(&uuid, "BASE", "ECHO", json!({ "DATA": data })),
                        Expect::Echo(data),
                    )
                }
                5 | 6 => {
                    let value = format!("v{id}-{sent}");
                    last_set = Some(value.clone());
                    (
                        request_text(
                            &uuid,
                            "CACHE",
                            "SET",
                            json!({ "KEY": format!("load/{id}"), "VALUE": value }),
                        ),
                        Expect::Set,
                    )
                }
                _ => match &last_set {
                    // A GET behind its own SET on the same socket may still be answered first
                    // (requests run side by side), so GET only once that SET's reply is in.
                    Some(v) if !pending.values().any(|e| matches!(e, Expect::Set)) => (
                        request_text(
                            &uuid,
                            "CACHE",
                            "GET",
                            json!({ "KEY": format!("load/{id}") }),
                        ),
                        Expect::Get(v.clone()),
                    ),
                    _ => (request_text(&uuid, "BASE", "PING", json!({})), Expect::Pong),
                },
            };
            ws.send(Message::text(text))
                .await
                .map_err(|e| e.to_string())?;
            if matches!(expect, Expect::BadJson) {
                // Answered with a null MESSAGE_UUID: counted by code, not by UUIDV4.
                pending.insert(format!("bad-{sent}"), expect);
            } else {
                pending.insert(uuid, expect);
            }
            sent += 1;
        }
        let msg = ws
            .next()
            .await
            .ok_or("connection closed")?
            .map_err(|e| e.to_string())?;
        let Message::Text(t) = msg else { continue };
        let reply: Value = serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
        if reply["MESSAGE_TYPE"] != "RESPONSE" {
            continue;
        }
        let key = match reply["MESSAGE_UUID"].as_str() {
            Some(u) => u.to_string(),
            None => {
                let k = pending.keys().find(|k| k.starts_with("bad-")).cloned();
                bad += 1;
                k.ok_or(format!("a reply with no UUID nobody waited for: {reply}"))?
            }
        };
        let expect = pending
            .remove(&key)
            .ok_or(format!("a reply twice or to a UUID never sent: {reply}"))?;
        check(&expect, &reply)?;
        if reply["MESSAGE_UUID"].is_string() {
            answered += 1;
        }
    }
    let _ = ws.close(None).await;
    Ok(answered + bad)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_times_a_thousand_mixed_requests_lose_nothing_and_leak_nothing() {
    let clients = knob("PISPAS_LOAD_CLIENTS", 200);
    let requests = knob("PISPAS_LOAD_REQUESTS", 1000);
    let server = start_engine("load", &[("MODULES", "base,cache"), ("COMMAND_LOG", "off")]).await;
    let files_before = open_files();
    let rss_before = rss_kib();
    let tasks: Vec<_> = (0..clients)
        .map(|id| tokio::spawn(one_client(server.addr(), id, requests)))
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap().unwrap();
    }
    assert_eq!(total, clients * requests, "every request answered once");
    // The server side of each socket closes once the client's close arrives; wait for that.
    let mut files_after = open_files();
    for _ in 0..200 {
        if files_after <= files_before + 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        files_after = open_files();
    }
    eprintln!(
        "load: {total} requests from {clients} clients; open files {files_before} → {files_after}; RSS {rss_before} → {} KiB",
        rss_kib()
    );
    assert!(
        files_after <= files_before + 2,
        "file handles left open: {files_before} before, {files_after} after"
    );
}

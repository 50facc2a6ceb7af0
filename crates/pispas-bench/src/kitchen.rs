//! ORDER_KITCHEN benchmark: with 200 open tickets and 10 displays subscribed over WebSocket, a
//! POS SENDs tickets one at a time; measured are SEND → acknowledged and SEND → the SENT event
//! read by each display (each display reads in a task of its own and stamps what it reads),
//! median and p99, against the bare event-bus fan-out (publish → 10 in-process subscribers) in
//! the same run; and durable SENDs per second, 256 in flight on one connection.

use pispas_modules::events::{Audience, Event, EventBus};
use pispas_testkit::client::{next_uuid, request_text};
use pispas_testkit::{start_engine, Client};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::Instant;
use tokio::sync::mpsc;

const DISPLAYS: usize = 10;
const OPEN: usize = 200;
const WINDOW: usize = 256;

pub(crate) fn report(quick: bool) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let n = if quick { 100 } else { 500 };
    let (mut ack, mut shown) = rt.block_on(send_to_displays(n))?;
    let mut bus = rt.block_on(bus_fan_out(n))?;
    let rate = rt.block_on(durable_sends(if quick { 1000 } else { 4000 }))?;
    let mut out = String::new();
    writeln!(out, "| measurement ({OPEN} open tickets, {DISPLAYS} displays subscribed) | median | p99 | baseline (same run): bare event-bus fan-out to {DISPLAYS} in-process subscribers, median / p99 | goal |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    let (bm, bp) = (pct(&mut bus, 0.5), pct(&mut bus, 0.99));
    writeln!(
        out,
        "| SEND → acknowledged (committed) | {:.2} ms | {:.2} ms | — | — |",
        pct(&mut ack, 0.5),
        pct(&mut ack, 0.99)
    )?;
    writeln!(out, "| SEND → SENT event read by a display (each of {DISPLAYS}) | {:.2} ms | {:.2} ms | {bm:.3} ms / {bp:.3} ms | median ≤ 20 ms, p99 ≤ 50 ms |", pct(&mut shown, 0.5), pct(&mut shown, 0.99))?;
    writeln!(
        out,
        "| durable SENDs, {WINDOW} in flight on one connection | {rate:.0} /s | | — | ≥ 500 /s |"
    )?;
    Ok(out)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ticket(id: &str) -> Value {
    json!({"TICKET": id, "ORDER": id, "TABLE": "7", "LINES": [
        {"LINE": "1", "QTY": 2, "NAME": "Burger", "MODIFIERS": ["no onion"]},
        {"LINE": "2", "QTY": 1, "NAME": "Fries"}
    ]})
}

/// (SEND → ack ms, SEND → event at a display ms for every display and SEND).
async fn send_to_displays(n: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let server = start_engine(
        "bench-kitchen",
        &[("MODULES", "base,order_kitchen"), ("LOG_LEVEL", "warn")],
    )
    .await;
    let mut pos = Client::plain(server.addr()).await?;
    for i in 0..OPEN {
        let r = pos
            .call("ORDER_KITCHEN", "SEND", ticket(&format!("OPEN-{i}")))
            .await?;
        anyhow::ensure!(r["MESSAGE_EXEC"] == "SUCCESS", "{r}");
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Instant)>();
    for _ in 0..DISPLAYS {
        let mut d = Client::plain(server.addr()).await?;
        let r = d
            .call("ORDER_KITCHEN", "SUBSCRIBE", json!({"STATION": "KITCHEN"}))
            .await?;
        anyhow::ensure!(r["MESSAGE_EXEC"] == "SUCCESS", "{r}");
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Ok(v) = d.next().await {
                if v["MESSAGE_DATA"]["ACTION"] == "SENT" {
                    let t = v["MESSAGE_DATA"]["TICKET"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    if tx.send((t, Instant::now())).is_err() {
                        return;
                    }
                }
            }
        });
    }
    let (mut ack, mut shown) = (Vec::new(), Vec::new());
    for i in 0..n {
        let id = format!("B-{i}");
        let t = Instant::now();
        let r = pos.call("ORDER_KITCHEN", "SEND", ticket(&id)).await?;
        anyhow::ensure!(r["MESSAGE_EXEC"] == "SUCCESS", "{r}");
        ack.push(t.elapsed().as_secs_f64() * 1e3);
        let mut got = 0;
        while got < DISPLAYS {
            let (tid, at) = rx
                .recv()
                .await
                .ok_or_else(|| anyhow::anyhow!("a display closed"))?;
            if tid == id {
                shown.push(at.duration_since(t).as_secs_f64() * 1e3);
                got += 1;
            }
        }
    }
    server.engine.shutdown().await;
    Ok((ack, shown))
}

/// Publish → received by each of DISPLAYS in-process bus subscribers, ms.
async fn bus_fan_out(n: usize) -> anyhow::Result<Vec<f64>> {
    let bus = EventBus::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    for _ in 0..DISPLAYS {
        let mut sub = bus.subscribe();
        let tx = tx.clone();
        tokio::spawn(async move {
            while sub.recv().await.is_ok() {
                if tx.send(Instant::now()).is_err() {
                    return;
                }
            }
        });
    }
    let mut out = Vec::new();
    for i in 0..n {
        let t = Instant::now();
        bus.publish(Event {
            service: "ORDER_KITCHEN".into(),
            uuid: Value::Null,
            audience: Audience::Topic("KITCHEN".into()),
            data: json!({"EVENT": "KITCHEN", "ACTION": "SENT", "TICKET": format!("B-{i}"), "CARD": ticket("x")}),
        });
        for _ in 0..DISPLAYS {
            let at = rx
                .recv()
                .await
                .ok_or_else(|| anyhow::anyhow!("a subscriber closed"))?;
            out.push(at.duration_since(t).as_secs_f64() * 1e3);
        }
    }
    Ok(out)
}

/// Acknowledged SENDs per second, WINDOW in flight.
async fn durable_sends(n: usize) -> anyhow::Result<f64> {
    let server = start_engine(
        "bench-kitchen-sends",
        &[("MODULES", "base,order_kitchen"), ("LOG_LEVEL", "warn")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    let t = Instant::now();
    let mut pending = std::collections::VecDeque::new();
    for i in 0..n {
        let uuid = next_uuid();
        c.send_text(request_text(
            &uuid,
            "ORDER_KITCHEN",
            "SEND",
            ticket(&format!("D-{i}")),
        ))
        .await?;
        pending.push_back(uuid);
        if pending.len() >= WINDOW {
            let u = pending.pop_front().unwrap_or_default();
            let r = c.reply_to(&u).await?;
            anyhow::ensure!(r["MESSAGE_EXEC"] == "SUCCESS", "{r}");
        }
    }
    while let Some(u) = pending.pop_front() {
        let r = c.reply_to(&u).await?;
        anyhow::ensure!(r["MESSAGE_EXEC"] == "SUCCESS", "{r}");
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    server.engine.shutdown().await;
    Ok(rate)
}

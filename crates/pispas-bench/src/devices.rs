//! Device benchmarks (Unix: simulators on real ptys): what the engine adds to a scale READ beyond
//! the serial exchange itself, how long a tag takes from the wire to a WebSocket client, and CPU
//! used while idle with a scale and a reader attached.

use crate::process;
use pispas_sim::rfid::{RfidProtocol, RfidSim, TagId};
use pispas_sim::scale::ScaleSim;
use pispas_testkit::{start_engine, Client};
use serde_json::json;
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) fn report(quick: bool) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let n = if quick { 50 } else { 300 };
    let mut out = String::new();
    let (raw, engine) = rt.block_on(read_overhead(n))?;
    let (wire, event) = rt.block_on(event_latency(n))?;
    let idle_secs = if quick { 10 } else { 60 };
    let cpu = idle_cpu(&rt, idle_secs)?;
    writeln!(
        out,
        "| measurement | median | baseline (same run) | engine adds | goal |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    writeln!(out, "| SCALE READ over WebSocket (8217 simulator on a pty), ms | {engine:.3} | {raw:.3} (`W` → reply on the pty directly) | {:.3} ms | ≤ 1 ms |", engine - raw)?;
    writeln!(out, "| RFID tag → TAG event at the WebSocket client, ms | {event:.3} | {wire:.3} (tag → frame bytes read from the pty directly) | {:.3} ms | ≤ 2 ms |", event - wire)?;
    writeln!(out, "| CPU of the engine process, idle {idle_secs} s with a scale and a reader attached | {cpu:.3} % | — | — | 0 % |")?;
    Ok(out)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (raw exchange ms, engine READ ms), medians.
async fn read_overhead(n: usize) -> anyhow::Result<(f64, f64)> {
    let dir = pispas_testkit::test_dir("bench-scale");
    let link = dir.join("scale");
    let sim = ScaleSim::start_pty("toledo8217", &link).await?;
    sim.set_weight(1234);
    // Baseline: the serial exchange alone, through the same serial layer the engine uses.
    let mut raw = Vec::with_capacity(n);
    {
        let settings = pispas_modules::transport::serial::SerialSettings::DEFAULT;
        let mut port = pispas_modules::transport::serial::open(&link.to_string_lossy(), &settings)?;
        let mut buf = [0u8; 64];
        for _ in 0..n {
            let t = Instant::now();
            port.write_all(b"W").await?;
            let mut got = Vec::new();
            while !got.contains(&b'\r') {
                let k = port.read(&mut buf).await?;
                anyhow::ensure!(k > 0, "pty closed");
                got.extend_from_slice(&buf[..k]);
            }
            raw.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let uri = format!("serial://{}?protocol=toledo8217", link.display());
    let server = start_engine(
        "bench-scale",
        &[
            ("MODULES", "base,scale"),
            ("SCALE", &uri),
            ("LOG_LEVEL", "warn"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    let mut via = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let t = Instant::now();
        let r = c.call("SCALE", "READ", json!({ "TIMEOUT": 2000 })).await?;
        anyhow::ensure!(r["MESSAGE_DATA"]["GRAMS"] == 1234, "bad read: {r}");
        if i >= 5 {
            via.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    server.engine.shutdown().await;
    drop(sim);
    Ok((median(&mut raw), median(&mut via)))
}

/// (tag → frame bytes on the pty ms, tag → WebSocket event ms), medians.
async fn event_latency(n: usize) -> anyhow::Result<(f64, f64)> {
    let dir = pispas_testkit::test_dir("bench-rfid");
    let link = dir.join("reader");
    let sim = RfidSim::start_pty(RfidProtocol::Em4100Short, &link).await?;
    let tag = |i: usize| TagId::parse(&format!("{:010X}", 0x0100000000u64 + i as u64));
    let mut wire = Vec::with_capacity(n);
    {
        let settings = pispas_modules::transport::serial::SerialSettings::DEFAULT;
        let mut port = pispas_modules::transport::serial::open(&link.to_string_lossy(), &settings)?;
        let mut buf = [0u8; 64];
        for i in 0..n {
            let t = Instant::now();
            sim.present(tag(i).ok_or_else(|| anyhow::anyhow!("tag"))?);
            let mut got = Vec::new();
            while !got.contains(&0x03) {
                let k = port.read(&mut buf).await?;
                got.extend_from_slice(&buf[..k]);
            }
            wire.push(t.elapsed().as_secs_f64() * 1e3);
            sim.remove();
        }
    }
    let uri = format!("serial://{}?protocol=em4100&dedup_ms=1", link.display());
    let server = start_engine(
        "bench-rfid",
        &[
            ("MODULES", "base,rfid"),
            ("RFID", &uri),
            ("LOG_LEVEL", "warn"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    for _ in 0..400 {
        let s = c.call("RFID", "STATUS", json!({})).await?;
        if s["MESSAGE_DATA"][0]["LINK"]["CONNECTED"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    c.call("RFID", "SUBSCRIBE", json!({})).await?;
    let mut via = Vec::with_capacity(n);
    for i in 0..n {
        let id = tag(n + i).ok_or_else(|| anyhow::anyhow!("tag"))?;
        let uid = format!("{:010X}", 0x0100000000u64 + (n + i) as u64);
        let t = Instant::now();
        sim.present(id);
        c.wait_for(|v| v["MESSAGE_DATA"]["UID"] == uid.as_str())
            .await?;
        via.push(t.elapsed().as_secs_f64() * 1e3);
        sim.remove();
    }
    server.engine.shutdown().await;
    Ok((median(&mut wire), median(&mut via)))
}

/// CPU percent of the release engine binary over `secs` with a polled scale and a reader attached
/// and nobody subscribed.
fn idle_cpu(rt: &tokio::runtime::Runtime, secs: u64) -> anyhow::Result<f64> {
    let dir = pispas_testkit::test_dir("bench-idle");
    let (scale, reader) = rt.block_on(async {
        let s = ScaleSim::start_pty("toledo8217", &dir.join("scale")).await?;
        let r = RfidSim::start_pty(RfidProtocol::Em4100Short, &dir.join("reader")).await?;
        anyhow::Ok((s, r))
    })?;
    let env = [
        ("MODULES", "base,scale,rfid".to_string()),
        (
            "SCALE",
            format!(
                "serial://{}?protocol=toledo8217",
                dir.join("scale").display()
            ),
        ),
        (
            "RFID",
            format!("serial://{}?protocol=em4100", dir.join("reader").display()),
        ),
    ];
    let server = process::engine_with_env(&dir, &env)?;
    std::thread::sleep(Duration::from_secs(2));
    let before = process::cpu_ticks(server.child.id());
    std::thread::sleep(Duration::from_secs(secs));
    let after = process::cpu_ticks(server.child.id());
    drop((scale, reader));
    let ticks_per_sec = 100.0;
    Ok((after - before) as f64 / ticks_per_sec / secs as f64 * 100.0)
}

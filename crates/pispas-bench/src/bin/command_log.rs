//! Benchmark: what recording the command log costs a PING, measured against the same engine with
//! COMMAND_LOG=off, in the same run, on loopback.
//!
//! `cargo run --release -p pispas-bench --bin command_log [-- SECONDS]`
//!
//! For each mode (off and on, interleaved ten times so drift and other load hit both) it runs a paced load of
//! 2,000 PING/s over 4 connections for SECONDS (default 10) and records every round-trip time and
//! the process CPU time, then an unpaced burst (8 connections × 5,000 pipelined PINGs, 64 in flight
//! each) for throughput. Prints a Markdown table for docs/performance.md.

use futures_util::{SinkExt, StreamExt};
use pispas_modules::{ConfigEnv, Engine};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const RATE: u64 = 2_000;
/// Off/on pairs, interleaved; results are medians over rounds so one disturbed round (this machine
/// is shared) does not decide.
const ROUNDS: usize = 10;
const PACED_CONNECTIONS: u64 = 4;
const BURST_CONNECTIONS: usize = 8;
const BURST_PER_CONNECTION: usize = 5_000;
const BURST_WINDOW: usize = 64;

#[derive(Default, Clone)]
struct Paced {
    latencies_us: Vec<u64>,
    cpu: Duration,
    sent: u64,
    wall: Duration,
}

fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut paced: BTreeMap<&str, Vec<Paced>> = BTreeMap::new();
        let mut bursts: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let mut dropped: BTreeMap<&str, u64> = BTreeMap::new();
        let modes: Vec<&str> = (0..ROUNDS).flat_map(|_| ["off", "on"]).collect();
        for (round, mode) in modes.iter().enumerate() {
            let dir = std::env::temp_dir()
                .join(format!("pispas-bench-log-{}-{round}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let mut values = BTreeMap::new();
            for (k, v) in [
                ("LOCAL_PORT", "0"),
                ("VIEWER_PORT", "off"),
                ("MODULES", "base"),
                ("HEARTBEAT_SECS", "0"),
                ("COMMAND_LOG", mode),
            ] {
                values.insert(k.to_string(), v.to_string());
            }
            values.insert("DATA_DIR".into(), dir.display().to_string());
            let engine = Engine::start(ConfigEnv::from_values(values, &dir.join(".env"))?).await?;
            let addr = engine.local_addr();
            // Warm up connections, allocator and the log's table.
            let _ = run_paced(addr, 2).await?;
            let p = run_paced(addr, secs).await?;
            eprintln!(
                "{mode}: {} PINGs, p50 {} µs, p99 {} µs, cpu {:?}",
                p.sent,
                pct(&p.latencies_us, 50.0),
                pct(&p.latencies_us, 99.0),
                p.cpu
            );
            paced.entry(mode).or_default().push(p);
            let before = engine.command_log().dropped();
            let b = run_burst(addr).await?;
            let lost = engine.command_log().dropped() - before;
            eprintln!("{mode}: burst {b:.0} PING/s, {lost} log entries dropped (queue full)");
            bursts.entry(mode).or_default().push(b);
            *dropped.entry(mode).or_default() += lost;
            engine.shutdown().await;
            let _ = std::fs::remove_dir_all(&dir);
        }
        report(&paced, &bursts, secs);
        println!(
            "\nLog entries dropped during the unpaced bursts (queue full, replies never delayed): {}",
            dropped.get("on").copied().unwrap_or(0)
        );
        anyhow::Ok(())
    })
}

fn cpu_time() -> Duration {
    // /proc/self/stat fields 14 and 15: user and system time in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    // After ")" come state (skipped: not a number), ppid … ; utime and stime are the 11th and
    // 12th numbers (fields 14 and 15 of proc(5)).
    let f: Vec<i64> = after
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let ticks = f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0);
    Duration::from_millis(ticks.max(0) as u64 * 10)
}

async fn connect(
    addr: SocketAddr,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp).await?;
    Ok(ws)
}

async fn run_paced(addr: SocketAddr, secs: u64) -> anyhow::Result<Paced> {
    let per_conn = RATE / PACED_CONNECTIONS;
    let interval = Duration::from_nanos(1_000_000_000 / per_conn);
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..PACED_CONNECTIONS {
        let ws = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            let total = per_conn * secs;
            let reader = tokio::spawn(async move {
                let mut lat = Vec::with_capacity(total as usize);
                while lat.len() < total as usize {
                    match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
                        Ok(Some(Ok(Message::Text(t)))) => {
                            // MESSAGE_UUID is "<conn>-<n>-<nanos since t0>".
                            let v: serde_json::Value =
                                serde_json::from_str(t.as_str()).unwrap_or_default();
                            if let Some(u) = v["MESSAGE_UUID"].as_str() {
                                if let Some(ns) =
                                    u.rsplit('-').next().and_then(|n| n.parse::<u64>().ok())
                                {
                                    let now = t0.elapsed().as_nanos() as u64;
                                    lat.push(now.saturating_sub(ns) / 1000);
                                }
                            }
                        }
                        Ok(Some(Ok(_))) => {}
                        _ => break,
                    }
                }
                lat
            });
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for n in 0..total {
                tick.tick().await;
                let uuid = format!("{c}-{n}-{}", t0.elapsed().as_nanos());
                let text = format!(r#"{{"UUIDV4":"{uuid}","TARGET":"BASE","ACTION":"PING"}}"#);
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            let lat = reader.await.unwrap_or_default();
            let _ = sink.close().await;
            (total, lat)
        }));
    }
    let mut out = Paced::default();
    for t in tasks {
        let (sent, lat) = t.await?;
        out.sent += sent;
        out.latencies_us.extend(lat);
    }
    out.wall = t0.elapsed();
    out.cpu = cpu_time().saturating_sub(cpu0);
    out.latencies_us.sort_unstable();
    Ok(out)
}

async fn run_burst(addr: SocketAddr) -> anyhow::Result<f64> {
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..BURST_CONNECTIONS {
        let ws = connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            let mut sent = 0usize;
            let mut got = 0usize;
            while got < BURST_PER_CONNECTION {
                while sent < BURST_PER_CONNECTION && sent - got < BURST_WINDOW {
                    let text =
                        format!(r#"{{"UUIDV4":"b{c}-{sent}","TARGET":"BASE","ACTION":"PING"}}"#);
                    if sink.send(Message::text(text)).await.is_err() {
                        return got;
                    }
                    sent += 1;
                }
                match stream.next().await {
                    Some(Ok(Message::Text(_))) => got += 1,
                    Some(Ok(_)) => {}
                    _ => return got,
                }
            }
            got
        }));
    }
    let mut done = 0usize;
    for t in tasks {
        done += t.await?;
    }
    Ok(done as f64 / t0.elapsed().as_secs_f64())
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn mean(v: &[u64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<u64>() as f64 / v.len() as f64
    }
}

/// One number read from a round.
type Metric = dyn Fn(&Paced) -> f64;

fn median_f(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn report(paced: &BTreeMap<&str, Vec<Paced>>, bursts: &BTreeMap<&str, Vec<f64>>, secs: u64) {
    let rounds = |mode: &str| paced.get(mode).cloned().unwrap_or_default();
    let per_round =
        |mode: &str, f: &dyn Fn(&Paced) -> f64| median_f(rounds(mode).iter().map(f).collect());
    let p50 = |p: &Paced| pct(&p.latencies_us, 50.0) as f64;
    let p99 = |p: &Paced| pct(&p.latencies_us, 99.0) as f64;
    let avg = |p: &Paced| mean(&p.latencies_us);
    let cpu = |p: &Paced| p.cpu.as_secs_f64() * 1e6 / p.sent.max(1) as f64;
    let change = |a: f64, b: f64| if a > 0.0 { (b - a) / a * 100.0 } else { 0.0 };
    let burst = |m: &str| median_f(bursts.get(m).cloned().unwrap_or_default());
    println!("| PING at {RATE}/s, {PACED_CONNECTIONS} connections, median of {ROUNDS} rounds × {secs} s | log off | log on | change |");
    println!("|---|---:|---:|---:|");
    let rows: [(&str, &Metric); 4] = [
        ("round trip p50 (µs)", &p50),
        ("round trip p99 (µs)", &p99),
        ("round trip mean (µs)", &avg),
        (
            "process CPU per PING (µs: client + engine + log writer)",
            &cpu,
        ),
    ];
    for (name, f) in rows {
        let (a, b) = (per_round("off", f), per_round("on", f));
        println!("| {name} | {a:.0} | {b:.0} | {:+.1}% |", change(a, b));
    }
    let (a, b) = (burst("off"), burst("on"));
    println!(
        "| unpaced throughput (PING/s, 8 conn × 64 in flight) | {a:.0} | {b:.0} | {:+.1}% |",
        change(a, b)
    );
    let list = |mode: &str, f: &dyn Fn(&Paced) -> f64| {
        rounds(mode)
            .iter()
            .map(|p| format!("{:.0}", f(p)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Each on-round against the off-round just before it: other load on a shared machine changes
    // slowly, so the paired change is steadier than the difference of medians.
    let paired = |f: &dyn Fn(&Paced) -> f64| {
        let (off, on) = (rounds("off"), rounds("on"));
        median_f(
            off.iter()
                .zip(on.iter())
                .map(|(a, b)| change(f(a), f(b)))
                .collect(),
        )
    };
    println!(
        "\nMedian of the paired per-round changes: p50 {:+.1}%, p99 {:+.1}%, mean {:+.1}%, CPU per PING {:+.1}%.",
        paired(&p50),
        paired(&p99),
        paired(&avg),
        paired(&cpu)
    );
    println!(
        "\nPer round, p50 µs: off {}; on {}.",
        list("off", &p50),
        list("on", &p50)
    );
    println!(
        "Per round, p99 µs: off {}; on {}.",
        list("off", &p99),
        list("on", &p99)
    );
}

//! The measurements: round-trip latency, pipelined and many-connection throughput, plain and TLS,
//! startup time and memory — each for the engine and the echo baseline in the same run.

use crate::process::{self, Server};
use futures_util::{SinkExt, StreamExt};
use pispas_testkit::{connect_raw, Connect, RawSocket};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const PING: &str =
    r#"{"UUIDV4":"6f1d7a52-8a51-4a0e-9d55-1f3b2b7c0e11","TARGET":"BASE","ACTION":"PING"}"#;

struct Sizes {
    latency: usize,
    pipelined: usize,
    per_connection: usize,
    startups: usize,
}

pub(crate) fn engine_report(quick: bool) -> anyhow::Result<String> {
    let sizes = if quick {
        Sizes {
            latency: 2_000,
            pipelined: 20_000,
            per_connection: 200,
            startups: 3,
        }
    } else {
        Sizes {
            latency: 20_000,
            pipelined: 200_000,
            per_connection: 2_000,
            startups: 10,
        }
    };
    // One client thread, so the servers keep the other core to themselves.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = String::new();
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    writeln!(
        out,
        "Measured {} on {cpus} CPUs; client on one thread, each server in its own process.\n",
        date()
    )?;

    let engine = process::engine(&pispas_testkit::test_dir("bench-engine"))?;
    let echo = process::echo(&pispas_testkit::test_dir("bench-echo"))?;
    let engine_cert = cert(&engine)?;
    let echo_cert = cert(&echo)?;

    writeln!(
        out,
        "| measurement | engine | echo baseline | engine / baseline | goal |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for (label, tls) in [("plain ws://", false), ("TLS wss://", true)] {
        let e_opts = Connect {
            tls_cert: tls.then_some(engine_cert.as_slice()),
            ..Default::default()
        };
        let b_opts = Connect {
            tls_cert: tls.then_some(echo_cert.as_slice()),
            ..Default::default()
        };
        let e_addr = if tls { engine.tls } else { engine.plain };
        let b_addr = if tls { echo.tls } else { echo.plain };
        let e_lat = rt.block_on(latency(e_addr, e_opts.clone(), sizes.latency))?;
        let b_lat = rt.block_on(latency(b_addr, b_opts.clone(), sizes.latency))?;
        let goal = if tls {
            "—"
        } else {
            "≤ 60 µs and ≤ 1.3×"
        };
        row(
            &mut out,
            &format!("PING round trip, median ({label})"),
            e_lat.0,
            b_lat.0,
            "µs",
            goal,
        )?;
        row(
            &mut out,
            &format!("PING round trip, p99 ({label})"),
            e_lat.1,
            b_lat.1,
            "µs",
            "—",
        )?;
        let e_pipe = rt.block_on(pipelined(e_addr, e_opts.clone(), 32, sizes.pipelined))?;
        let b_pipe = rt.block_on(pipelined(b_addr, b_opts.clone(), 32, sizes.pipelined))?;
        row(
            &mut out,
            &format!("32 in flight on 1 connection, msg/s ({label})"),
            e_pipe,
            b_pipe,
            "",
            "≥ 0.7×",
        )?;
        let e_many = rt.block_on(many(e_addr, e_opts, 50, sizes.per_connection))?;
        let b_many = rt.block_on(many(b_addr, b_opts, 50, sizes.per_connection))?;
        row(
            &mut out,
            &format!("50 connections, msg/s ({label})"),
            e_many,
            b_many,
            "",
            "≥ 0.7×",
        )?;
    }

    // Memory: idle, then with 1,000 idle connections held open.
    let e_idle = process::rss_mib(engine.child.id());
    let b_idle = process::rss_mib(echo.child.id());
    let (e_1000, b_1000) = rt.block_on(async {
        let e = hold_idle(engine.plain, 1000).await?;
        let e_rss = process::rss_mib(engine.child.id());
        let b = hold_idle(echo.plain, 1000).await?;
        let b_rss = process::rss_mib(echo.child.id());
        drop((e, b));
        anyhow::Ok((e_rss, b_rss))
    })?;
    row(
        &mut out,
        "RSS after the runs above, MiB",
        e_idle,
        b_idle,
        "",
        "—",
    )?;
    row(
        &mut out,
        "RSS with 1,000 idle connections, MiB",
        e_1000,
        b_1000,
        "",
        "≤ 80 MiB",
    )?;
    drop(engine);
    drop(echo);

    // Startup: first run (generates certificate and token) and later runs.
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut fresh_rss = Vec::new();
    for _ in 0..sizes.startups {
        let dir = pispas_testkit::test_dir("bench-start");
        let first = process::engine(&dir)?;
        cold.push(first.startup.as_secs_f64() * 1e3);
        drop(first);
        let again = process::engine(&dir)?;
        warm.push(again.startup.as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(300));
        fresh_rss.push(process::rss_mib(again.child.id()));
    }
    writeln!(out)?;
    writeln!(out, "| headless binary | median | goal |")?;
    writeln!(out, "|---|---|---|")?;
    writeln!(
        out,
        "| start → accepting, first run (generates the certificate), ms | {:.1} | ≤ 150 ms |",
        median(&mut cold)
    )?;
    writeln!(
        out,
        "| start → accepting, later runs, ms | {:.1} | ≤ 150 ms |",
        median(&mut warm)
    )?;
    writeln!(
        out,
        "| RSS idle just after start, MiB | {:.1} | ≤ 20 MiB |",
        median(&mut fresh_rss)
    )?;
    Ok(out)
}

fn cert(server: &Server) -> anyhow::Result<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    Ok(
        rustls_pki_types::CertificateDer::from_pem_file(server.dir.join("tls").join("cert.pem"))?
            .to_vec(),
    )
}

fn row(
    out: &mut String,
    label: &str,
    engine: f64,
    base: f64,
    unit: &str,
    goal: &str,
) -> std::fmt::Result {
    writeln!(
        out,
        "| {label} | {engine:.1}{unit_sp}{unit} | {base:.1}{unit_sp}{unit} | {:.2}× | {goal} |",
        engine / base,
        unit_sp = if unit.is_empty() { "" } else { " " }
    )
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

async fn roundtrip(ws: &mut RawSocket) -> anyhow::Result<()> {
    ws.send(Message::text(PING)).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(_))) => return Ok(()),
            Some(Ok(_)) => continue,
            other => anyhow::bail!("connection ended: {other:?}"),
        }
    }
}

/// Sequential PING round trips on one connection: (median µs, p99 µs).
async fn latency(addr: SocketAddr, opts: Connect<'_>, n: usize) -> anyhow::Result<(f64, f64)> {
    let mut ws = connect_raw(addr, opts).await?;
    for _ in 0..n / 10 {
        roundtrip(&mut ws).await?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        roundtrip(&mut ws).await?;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);
    Ok((samples[n / 2], samples[n * 99 / 100]))
}

/// Messages per second with `depth` requests kept in flight on one connection.
async fn pipelined(
    addr: SocketAddr,
    opts: Connect<'_>,
    depth: usize,
    n: usize,
) -> anyhow::Result<f64> {
    let ws = connect_raw(addr, opts).await?;
    let (mut tx, mut rx) = ws.split();
    let start = Instant::now();
    let writer = async {
        let mut sent = 0;
        let (permits_tx, mut permits) = tokio::sync::mpsc::unbounded_channel::<()>();
        for _ in 0..depth {
            let _ = permits_tx.send(());
        }
        (permits_tx, async move {
            while sent < n {
                if permits.recv().await.is_none() {
                    break;
                }
                tx.send(Message::text(PING)).await?;
                sent += 1;
            }
            anyhow::Ok(())
        })
    }
    .await;
    let (permits_tx, send_all) = writer;
    let receive_all = async {
        let mut got = 0;
        while got < n {
            match rx.next().await {
                Some(Ok(Message::Text(_))) => {
                    got += 1;
                    let _ = permits_tx.send(());
                }
                Some(Ok(_)) => {}
                other => anyhow::bail!("connection ended: {other:?}"),
            }
        }
        anyhow::Ok(())
    };
    let (a, b) = tokio::join!(send_all, receive_all);
    a?;
    b?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Messages per second over `conns` connections, each doing sequential round trips.
async fn many(
    addr: SocketAddr,
    opts: Connect<'_>,
    conns: usize,
    per: usize,
) -> anyhow::Result<f64> {
    let mut sockets = Vec::with_capacity(conns);
    for _ in 0..conns {
        sockets.push(connect_raw(addr, opts.clone()).await?);
    }
    let start = Instant::now();
    let runs = sockets.into_iter().map(|mut ws| async move {
        for _ in 0..per {
            roundtrip(&mut ws).await?;
        }
        anyhow::Ok(())
    });
    for r in futures_util::future::join_all(runs).await {
        r?;
    }
    Ok((conns * per) as f64 / start.elapsed().as_secs_f64())
}

/// Opens `n` connections and leaves them idle (returned to keep them open).
async fn hold_idle(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<RawSocket>> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(connect_raw(addr, Connect::default()).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(v)
}

fn date() -> String {
    std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

//! CACHE and remote-gateway benchmarks, each against a baseline measured in the same run: a CACHE
//! GET round trip against BASE PING on the same connection; durable SETs pipelined against a
//! bare rusqlite loop doing the same durable commits (WAL, synchronous=FULL) one per row and 256
//! per transaction; a PING through the gateway (pispas-sim gateway on loopback) against a local
//! PING; and how long the till takes to come back after the gateway restarts.

use pispas_sim::gateway::{GatewayEvent, GatewayOptions, GatewaySim};
use pispas_testkit::client::{next_uuid, request_text};
use pispas_testkit::{start_engine, Client};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// SETs in flight on the pipelined connection.
const WINDOW: usize = 256;

pub(crate) fn report(quick: bool) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let n = if quick { 500 } else { 3000 };
    let (ping, get) = rt.block_on(get_vs_ping(n))?;
    let sets = rt.block_on(pipelined_sets(n * 2))?;
    let (one_by_one, batched) = bare_sqlite(n * 2)?;
    let (local, tunnel) = rt.block_on(tunnel_ping(n))?;
    let back = rt.block_on(reconnect(if quick { 2 } else { 5 }))?;
    let mut out = String::new();
    writeln!(
        out,
        "| measurement | result | baseline (same run) | ratio | goal |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    writeln!(out, "| CACHE GET round trip (small value), median | {get:.1} µs | BASE PING on the same connection: {ping:.1} µs | {:.2}× | ≤ 1.3× |", get / ping)?;
    writeln!(out, "| durable CACHE SET, {WINDOW} in flight on one connection | {sets:.0} /s | bare rusqlite, WAL + FULL: {one_by_one:.0} /s one commit per row, {batched:.0} /s 256 rows per commit | {:.1}× / {:.2}× | ≥ 1,000 /s |", sets / one_by_one, sets / batched)?;
    writeln!(out, "| PING through the gateway (simulated cloud on loopback), median | {tunnel:.1} µs | local PING: {local:.1} µs | +{:.3} ms | ≤ +0.5 ms |", (tunnel - local) / 1000.0)?;
    writeln!(out, "| gateway restarted → till back (HELLO), backoff reset, median | {back:.0} ms | — | — | ≤ 2 s |")?;
    Ok(out)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (PING µs, GET µs), medians, interleaved on one connection.
async fn get_vs_ping(n: usize) -> anyhow::Result<(f64, f64)> {
    let server = start_engine(
        "bench-cache-get",
        &[("MODULES", "base,cache"), ("LOG_LEVEL", "warn")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    let set = c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "cart", "VALUE": {"items": [1, 2, 3], "total": 1250}}),
        )
        .await?;
    anyhow::ensure!(set["MESSAGE_EXEC"] == "SUCCESS", "{set}");
    let (mut ping, mut get) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n + 50 {
        let t = Instant::now();
        c.call("BASE", "PING", json!({})).await?;
        let p = t.elapsed().as_secs_f64() * 1e6;
        let t = Instant::now();
        let r = c.call("CACHE", "GET", json!({"KEY": "cart"})).await?;
        let g = t.elapsed().as_secs_f64() * 1e6;
        anyhow::ensure!(r["MESSAGE_DATA"]["FOUND"] == true, "{r}");
        if i >= 50 {
            ping.push(p);
            get.push(g);
        }
    }
    server.engine.shutdown().await;
    Ok((median(&mut ping), median(&mut get)))
}

/// Acknowledged (committed) SETs per second, WINDOW in flight.
async fn pipelined_sets(n: usize) -> anyhow::Result<f64> {
    let server = start_engine(
        "bench-cache-set",
        &[("MODULES", "base,cache"), ("LOG_LEVEL", "warn")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    let t = Instant::now();
    let mut pending = std::collections::VecDeque::new();
    for i in 0..n {
        let uuid = next_uuid();
        c.send_text(request_text(
            &uuid,
            "CACHE",
            "SET",
            json!({"KEY": format!("order/{i}"), "VALUE": {"n": i, "lines": ["2 cañas", "1 tapa"]}}),
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

/// The same rows written by a bare rusqlite loop (WAL, synchronous=FULL): (rows/s with one commit
/// per row, rows/s with 256 rows per commit).
fn bare_sqlite(n: usize) -> anyhow::Result<(f64, f64)> {
    let run = |per_commit: usize, name: &str| -> anyhow::Result<f64> {
        let dir = pispas_testkit::test_dir(name);
        let conn = rusqlite::Connection::open(dir.join("bare.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch("CREATE TABLE kv (ns TEXT, key TEXT, value TEXT, version INTEGER, PRIMARY KEY (ns, key)) WITHOUT ROWID")?;
        let t = Instant::now();
        let mut i = 0;
        while i < n {
            conn.execute_batch("BEGIN")?;
            for _ in 0..per_commit.min(n - i) {
                conn.execute(
                    "INSERT INTO kv VALUES ('native', ?1, ?2, ?3) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
                    rusqlite::params![format!("order/{i}"), json!({"n": i, "lines": ["2 cañas", "1 tapa"]}).to_string(), i as i64],
                )?;
                i += 1;
            }
            conn.execute_batch("COMMIT")?;
        }
        Ok(n as f64 / t.elapsed().as_secs_f64())
    };
    Ok((run(1, "bench-bare-1")?, run(256, "bench-bare-256")?))
}

/// (local PING µs, PING through the gateway µs), medians.
async fn tunnel_ping(n: usize) -> anyhow::Result<(f64, f64)> {
    let cloud = GatewaySim::start(GatewayOptions {
        addr: "127.0.0.1:0".into(),
        token: Some("bench-token-0123456789".into()),
        tls: None,
    })
    .await?;
    let port = cloud.addr().port().to_string();
    let server = start_engine(
        "bench-tunnel",
        &[
            ("MODULES", "base"),
            ("LOG_LEVEL", "warn"),
            ("REMOTE_HOST", "127.0.0.1"),
            ("REMOTE_PORT", &port),
            ("REMOTE_TLS", "off"),
            ("REMOTE_TOKEN", "bench-token-0123456789"),
            ("REMOTE_DEVICE_ID", "bench-till"),
        ],
    )
    .await;
    cloud
        .wait_for_hello(Some("bench-till"), Duration::from_secs(20))
        .await?;
    let mut c = Client::plain(server.addr()).await?;
    let mut events = cloud.subscribe();
    let (mut local, mut tunnel) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n + 50 {
        let t = Instant::now();
        c.call("BASE", "PING", json!({})).await?;
        let l = t.elapsed().as_secs_f64() * 1e6;
        let uuid = format!("bench-{i}");
        let t = Instant::now();
        cloud.send(
            "bench-till",
            &json!({"UUIDV4": uuid, "TARGET": "BASE", "ACTION": "PING"}),
        )?;
        loop {
            match tokio::time::timeout(Duration::from_secs(20), events.recv()).await?? {
                GatewayEvent::Message { message, .. }
                    if message["MESSAGE_UUID"] == Value::String(uuid.clone()) =>
                {
                    break
                }
                _ => {}
            }
        }
        let r = t.elapsed().as_secs_f64() * 1e6;
        if i >= 50 {
            local.push(l);
            tunnel.push(r);
        }
    }
    server.engine.shutdown().await;
    cloud.stop();
    Ok((median(&mut local), median(&mut tunnel)))
}

/// ms from the gateway listening again to the till's HELLO, median of `reps`, each after the link
/// had been up long enough to reset the backoff.
async fn reconnect(reps: usize) -> anyhow::Result<f64> {
    let token = Some("bench-token-0123456789".to_string());
    let mut cloud = GatewaySim::start(GatewayOptions {
        addr: "127.0.0.1:0".into(),
        token: token.clone(),
        tls: None,
    })
    .await?;
    let port = cloud.addr().port();
    let port_s = port.to_string();
    let server = start_engine(
        "bench-reconnect",
        &[
            ("MODULES", "base"),
            ("LOG_LEVEL", "warn"),
            ("REMOTE_HOST", "127.0.0.1"),
            ("REMOTE_PORT", &port_s),
            ("REMOTE_TLS", "off"),
            ("REMOTE_TOKEN", "bench-token-0123456789"),
            ("REMOTE_DEVICE_ID", "bench-till"),
        ],
    )
    .await;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        cloud
            .wait_for_hello(Some("bench-till"), Duration::from_secs(20))
            .await?;
        // Up for longer than the 5 s that resets the backoff.
        tokio::time::sleep(Duration::from_secs(6)).await;
        cloud.stop();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t = Instant::now();
        cloud = loop {
            match GatewaySim::start(GatewayOptions {
                addr: format!("127.0.0.1:{port}"),
                token: token.clone(),
                tls: None,
            })
            .await
            {
                Ok(g) => break g,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        cloud
            .wait_for_hello(Some("bench-till"), Duration::from_secs(70))
            .await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    server.engine.shutdown().await;
    cloud.stop();
    Ok(median(&mut times))
}

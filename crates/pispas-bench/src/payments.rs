//! Payment benchmarks against baselines in the same run: what the engine adds to an approved myPOS
//! SALE (journal fsyncs, reconciliation bookkeeping, COMPLETE_TX) over a plain client doing the
//! same PURCHASE + COMPLETE_TX with the simulator directly; and the engine's CPU while idle with
//! MYPOS, PAYTEF and CASHGUARD configured (the goal is no polling while nobody pays).

#[path = "../../pispas-sim/tests/common/ipp.rs"]
mod ipp;

use pispas_sim::mypos::{MyposOptions, MyposScenario, MyposSim, MyposTransport};
use pispas_sim::paytef::{PaytefOptions, PaytefSim};
use pispas_testkit::client::next_uuid;
use pispas_testkit::{start_engine, Client};
use serde_json::json;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

pub(crate) fn report(quick: bool) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let n = if quick { 30 } else { 200 };
    let (direct, engine) = rt.block_on(sale_vs_direct(n))?;
    let idle_secs = if quick { 5 } else { 20 };
    let base_ms = rt.block_on(idle_base(idle_secs))?;
    let (cpu_ms, configured) = rt.block_on(idle_cpu(idle_secs))?;
    let mut out = String::new();
    writeln!(
        out,
        "| measurement | result | baseline (same run) | difference | goal |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    writeln!(out, "| approved myPOS SALE through the engine (simulator answering at once), median of {n} | {:.2} ms | PURCHASE + COMPLETE_TX straight to the simulator: {:.2} ms | +{:.2} ms | ≤ +3 ms |", engine * 1e3, direct * 1e3, (engine - direct) * 1e3)?;
    let pct = |ms: f64| ms / (f64::from(idle_secs) * 10.0);
    writeln!(out, "| process CPU while idle for {idle_secs} s with {configured} configured (engine and simulators in one process) | {cpu_ms:.0} ms ({:.2} %) | the same engine with BASE only: {base_ms:.0} ms ({:.2} %) | +{:.0} ms ({:+.2} %) | 0 % added (no polling while idle) |", pct(cpu_ms), pct(base_ms), cpu_ms - base_ms, pct(cpu_ms - base_ms))?;
    Ok(out)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn sim() -> anyhow::Result<MyposSim> {
    MyposSim::start(MyposOptions {
        transport: MyposTransport::Tcp("127.0.0.1:0".into()),
        scenario: MyposScenario::Approved,
        step: Duration::ZERO,
        slow: Duration::ZERO,
        ..MyposOptions::default()
    })
    .await
}

/// (direct seconds, engine seconds), medians, interleaved.
async fn sale_vs_direct(n: usize) -> anyhow::Result<(f64, f64)> {
    let terminal = sim().await?;
    let addr = terminal
        .addr()
        .ok_or_else(|| anyhow::anyhow!("no tcp address"))?;
    let uri = format!("tcp://{addr}");
    let server = start_engine(
        "bench-payments",
        &[
            ("MODULES", "base,mypos"),
            ("MYPOS", &uri),
            ("LOG_LEVEL", "warn"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    let (mut direct, mut engine) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let t = Instant::now();
        let sid = format!("BENCH-{i}");
        let mut ipp = ipp::Client {
            stream: tokio::net::TcpStream::connect(addr).await?,
        };
        let frames = ipp
            .call(
                "PURCHASE",
                &[
                    ("VERSION", "202"),
                    ("SID", &sid),
                    ("AMOUNT", "1.00"),
                    ("CURRENCY", "978"),
                ],
            )
            .await;
        anyhow::ensure!(
            frames.last().is_some_and(|f| f.status() == 0),
            "direct purchase failed: {frames:?}"
        );
        let mut ipp = ipp::Client {
            stream: tokio::net::TcpStream::connect(addr).await?,
        };
        let done_sid = format!("BENCH-C-{i}");
        ipp.call("COMPLETE_TX", &[("SID", &done_sid), ("SID_ORIGINAL", &sid)])
            .await;
        direct.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let r = c
            .call_with_uuid(&next_uuid(), "MYPOS", "SALE", json!({ "AMOUNT": 100 }))
            .await?;
        anyhow::ensure!(
            r["MESSAGE_DATA"]["STATE"] == "APPROVED",
            "engine sale failed: {r}"
        );
        engine.push(t.elapsed().as_secs_f64());
    }
    Ok((median(&mut direct), median(&mut engine)))
}

/// CPU ms over `secs` of idleness of the engine with BASE only: what the payment modules are
/// compared with.
async fn idle_base(secs: u32) -> anyhow::Result<f64> {
    let server = start_engine(
        "bench-idle-base",
        &[("MODULES", "base"), ("LOG_LEVEL", "warn")],
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = cpu_ms();
    tokio::time::sleep(Duration::from_secs(u64::from(secs))).await;
    let used = cpu_ms() - before;
    drop(server);
    Ok(used)
}

/// This process's CPU time (user + system), ms.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the name).
    (ticks(11) + ticks(12)) * 10.0
}

/// (engine CPU ms over `secs` of idleness, what was configured). The engine runs in this
/// process, which does nothing else meanwhile.
async fn idle_cpu(secs: u32) -> anyhow::Result<(f64, String)> {
    let mypos = sim().await?;
    let paytef = PaytefSim::start(PaytefOptions::default()).await?;
    let mut values = vec![
        ("MODULES".to_string(), "base,mypos,paytef".to_string()),
        (
            "MYPOS".into(),
            format!(
                "tcp://{}",
                mypos.addr().ok_or_else(|| anyhow::anyhow!("no tcp"))?
            ),
        ),
        ("PAYTEF".into(), paytef.url()),
        ("LOG_LEVEL".into(), "warn".into()),
    ];
    let mut configured = "MYPOS and PAYTEF".to_string();
    if let Ok(lib) = pispas_cashguard_sim::library_path() {
        let state = pispas_testkit::test_dir("bench-cg").join("cg.json");
        values[0].1.push_str(",cashguard");
        values.push((
            "CASHGUARD".into(),
            format!(
                "lib://{}?port=COM1&settings=control=127.0.0.1:0;state={}",
                lib.display(),
                state.display()
            ),
        ));
        configured = "MYPOS, PAYTEF and CASHGUARD".into();
    }
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let server = start_engine("bench-idle", &pairs).await;
    // Let start-up reconciliation and the first health checks settle, then measure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = cpu_ms();
    tokio::time::sleep(Duration::from_secs(u64::from(secs))).await;
    let used = cpu_ms() - before;
    drop(server);
    Ok((used, configured))
}

//! `pispas-bench soak --minutes N [--rate R] [--out DIR]`: the engine (BASE, CACHE, PRINT to a
//! virtual printer, ORDER_KITCHEN) under a steady mixed rate for N minutes, every reply checked
//! (its UUIDV4, its content), the engine's resident memory and open file handles sampled every
//! five seconds into `soak.csv` and plotted into `soak.svg` (drawn here: no plotting crate).
//! What it measures is memory and handles over time, not speed: the rate stays modest on
//! purpose. Exits with an error when a reply was lost, wrong, or went to another UUIDV4.

use crate::process;
use pispas_sim::printer::VirtualPrinter;
use pispas_testkit::client::{next_uuid, request_text, Client};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Clients, each sending one request at a time at `rate / CLIENTS` per second.
const CLIENTS: u64 = 8;
const SAMPLE: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    lost: AtomicU64,
    wrong: AtomicU64,
}

struct Sample {
    secs: f64,
    rss_mib: f64,
    handles: usize,
    replies: u64,
}

pub(crate) fn run(args: &[String]) -> anyhow::Result<String> {
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let minutes: f64 = arg("--minutes").map_or(Ok(1.0), |m| m.parse())?;
    let rate: u64 = arg("--rate").map_or(Ok(40), |r| r.parse())?;
    let out = PathBuf::from(arg("--out").unwrap_or_else(|| "docs".into()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(soak(
        Duration::from_secs_f64(minutes * 60.0),
        rate.max(1),
        out,
    ))
}

fn handles(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

async fn soak(length: Duration, rate: u64, out: PathBuf) -> anyhow::Result<String> {
    let printer = VirtualPrinter::start_tcp("127.0.0.1:0").await?;
    let dir = pispas_testkit::test_dir("soak");
    let server = process::engine_with_env(
        &dir,
        &[
            ("MODULES", "base,cache,print,order_kitchen".into()),
            ("PRINTER_RECEIPT", format!("tcp://{}", printer.addr())),
            ("PRINT_PREWARM", "false".into()),
        ],
    )?;
    let pid = server.child.id();
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let period = Duration::from_secs_f64(CLIENTS as f64 / rate as f64);
    let mut clients = Vec::new();
    for n in 0..CLIENTS {
        let c = Client::plain(server.plain).await?;
        clients.push(tokio::spawn(client(c, n, period, length, tally.clone())));
    }
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(SAMPLE);
    while started.elapsed() < length {
        tick.tick().await;
        samples.push(Sample {
            secs: started.elapsed().as_secs_f64(),
            rss_mib: process::rss_mib(pid),
            handles: handles(pid),
            replies: tally.ok.load(Ordering::Relaxed),
        });
    }
    for c in clients {
        c.await??;
    }
    samples.push(Sample {
        secs: started.elapsed().as_secs_f64(),
        rss_mib: process::rss_mib(pid),
        handles: handles(pid),
        replies: tally.ok.load(Ordering::Relaxed),
    });
    std::fs::create_dir_all(&out)?;
    let mut csv = String::from("seconds,rss_mib,open_handles,replies\n");
    for s in &samples {
        writeln!(
            csv,
            "{:.0},{:.1},{},{}",
            s.secs, s.rss_mib, s.handles, s.replies
        )?;
    }
    std::fs::write(out.join("soak.csv"), csv)?;
    std::fs::write(out.join("soak.svg"), plot(&samples, rate))?;
    let (ok, lost, wrong) = (
        tally.ok.load(Ordering::Relaxed),
        tally.lost.load(Ordering::Relaxed),
        tally.wrong.load(Ordering::Relaxed),
    );
    let rss: Vec<f64> = samples.iter().map(|s| s.rss_mib).collect();
    let max = rss.iter().copied().fold(f64::MIN, f64::max);
    let h: Vec<usize> = samples.iter().map(|s| s.handles).collect();
    let report = format!(
        "soak: {:.1} min at {rate} req/s, {ok} replies checked, {lost} lost, {wrong} wrong; RSS {:.1} → {:.1} MiB (max {max:.1}); open handles {} → {} (max {}); {} samples in {}",
        length.as_secs_f64() / 60.0,
        rss.first().copied().unwrap_or(f64::NAN),
        rss.last().copied().unwrap_or(f64::NAN),
        h.first().copied().unwrap_or(0),
        h.last().copied().unwrap_or(0),
        h.iter().max().copied().unwrap_or(0),
        samples.len(),
        out.join("soak.csv").display(),
    );
    anyhow::ensure!(lost == 0 && wrong == 0, "{report}");
    Ok(report)
}

/// One client: a request every `period`, cycling PING, ECHO, CACHE SET, CACHE GET, and every
/// tenth turn a PRINT or a kitchen SEND (then its BUMPs, so the open tickets stay few).
async fn client(
    mut c: Client,
    n: u64,
    period: Duration,
    length: Duration,
    tally: Arc<Tally>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut turn: u64 = 0;
    let mut last_set: Option<Value> = None;
    while started.elapsed() < length {
        tick.tick().await;
        turn += 1;
        let key = format!("soak/{n}");
        let text = format!("client {n} turn {turn}");
        // This round's kitchen ticket: sent on turn 10 of 20, then bumped to SERVED.
        let ticket = format!("S{n}-{}", turn - turn % 20 + 10);
        let (target, action, params, want): (&str, &str, Value, Option<Value>) = match turn % 20 {
            0 => (
                "PRINT",
                "PRINT",
                json!({"PRINTER": "RECEIPT", "FORMAT": "TEXT", "DATA": text}),
                None,
            ),
            10 => (
                "ORDER_KITCHEN",
                "SEND",
                json!({"TICKET": ticket, "TABLE": "1", "ORDER": ticket,
                "LINES": [{"LINE": "1", "QTY": 1, "NAME": "Tortilla"}]}),
                None,
            ),
            11..=13 => (
                "ORDER_KITCHEN",
                "BUMP",
                json!({"TICKET": ticket, "BY": "SOAK"}),
                None,
            ),
            t if t % 4 == 1 => ("BASE", "PING", json!({}), None),
            t if t % 4 == 2 => ("BASE", "ECHO", json!({"DATA": text}), Some(json!(text))),
            t if t % 4 == 3 => {
                last_set = Some(json!(text));
                ("CACHE", "SET", json!({"KEY": key, "VALUE": text}), None)
            }
            _ => ("CACHE", "GET", json!({"KEY": key}), last_set.clone()),
        };
        let uuid = next_uuid();
        c.send_text(request_text(&uuid, target, action, params))
            .await?;
        // One request at a time: the next RESPONSE on this socket must be this one.
        let reply = loop {
            match c.next().await {
                Ok(v) if v["MESSAGE_TYPE"] == "EVENT" => continue,
                Ok(v) => break Some(v),
                Err(_) => break None,
            }
        };
        let Some(reply) = reply else {
            tally.lost.fetch_add(1, Ordering::Relaxed);
            eprintln!("client {n}: no reply to {target} {action} {uuid}");
            return Ok(());
        };
        let right = reply["MESSAGE_UUID"] == uuid.as_str()
            && reply["MESSAGE_EXEC"] == "SUCCESS"
            && want
                .as_ref()
                .is_none_or(|w| reply_value(action, &reply) == Some(w));
        if right {
            tally.ok.fetch_add(1, Ordering::Relaxed);
        } else {
            tally.wrong.fetch_add(1, Ordering::Relaxed);
            eprintln!("client {n}: {target} {action} {uuid}: {reply}");
        }
    }
    Ok(())
}

/// What an ECHO answered (its data) or a GET found (the value).
fn reply_value<'a>(action: &str, reply: &'a Value) -> Option<&'a Value> {
    let d = &reply["MESSAGE_DATA"];
    if action == "GET" {
        d.get("VALUE")
    } else {
        Some(d)
    }
}

/// RSS (MiB, left axis) and open handles (right axis) over minutes, as a small SVG.
fn plot(samples: &[Sample], rate: u64) -> String {
    let (w, h, left, right, top, bottom) = (720.0, 320.0, 60.0, 60.0, 30.0, 40.0);
    let t_max = samples.last().map_or(1.0, |s| s.secs).max(1.0);
    let rss_max = samples.iter().map(|s| s.rss_mib).fold(1.0_f64, f64::max) * 1.2;
    let fd_max = samples.iter().map(|s| s.handles).max().unwrap_or(1).max(1) as f64 * 1.2;
    let x = |t: f64| left + (w - left - right) * t / t_max;
    let y = |v: f64, max: f64| top + (h - top - bottom) * (1.0 - v / max);
    let line = |f: &dyn Fn(&Sample) -> f64, max: f64| {
        samples
            .iter()
            .map(|s| format!("{:.1},{:.1}", x(s.secs), y(f(s), max)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="white"/>
<text x="{left}" y="18">pispas-modules soak at {rate} req/s: RSS (blue, MiB) and open handles (orange)</text>
<line x1="{left}" y1="{b}" x2="{r}" y2="{b}" stroke="black"/>
<line x1="{left}" y1="{top}" x2="{left}" y2="{b}" stroke="black"/>
<line x1="{r}" y1="{top}" x2="{r}" y2="{b}" stroke="black"/>
<text x="{left}" y="{lbl}">0</text><text x="{r}" y="{lbl}" text-anchor="end">{tm:.0} min</text>
<text x="{lx}" y="{top}" text-anchor="end" fill="#1f5fbf">{rss_max:.0}</text><text x="{lx}" y="{b}" text-anchor="end" fill="#1f5fbf">0</text>
<text x="{rx}" y="{top}" fill="#d9730d">{fd_max:.0}</text><text x="{rx}" y="{b}" fill="#d9730d">0</text>
<polyline fill="none" stroke="#1f5fbf" stroke-width="2" points="{rss}"/>
<polyline fill="none" stroke="#d9730d" stroke-width="2" points="{fds}"/>
</svg>
"##,
        b = h - bottom,
        r = w - right,
        lbl = h - bottom + 16.0,
        tm = t_max / 60.0,
        lx = left - 4.0,
        rx = w - right + 4.0,
        rss = line(&|s| s.rss_mib, rss_max),
        fds = line(&|s| s.handles as f64, fd_max),
    );
    svg
}

//! PRINT benchmarks, each next to a baseline measured in the same run: a warm HTML receipt from
//! request to the last byte at the virtual printer against a cold `chromium --headless
//! --screenshot` per ticket; the first HTML job after the engine starts (release binary, browser
//! pre-warmed); a one-page PDF; encoding a RECEIPT document; 500 small durable jobs in a row
//! against writing the same bytes straight to the printer; and the warm browser's memory.

use crate::process;
use base64::Engine as _;
use pispas_modules::modules::print::codepage::Codepage;
use pispas_modules::modules::print::escpos::{self, Profile};
use pispas_modules::modules::print::raster::Dither;
use pispas_modules::modules::print::receipt;
use pispas_sim::printer::VirtualPrinter;
use pispas_testkit::{start_engine, Client};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const WAIT: Duration = Duration::from_mins(1);

pub(crate) fn report(quick: bool) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut out = String::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let html = receipt_html();
    // As in the service: pdfium (which HTML receipts go through too) in its worker process.
    use pispas_modules::modules::print::render::pdf_worker;
    pdf_worker::enable(crate::process::sibling("pispas-modules")?);
    let (warm, render_ms, browser) = rt.block_on(html_warm(&html, if quick { 10 } else { 40 }))?;
    let cold = cold_screenshots(&html, if quick { 3 } else { 7 })?;
    let first = rt.block_on(first_html_job(&html, if quick { 2 } else { 3 }))?;
    // The service renders PDFs in a worker process (pdfium cannot take it down); the baseline is
    // pdfium in the engine's own process, measured in the same run.
    pdf_worker::disable();
    let (pdf_inproc, _) = rt.block_on(pdf_one_page(if quick { 10 } else { 40 }))?;
    pdf_worker::enable(crate::process::sibling("pispas-modules")?);
    let (pdf_total, pdf_render) = rt.block_on(pdf_one_page(if quick { 10 } else { 40 }))?;
    let (encode_us, encode_logo_us) = receipt_encode(if quick { 500 } else { 3000 });
    let jobs = rt.block_on(small_jobs(500))?;
    writeln!(
        out,
        "| measurement | result | baseline (same run) | ratio | goal |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    writeln!(out, "| HTML receipt (15 lines, logo, QR), request → last byte at the printer, warm, median | {:.1} ms (p90 {:.1}) | cold `chromium --headless --screenshot` per ticket: {:.0} ms | {:.0}× faster | ≤ 45 ms, ≥ 15× |", warm.0, warm.1, cold, cold / warm.0)?;
    writeln!(out, "| … of which accepted → picked by the printer's worker / HTML → PDF → raster → ESC/POS / status + bytes + status on the wire (TIMINGS), medians | {:.0} / {:.0} / {:.0} ms | — | — | — |", render_ms.0, render_ms.1, render_ms.2)?;
    writeln!(out, "| first HTML job after start: binary spawned → receipt printed, median | {:.0} ms | — | — | ≤ 1 s |", first.0)?;
    writeln!(out, "| first HTML job after start: engine listening → receipt printed, median | {:.0} ms | — | — | ≤ 1 s |", first.1)?;
    writeln!(out, "| first HTML job sent 3 s after start (pre-warm done): request → receipt printed, median | {:.0} ms | — | — | — |", first.2)?;
    writeln!(out, "| one-page PDF, request → last byte at the printer, median (pdfium in its worker process) | {pdf_total:.1} ms | pdfium in the service's process: {pdf_inproc:.1} ms | {:.2}× | ≤ 10 ms |", pdf_total / pdf_inproc)?;
    writeln!(out, "| … of which pdfium raster + dither + encode (TIMINGS.RENDER_MS), median | {pdf_render:.0} ms | — | — | — |")?;
    writeln!(out, "| RECEIPT document (20 items, QR, barcode) → ESC/POS bytes, median | {encode_us:.1} µs | — | — | ≤ 1 ms |")?;
    writeln!(
        out,
        "| … with a 200×80 logo image item, median | {encode_logo_us:.1} µs | — | — | — |"
    )?;
    writeln!(out, "| 500 small TEXT jobs to one printer, pipelined, durable (SQLite WAL, synchronous=FULL) | {:.0} jobs/s | same bytes written straight to the printer, one connection each: {:.0} jobs/s | {:.2}× | ≥ 300 jobs/s |", jobs.0, jobs.2, jobs.0 / jobs.2)?;
    writeln!(
        out,
        "| 500 small TEXT jobs, one at a time (wait for each reply) | {:.0} jobs/s | — | — | — |",
        jobs.1
    )?;
    writeln!(out, "| warm browser memory (Chromium processes: PSS / RSS sum) | {:.0} MiB / {:.0} MiB | — | — | — |", browser.0, browser.1)?;
    writeln!(
        out,
        "\nLoad average when the run started (other builds share the machine): {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    Ok(out)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn p90(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() * 9 / 10).min(v.len() - 1)]
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn png(w: u32, h: u32, black: impl Fn(u32, u32) -> bool) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([if black(x, y) { 0 } else { 255 }])
    });
    let mut buf = Vec::new();
    let _ = image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png);
    buf
}

/// A typical 80 mm receipt: logo, header, 15 item lines, totals, a QR code.
fn receipt_html() -> String {
    let logo = b64(&png(200, 80, |x, y| {
        (x / 10 + y / 10) % 2 == 0 || !(4..=75).contains(&y)
    }));
    let qr = b64(&png(29, 29, |x, y| {
        (y < 7 && !(7..=21).contains(&x)) || (x < 7 && y > 21) || (x * 13 + y * 7) % 3 == 0
    }));
    let mut lines = String::new();
    for i in 1..=15 {
        let _ = write!(
            lines,
            "<tr><td>{i} x Café con leche {i}</td><td class=r>{},{:02} €</td></tr>",
            i * 2,
            i * 7 % 100
        );
    }
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><style>
        body {{ margin: 0; font: 22px/1.3 sans-serif; color: #000; }}
        .c {{ text-align: center; }} .r {{ text-align: right; }} table {{ width: 100%; border-collapse: collapse; }}
        h1 {{ font-size: 40px; margin: 8px 0; }} .qr {{ width: 232px; image-rendering: pixelated; }}
        </style></head><body>
        <div class=c><img src="data:image/png;base64,{logo}" width=200 height=80><h1>BAR PEPE</h1>
        <div>C/ Mayor 1 · Madrid · NIF B12345678</div><div>Ticket 2026-000123 · Mesa 4</div></div><hr>
        <table>{lines}</table><hr>
        <table><tr><td><b>TOTAL</b></td><td class=r><b>123,45 €</b></td></tr><tr><td>IVA 10%</td><td class=r>11,22 €</td></tr></table>
        <div class=c><img class=qr src="data:image/png;base64,{qr}"><div>¡Gracias por su visita!</div></div>
        </body></html>"#
    )
}

/// (median ms, p90 ms), render median ms, browser (PSS, RSS) MiB.
async fn html_warm(
    html: &str,
    n: usize,
) -> anyhow::Result<((f64, f64), (f64, f64, f64), (f64, f64))> {
    let sim = VirtualPrinter::start_tcp("127.0.0.1:0").await?;
    let uri = format!("tcp://{}", sim.addr());
    let server = start_engine(
        "bench-html",
        &[
            ("MODULES", "base,print"),
            ("PRINTER_RECEIPT", &uri),
            ("LOG_LEVEL", "warn"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    let mut cuts = 0;
    for _ in 0..3 {
        let r = c
            .call("PRINT", "PRINT", json!({ "FORMAT": "HTML", "DATA": html }))
            .await?;
        anyhow::ensure!(
            r["MESSAGE_DATA"]["STATE"] == "DELIVERED",
            "warm-up failed: {r}"
        );
        cuts += 1;
    }
    sim.wait_for_cuts(cuts, WAIT).await?;
    let (mut total, mut render, mut queued, mut send) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        // A fresh document each time, so the simulator's bookkeeping of earlier receipts is not
        // measured.
        sim.clear();
        let t = Instant::now();
        let uuid = c
            .send("PRINT", "PRINT", json!({ "FORMAT": "HTML", "DATA": html }))
            .await?;
        sim.wait_for_cuts(1, WAIT).await?;
        total.push(t.elapsed().as_secs_f64() * 1000.0);
        let r = c.reply_to(&uuid).await?;
        let timings = &r["MESSAGE_DATA"]["TIMINGS"];
        let ms = |k: &str| timings[k].as_f64().unwrap_or(f64::NAN);
        render.push(ms("RENDER_MS"));
        queued.push(ms("QUEUED_MS"));
        send.push(ms("SEND_MS"));
    }
    let browser = browser_memory();
    server.engine.shutdown().await;
    Ok((
        (median(&mut total.clone()), p90(&mut total)),
        (median(&mut queued), median(&mut render), median(&mut send)),
        browser,
    ))
}

/// Chromium processes started by this process's engine: (PSS, RSS) in MiB.
fn browser_memory() -> (f64, f64) {
    let marker = format!("pispas-chromium-{}-", std::process::id());
    let (mut pss, mut rss) = (0.0, 0.0);
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return (f64::NAN, f64::NAN);
    };
    for entry in dir.flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmd).contains(&marker) {
            continue;
        }
        let kb = |file: &str, key: &str| {
            std::fs::read_to_string(format!("/proc/{pid}/{file}"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| {
                    l.strip_prefix(key)
                        .and_then(|v| v.split_whitespace().next())
                        .and_then(|v| v.parse::<f64>().ok())
                })
                .unwrap_or(0.0)
        };
        pss += kb("smaps_rollup", "Pss:") / 1024.0;
        rss += kb("status", "VmRSS:") / 1024.0;
    }
    (pss, rss)
}

/// Median ms of a cold headless Chromium screenshot of the same HTML, one process per ticket.
fn cold_screenshots(html: &str, n: usize) -> anyhow::Result<f64> {
    let browser = pispas_modules::modules::print::render::locate::find_browser(None)
        .map_err(anyhow::Error::msg)?;
    let dir = pispas_testkit::test_dir("bench-cold");
    let page = dir.join("receipt.html");
    std::fs::write(&page, html)?;
    let mut times = Vec::new();
    for i in 0..n {
        let profile = dir.join(format!("profile-{i}"));
        let shot = dir.join(format!("shot-{i}.png"));
        let t = Instant::now();
        let status = std::process::Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--hide-scrollbars",
                "--window-size=576,1400",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", page.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status.success() && shot.exists(), "cold screenshot failed");
    }
    Ok(median(&mut times))
}

/// (spawn → printed, listening → printed) medians in ms, with the release binary.
async fn first_html_job(html: &str, n: usize) -> anyhow::Result<(f64, f64, f64)> {
    let sim = VirtualPrinter::start_tcp("127.0.0.1:0").await?;
    let uri = format!("tcp://{}", sim.addr());
    let (mut from_spawn, mut from_listen, mut later) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        sim.clear();
        let dir = pispas_testkit::test_dir("bench-first");
        let t = Instant::now();
        let server = process::engine_with_env(
            &dir,
            &[
                ("MODULES", "base,print".into()),
                ("PRINTER_RECEIPT", uri.clone()),
            ],
        )?;
        let listening = Instant::now();
        let mut c = Client::plain(server.plain).await?;
        c.send("PRINT", "PRINT", json!({ "FORMAT": "HTML", "DATA": html }))
            .await?;
        sim.wait_for_cuts(1, WAIT).await?;
        from_spawn.push(t.elapsed().as_secs_f64() * 1000.0);
        from_listen.push(listening.elapsed().as_secs_f64() * 1000.0);
        drop(server);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The usual case: the till starts, the first ticket comes a few seconds later.
    for _ in 0..n {
        sim.clear();
        let dir = pispas_testkit::test_dir("bench-first-later");
        let server = process::engine_with_env(
            &dir,
            &[
                ("MODULES", "base,print".into()),
                ("PRINTER_RECEIPT", uri.clone()),
            ],
        )?;
        let mut c = Client::plain(server.plain).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let t = Instant::now();
        c.send("PRINT", "PRINT", json!({ "FORMAT": "HTML", "DATA": html }))
            .await?;
        sim.wait_for_cuts(1, WAIT).await?;
        later.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(server);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok((
        median(&mut from_spawn),
        median(&mut from_listen),
        median(&mut later),
    ))
}

/// A one-page 72 mm PDF with some text and boxes: (request → last byte, render) medians in ms.
async fn pdf_one_page(n: usize) -> anyhow::Result<(f64, f64)> {
    let sim = VirtualPrinter::start_tcp("127.0.0.1:0").await?;
    let uri = format!("tcp://{}", sim.addr());
    let server = start_engine(
        "bench-pdf",
        &[
            ("MODULES", "base,print"),
            ("PRINTER_RECEIPT", &uri),
            ("PRINT_PREWARM", "false"),
            ("LOG_LEVEL", "warn"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    let pdf = b64(&pispas_testkit::pdf::receipt_page());
    let (mut total, mut render) = (Vec::new(), Vec::new());
    for i in 0..n + 3 {
        sim.clear();
        let t = Instant::now();
        let uuid = c
            .send("PRINT", "PRINT", json!({ "FORMAT": "PDF", "DATA": pdf }))
            .await?;
        sim.wait_for_cuts(1, WAIT).await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let r = c.reply_to(&uuid).await?;
        anyhow::ensure!(r["MESSAGE_DATA"]["STATE"] == "DELIVERED", "pdf failed: {r}");
        if i >= 3 {
            total.push(ms);
            render.push(
                r["MESSAGE_DATA"]["TIMINGS"]["RENDER_MS"]
                    .as_f64()
                    .unwrap_or(f64::NAN),
            );
        }
    }
    server.engine.shutdown().await;
    Ok((median(&mut total), median(&mut render)))
}

/// Median µs to build and encode a RECEIPT document, without and with a logo image.
fn receipt_encode(n: usize) -> (f64, f64) {
    let mut items = vec![
        json!({"TYPE": "TEXT", "TEXT": "BAR PEPE", "ALIGN": "CENTER", "BOLD": true, "SIZE": 2}),
        json!({"TYPE": "TEXT", "TEXT": "C/ Mayor 1 · Madrid", "ALIGN": "CENTER"}),
        json!({"TYPE": "SEPARATOR"}),
    ];
    for i in 1..=15 {
        items.push(json!({"TYPE": "COLUMNS", "COLUMNS": [{"TEXT": format!("{i} x Café con leche")}, {"TEXT": format!("{i},50 €"), "ALIGN": "RIGHT", "WIDTH": 10}]}));
    }
    items.push(json!({"TYPE": "BARCODE", "SYMBOLOGY": "CODE128", "DATA": "T2026-000123"}));
    items.push(json!({"TYPE": "QR", "DATA": "https://app.unpispas.es/t/2026-000123"}));
    let plain = json!({ "ITEMS": items });
    let mut with_logo = plain.clone();
    let logo = b64(&png(200, 80, |x, y| (x / 10 + y / 10) % 2 == 0));
    if let Some(a) = with_logo["ITEMS"].as_array_mut() {
        a.insert(0, json!({"TYPE": "IMAGE", "DATA": logo}));
    }
    let time = |doc: &Value| {
        let mut t = Vec::with_capacity(n);
        for _ in 0..n {
            let s = Instant::now();
            let p = receipt::build(doc, 576, Dither::default()).expect("receipt");
            let bytes = escpos::encode(
                &p,
                Profile {
                    codepage: Codepage::Cp858,
                },
            );
            std::hint::black_box(bytes);
            t.push(s.elapsed().as_secs_f64() * 1e6);
        }
        median(&mut t)
    };
    (time(&plain), time(&with_logo))
}

/// (pipelined jobs/s, one-at-a-time jobs/s, baseline direct writes/s) for 500 small jobs.
async fn small_jobs(n: usize) -> anyhow::Result<(f64, f64, f64)> {
    let sim = VirtualPrinter::start_tcp("127.0.0.1:0").await?;
    let uri = format!("tcp://{}", sim.addr());
    let server = start_engine(
        "bench-jobs",
        &[
            ("MODULES", "base,print"),
            ("PRINTER_RECEIPT", &uri),
            ("PRINT_PREWARM", "false"),
            ("LOG_LEVEL", "warn"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await?;
    let t = Instant::now();
    let mut uuids = Vec::with_capacity(n);
    for i in 0..n {
        uuids.push(
            c.send(
                "PRINT",
                "PRINT",
                json!({ "FORMAT": "TEXT", "DATA": format!("Ticket {i}") }),
            )
            .await?,
        );
    }
    for u in &uuids {
        let r = c.reply_to(u).await?;
        anyhow::ensure!(r["MESSAGE_DATA"]["STATE"] == "DELIVERED", "job failed: {r}");
    }
    let pipelined = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in 0..n {
        let r = c
            .call(
                "PRINT",
                "PRINT",
                json!({ "FORMAT": "TEXT", "DATA": format!("Ticket {i}") }),
            )
            .await?;
        anyhow::ensure!(r["MESSAGE_DATA"]["STATE"] == "DELIVERED", "job failed: {r}");
    }
    let sequential = n as f64 / t.elapsed().as_secs_f64();
    server.engine.shutdown().await;
    // Baseline: the same ESC/POS bytes, one connection per job, no queue, no status, no disk.
    let job = escpos::encode(
        &{
            let mut p = pispas_modules::modules::print::program::Program::new();
            p.push(pispas_modules::modules::print::program::Op::Text {
                text: "Ticket 0".into(),
                style: Default::default(),
            });
            p.push(pispas_modules::modules::print::program::Op::Cut(
                Default::default(),
            ));
            p
        },
        Profile {
            codepage: Codepage::Cp858,
        },
    );
    let before = sim.cuts().len();
    let t = Instant::now();
    for _ in 0..n {
        let mut s = tokio::net::TcpStream::connect(sim.addr()).await?;
        s.write_all(&job).await?;
        s.shutdown().await?;
    }
    sim.wait_for_cuts(before + n, WAIT).await?;
    let direct = n as f64 / t.elapsed().as_secs_f64();
    Ok((pipelined, sequential, direct))
}

//! `pispas-sim printer`: runs a virtual printer on TCP, ePOS-Print HTTP and/or a pty, prints
//! what it receives as text, writes job-N.txt and job-N-image-M.png into --out, and takes
//! condition and fault commands on stdin.

use super::{command_loop, say, Args};
use crate::document::{CutKind, Element};
use crate::printer::{Paper, PrinterEvent, PrinterFault, VirtualPrinter};
use anyhow::{bail, Context};
use std::path::PathBuf;

const HELP: &str = "\
commands:
  paper ok|near|out        paper sensor (near end / out)
  cover open|closed        printer cover
  offline | online         put the printer offline by hand
  drawer open|closed       drawer switch (pin 3 high = open)
  error mechanical|cutter|unrecoverable|auto|none
  drop after N             hang up once after N more bytes
  slow N | slow off        read at most N bytes per second
  status                   show the condition and the DLE EOT answers
  clear                    forget what was printed
  help | quit";

pub async fn run(mut args: Args) -> anyhow::Result<()> {
    let host = args.value("--host")?.unwrap_or_else(|| "127.0.0.1".into());
    let port: Option<u16> = args.number("--port")?;
    let epos_port: Option<u16> = args.number("--epos-port")?;
    let pty = args.value("--pty")?.map(PathBuf::from);
    let out = args.value("--out")?.map(PathBuf::from);
    args.finish()?;
    let port = match (port, epos_port, &pty) {
        (None, None, None) => Some(9100),
        (p, _, _) => p,
    };
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let printer = VirtualPrinter::new();
    let mut config = Vec::new();
    if let Some(port) = port {
        let addr = printer.serve_tcp(&format!("{host}:{port}")).await?;
        config.push(format!("PRINTER_SIM=tcp://{addr}"));
    }
    if let Some(path) = &pty {
        serve_pty(&printer, path).await?;
        config.push(format!("PRINTER_SIM=serial://{}", path.display()));
    }
    if let Some(port) = epos_port {
        let addr = printer.serve_epos(&format!("{host}:{port}")).await?;
        config.push(format!("PRINTER_SIM=epos://{addr}"));
    }
    for (i, line) in config.iter().enumerate() {
        say(if i == 0 {
            line.clone()
        } else {
            format!("# also: {line}")
        });
    }
    eprintln!("virtual printer ready; type `help` for commands");
    tokio::spawn(show(printer.clone(), out));
    command_loop(|words| {
        let printer = printer.clone();
        async move { command(&printer, &words) }
    })
    .await
}

#[cfg(unix)]
async fn serve_pty(printer: &VirtualPrinter, path: &std::path::Path) -> anyhow::Result<()> {
    printer.serve_pty(path).await
}

#[cfg(not(unix))]
#[allow(clippy::unused_async)] // the same signature as the Unix one, which awaits
async fn serve_pty(_printer: &VirtualPrinter, _path: &std::path::Path) -> anyhow::Result<()> {
    bail!("pty pairs are Unix-only; on Windows use --port (TCP) or --epos-port")
}

fn command(printer: &VirtualPrinter, words: &[String]) -> anyhow::Result<bool> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["paper", "ok"] => printer.set_paper(Paper::Ok),
        ["paper", "near" | "near-end"] => printer.set_paper(Paper::NearEnd),
        ["paper", "out"] => printer.set_paper(Paper::Out),
        ["cover", "open"] => printer.set_cover_open(true),
        ["cover", "closed" | "close"] => printer.set_cover_open(false),
        ["offline"] => printer.set_offline(true),
        ["online"] => printer.set_offline(false),
        ["drawer", "open"] => printer.set_drawer_open(true),
        ["drawer", "closed" | "close"] => printer.set_drawer_open(false),
        ["error", kind] => printer.set_fault(match *kind {
            "mechanical" => Some(PrinterFault::Mechanical),
            "cutter" => Some(PrinterFault::AutoCutter),
            "unrecoverable" => Some(PrinterFault::Unrecoverable),
            "auto" => Some(PrinterFault::AutoRecoverable),
            "none" => None,
            other => bail!("unknown error kind {other:?}"),
        }),
        ["drop", "after", n] => printer.drop_after(n.parse().context("drop after N: N bytes")?),
        ["slow", "off"] => printer.set_slow(None),
        ["slow", n] => printer.set_slow(Some(n.parse().context("slow N: N bytes per second")?)),
        ["clear"] => printer.clear(),
        ["status"] => {}
        ["help"] => {
            eprintln!("{HELP}");
            return Ok(true);
        }
        _ => bail!("unknown command {:?}; type `help`", words.join(" ")),
    }
    let s = printer.status();
    let answers: Vec<String> = (1..=4)
        .map(|n| format!("{:02X}", s.realtime(n).unwrap_or(0)))
        .collect();
    eprintln!(
        "status: paper {:?}, cover {}, {}, drawer pin 3 {}, fault {:?}; DLE EOT 1-4 = {}",
        s.paper,
        if s.cover_open { "open" } else { "closed" },
        if s.is_offline() { "offline" } else { "online" },
        if s.drawer_pin3_high {
            "high (open)"
        } else {
            "low (closed)"
        },
        s.fault,
        answers.join(" ")
    );
    Ok(true)
}

/// Shows printed output live and writes finished jobs into `out`.
async fn show(printer: VirtualPrinter, out: Option<PathBuf>) {
    let mut events = printer.subscribe();
    while let Ok(event) = events.recv().await {
        match event {
            PrinterEvent::JobStarted { job, transport } => eprintln!("=== job {job} ({transport})"),
            PrinterEvent::JobFinished { job } => {
                eprintln!("=== end of job {job}");
                if let Some(dir) = &out {
                    if let Err(e) = save_job(&printer, job, dir) {
                        eprintln!("cannot save job {job}: {e:#}");
                    }
                }
            }
            PrinterEvent::StatusRequested { n, answer } => {
                eprintln!(
                    "[DLE EOT {n} -> {}]",
                    answer.map_or("no answer".into(), |a| format!("0x{a:02X}"))
                );
            }
            PrinterEvent::Printed { element, .. } => show_element(&element),
        }
    }
}

fn show_element(element: &Element) {
    use std::io::Write;
    let line = match element {
        Element::Text { text, .. } => {
            print!("{text}");
            let _ = std::io::stdout().flush();
            return;
        }
        Element::LineFeed => String::new(),
        Element::FeedLines(n) => "\n".repeat(usize::from(*n).saturating_sub(1)),
        Element::Cut(c) => format!(
            "----- {} cut -----",
            if c.kind == CutKind::Full {
                "full"
            } else {
                "partial"
            }
        ),
        Element::DrawerKick(k) => format!(
            "[drawer kick pin {}: {} ms on, {} ms off]",
            k.pin,
            k.on_ms(),
            k.off_ms()
        ),
        Element::Image(i) => format!("[image {}x{} dots]", i.bitmap.width, i.bitmap.height),
        Element::Qr(q) => format!("[QR: {}]", String::from_utf8_lossy(&q.data)),
        Element::Barcode(b) => format!("[{}: {}]", b.symbology, String::from_utf8_lossy(&b.data)),
        Element::Unknown { bytes } => format!("[unknown command {}]", hex(bytes)),
        Element::Malformed { bytes, reason } => format!("[malformed: {reason}: {}]", hex(bytes)),
        _ => return,
    };
    say(line);
}

fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02X}")).collect();
    shown.join(" ") + if bytes.len() > 16 { " …" } else { "" }
}

fn save_job(printer: &VirtualPrinter, job: usize, dir: &std::path::Path) -> anyhow::Result<()> {
    let Some(found) = printer.jobs().into_iter().find(|j| j.id == job) else {
        return Ok(());
    };
    if found.bytes.is_empty() {
        return Ok(());
    }
    std::fs::write(dir.join(format!("job-{job}.txt")), found.document.text())?;
    for (m, image) in found.document.images().iter().enumerate() {
        std::fs::write(
            dir.join(format!("job-{job}-image-{}.png", m + 1)),
            image.to_png(),
        )?;
    }
    Ok(())
}

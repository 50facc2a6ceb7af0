//! pdfium runs out of the service's process (security review, Medium): with the real binary, a
//! PDF that crashes the renderer fails with RENDER_FAILED and the service, its other requests
//! and the next PDF are unharmed; a renderer that died while idle is replaced unseen.
// Needs pdfium from the host and /proc: Linux only (docs/windows.md).
#![cfg(target_os = "linux")]

mod print_support;

use pispas_testkit::client::Client;
use pispas_testkit::BinaryServer;
use print_support::*;
use serde_json::json;
use std::path::Path;

/// The pids of the engine's `--pdf-worker` children.
fn workers(engine: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if parent == Some(engine) && cmd.windows(12).any(|w| w == b"--pdf-worker") {
            out.push(pid);
        }
    }
    out
}

#[tokio::test]
async fn a_pdf_that_crashes_the_renderer_fails_alone_and_the_service_carries_on() {
    let sim = tcp_printer().await;
    let uri = format!("tcp://{}", sim.addr());
    let server = BinaryServer::start(
        Path::new(env!("CARGO_BIN_EXE_pispas-modules")),
        "pdf-worker",
        &[
            ("MODULES", "base,print"),
            ("PRINTER_RECEIPT", &uri),
            ("PRINT_PREWARM", "false"),
            ("PISPAS_PDF_WORKER_ABORT_ON", "CRASH-THE-RENDERER"),
        ],
    )
    .unwrap();
    let mut c = Client::plain(server.addr).await.unwrap();
    let good = b64(&pdf(204, 100, &[(10, 10, 100, 40)]));
    delivered(&print(&mut c, "RECEIPT", "PDF", json!(good), json!({})).await);
    let first = workers(server.child.id());
    assert_eq!(
        first.len(),
        1,
        "one warm renderer, out of the service's process"
    );

    let mut hostile = pdf(204, 100, &[(10, 10, 100, 40)]);
    hostile.extend_from_slice(b"\n% CRASH-THE-RENDERER\n");
    let r = print(&mut c, "RECEIPT", "PDF", json!(b64(&hostile)), json!({})).await;
    failed_with(&r, "RENDER_FAILED");
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG",
        "the service is alive"
    );
    delivered(&print(&mut c, "RECEIPT", "PDF", json!(good), json!({})).await);
    let second = workers(server.child.id());
    assert_eq!(second.len(), 1);
    assert_ne!(first, second, "a new renderer took over");

    // Killed while idle: the next PDF does not notice.
    for pid in &second {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    delivered(&print(&mut c, "RECEIPT", "PDF", json!(good), json!({})).await);
    assert_eq!(
        sim.cuts().len(),
        3,
        "the three good PDFs printed, the hostile one did not"
    );
}

//! The pdfium the installers bundle prints: the library from PyPI's pypdfium2 wheel for this OS
//! (what `scripts/pdfium.py` puts in build/pdfium/<platform>/ and packaging/<os>.json adds to the
//! installer), loaded by the real engine binary's PDF worker, renders a PDF that reaches the
//! virtual printer dot for dot. CI runs it on Linux with the Linux wheel's libpdfium.so and under
//! wine with the Windows wheel's pdfium.dll (scripts/windows-check.sh fetches it), so the
//! Windows installer's pdfium is proven on the engine it ships with.
//!
//! Fails, naming the command to run, when the library has not been fetched: a missing bundle is
//! exactly what this test is for.

mod print_support;

use pispas_testkit::client::Client;
use pispas_testkit::BinaryServer;
use print_support::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The wheel's library: PISPAS_TEST_PDFIUM, else build/pdfium/<platform>/ of this checkout.
fn bundled_pdfium() -> PathBuf {
    if let Some(p) = std::env::var_os("PISPAS_TEST_PDFIUM") {
        return PathBuf::from(p);
    }
    let (platform, name) = if cfg!(windows) {
        ("windows-x64", "pdfium.dll")
    } else if cfg!(target_os = "macos") {
        (
            if cfg!(target_arch = "aarch64") {
                "macos-arm64"
            } else {
                "macos-x64"
            },
            "libpdfium.dylib",
        )
    } else {
        ("linux-x64", "libpdfium.so")
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../build/pdfium")
        .join(platform)
        .join(name);
    assert!(
        path.is_file(),
        "{} missing: run `python3 scripts/pdfium.py {platform}` (scripts/setup/print.sh does on Linux)",
        path.display()
    );
    path
}

#[tokio::test]
async fn the_bundled_pdfium_prints_a_pdf_through_the_engine_binary() {
    let pdfium = bundled_pdfium();
    let sim = tcp_printer().await;
    let uri = format!("tcp://{}", sim.addr());
    let server = BinaryServer::start(
        Path::new(env!("CARGO_BIN_EXE_pispas-modules")),
        "pdf-bundled",
        &[
            ("MODULES", "base,print"),
            ("PRINTER_RECEIPT", &uri),
            ("PRINT_PREWARM", "false"),
            // Only this library: PDFIUM_PATH names one file, nothing else is tried.
            ("PDFIUM_PATH", &pdfium.to_string_lossy()),
        ],
    )
    .unwrap();
    let mut c = Client::plain(server.addr).await.unwrap();
    // 72 mm wide (204 pt), 100 pt tall, black in its bottom half.
    let doc = pdf(204, 100, &[(0, 0, 204, 50)]);
    let r = print(&mut c, "RECEIPT", "PDF", json!(b64(&doc)), json!({})).await;
    delivered(&r);
    let (width, rows) = rows(&sim);
    assert_eq!(width, 576, "rendered at the printer's width");
    assert!(rows.len() > 200, "{} rows", rows.len());
    assert_eq!(black(&rows[10]), 0, "the top half is white");
    assert_eq!(
        black(&rows[rows.len() - 10]),
        576,
        "the bottom half is black"
    );
    server.kill().unwrap();
}

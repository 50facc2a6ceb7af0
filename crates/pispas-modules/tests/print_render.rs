//! HTML through real headless Chromium and PDF through real pdfium, checked by the dots that
//! reach the virtual printer; and the failures a POS must get cleanly: HTML that never finishes
//! loading, HTML reaching for local files, a corrupt PDF, a 50 MB PDF.
// Needs Chromium, pdfium, CUPS, ptys or Unix signals from the host: Linux only (docs/windows.md).
#![cfg(not(windows))]

mod print_support;

use pispas_testkit::client::Client;
use print_support::*;
use serde_json::json;

#[tokio::test]
async fn html_is_laid_out_one_css_pixel_per_dot_and_printed_at_576_dots() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-html",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let html = r#"<html><body style="margin:0"><div style="width:576px;height:100px;background:#000"></div>
        <div style="width:288px;height:60px;background:#000"></div><p style="font:24px sans-serif">Gracias · 12,50 €</p></body></html>"#;
    let r = print(&mut c, "RECEIPT", "HTML", json!(html), json!({})).await;
    let d = delivered(&r);
    assert!(d["TIMINGS"]["RENDER_MS"].as_u64().is_some());
    let (width, rows) = rows(&sim);
    assert_eq!(width, 576, "72-byte rows");
    assert!(rows.len() > 160 && rows.len() < 400, "{} rows", rows.len());
    for (y, row) in rows.iter().enumerate().take(98).skip(2) {
        let white: Vec<usize> = (0..576).filter(|&x| !row[x]).collect();
        assert_eq!(
            black(row),
            576,
            "row {y} is the full-width bar; white at {white:?}"
        );
    }
    for (y, row) in rows.iter().enumerate().take(158).skip(102) {
        let n = black(row);
        assert!(
            (284..=292).contains(&n) && row[10] && !row[400],
            "row {y}: the half-width bar, {n} dots"
        );
    }
    assert!(rows[165..].iter().any(|r| black(r) > 0), "the text printed");
    assert_eq!(sim.cuts().len(), 1);
}

#[tokio::test]
async fn html_cannot_read_local_files() {
    let sim = tcp_printer().await;
    let dir = pispas_testkit::test_dir("html-file");
    let secret = dir.join("black.png");
    std::fs::write(&secret, pattern_png(576, 50)).unwrap();
    let url = format!("file://{}", secret.display());
    let server = engine(
        "print-html-file",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let html = format!(
        r#"<body style="margin:0"><div style="width:576px;height:50px;background:url('{url}')"></div><iframe src="{url}" style="border:0;width:576px;height:50px"></iframe><link rel="stylesheet" href="{url}"></body>"#
    );
    delivered(&print(&mut c, "RECEIPT", "HTML", json!(html), json!({})).await);
    let (_, rows) = rows(&sim);
    let dots: usize = rows.iter().map(|r| black(r)).sum();
    assert_eq!(dots, 0, "nothing of the local file was drawn");
}

#[tokio::test]
async fn html_that_never_finishes_loading_fails_cleanly_and_the_next_job_prints() {
    let sim = tcp_printer().await;
    // A server that accepts and never answers: the image never loads.
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = hang.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((s, _)) = hang.accept().await {
            kept.push(s);
        }
    });
    let server = engine(
        "print-html-hang",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        // Loopback is never loaded by default (PRINT_HTML_FETCH=public): list it, so the image
        // is really asked for and never arrives.
        &[
            ("PRINT_RENDER_TIMEOUT_MS", "4000"),
            ("PRINT_HTML_FETCH", "127.0.0.1"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let html = format!(r#"<body><p>never</p><img src="http://127.0.0.1:{port}/logo.png"></body>"#);
    let r = print(&mut c, "RECEIPT", "HTML", json!(html), json!({})).await;
    failed_with(&r, "RENDER_FAILED");
    assert!(
        r["MESSAGE_DATA"]["MESSAGE"]
            .as_str()
            .unwrap()
            .contains("longer than"),
        "{r:#}"
    );
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
    delivered(
        &print(
            &mut c,
            "RECEIPT",
            "HTML",
            json!("<body><p>next one</p></body>"),
            json!({}),
        )
        .await,
    );
    assert_eq!(sim.cuts().len(), 1, "only the second job printed");
    held.abort();
}

#[tokio::test]
async fn pdf_pages_are_rendered_by_pdfium_at_the_printer_width() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-pdf",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    // 72 mm wide pages (204 pt), 100 pt tall: page 1 black in its bottom half, page 2 in its top.
    let doc = pdf(204, 100, &[(0, 0, 204, 50), (0, 50, 204, 50)]);
    delivered(&print(&mut c, "RECEIPT", "PDF", json!(b64(&doc)), json!({})).await);
    let (width, rows) = rows(&sim);
    assert_eq!(width, 576);
    // Page 1: ~141 white rows then ~141 black; page 2: ~141 black, its white half trimmed.
    assert!((415..=430).contains(&rows.len()), "{} rows", rows.len());
    assert_eq!(black(&rows[10]), 0);
    for y in [150, 200, 280, 290, 350, 410] {
        assert_eq!(black(&rows[y]), 576, "row {y}");
    }
    assert_eq!(sim.cuts().len(), 1, "one cut after the whole document");
}

#[tokio::test]
async fn a_corrupt_pdf_is_render_failed() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-pdf-bad",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(
        &mut c,
        "RECEIPT",
        "PDF",
        json!(b64(b"%PDF-1.4\nthis is not a pdf at all")),
        json!({}),
    )
    .await;
    failed_with(&r, "RENDER_FAILED");
    assert!(
        sim.received_bytes()
            .iter()
            .all(|&b| b == 0x10 || b == 4 || b <= 4),
        "no job bytes sent"
    );
}

#[tokio::test]
async fn a_50_mb_pdf_is_refused_clearly_and_the_service_carries_on() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-pdf-huge",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[("MAX_FRAME_BYTES", "104857600")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(50 * 1024 * 1024, b' ');
    let r = print(&mut c, "RECEIPT", "PDF", json!(b64(&big)), json!({})).await;
    failed_with(&r, "DATA_TOO_LARGE");
    drop(big);
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
    delivered(
        &print(
            &mut c,
            "RECEIPT",
            "PDF",
            json!(b64(&pdf(204, 100, &[(0, 0, 204, 100)]))),
            json!({}),
        )
        .await,
    );
}

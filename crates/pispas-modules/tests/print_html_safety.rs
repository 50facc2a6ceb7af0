//! HTML receipts are documents, not programs (security review, High): no script runs by default,
//! nothing loads from this computer, the shop's network or a metadata address, and nothing of
//! one receipt survives into the next. Real Chromium, real sockets, dots on the virtual printer.
// Needs Chromium and pdfium from the host: Linux only (docs/windows.md).
#![cfg(not(windows))]

mod print_support;

use pispas_testkit::client::Client;
use print_support::*;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A loopback HTTP server that answers every request with a black PNG and counts the
/// connections made to it (a speculative pre-connection counts too: it already reaches the LAN).
async fn counting_server() -> (u16, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let png = pattern_png(576, 40);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let png = png.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    png.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&png).await;
            });
        }
    });
    (port, hits)
}

/// Raster rows of the images printed since `from` images had arrived.
fn rows_since(sim: &VirtualPrinter, from: usize) -> usize {
    sim.images().iter().skip(from).map(|i| i.height).sum()
}

#[tokio::test]
async fn a_receipt_cannot_reach_this_computer_the_shop_network_or_a_metadata_address() {
    let sim = tcp_printer().await;
    let (port, hits) = counting_server().await;
    let server = engine(
        "html-no-lan",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let html = format!(
        r#"<body style="margin:0"><p>Order 12</p>
        <img src="http://127.0.0.1:{port}/a.png"><img src="http://localhost:{port}/b.png">
        <img src="http://[::1]:{port}/c.png"><img src="http://169.254.169.254/latest/meta-data/">
        <img src="http://192.168.1.1/x.png"><link rel="stylesheet" href="http://10.0.0.1/s.css">
        <iframe src="http://127.0.0.1:{port}/frame"></iframe></body>"#
    );
    let r = print(&mut c, "RECEIPT", "HTML", json!(html), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r:#}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the local server"
    );
}

#[tokio::test]
async fn a_listed_host_is_loaded_and_data_uris_always_are() {
    let sim = tcp_printer().await;
    let (port, hits) = counting_server().await;
    let server = engine(
        "html-listed",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[("PRINT_HTML_FETCH", "127.0.0.1")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let data_png = format!("data:image/png;base64,{}", b64(&pattern_png(576, 30)));
    let html = format!(
        r#"<body style="margin:0"><img style="display:block" src="http://127.0.0.1:{port}/logo.png"><img style="display:block" src="{data_png}"></body>"#
    );
    let r = print(&mut c, "RECEIPT", "HTML", json!(html), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r:#}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the listed host was asked once"
    );
    assert!(rows_since(&sim, 0) >= 70, "both images printed");
}

#[tokio::test]
async fn a_script_in_a_receipt_does_not_run_by_default() {
    let sim = tcp_printer().await;
    let server = engine(
        "html-no-js",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    // Were the script to run, the receipt would grow by 2,000 rows.
    let html = r#"<body style="margin:0"><div style="height:40px;background:#000"></div>
        <script>var d=document.createElement('div');d.style.height='2000px';d.style.background='#000';document.body.appendChild(d);</script></body>"#;
    let r = print(&mut c, "RECEIPT", "HTML", json!(html), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r:#}");
    let rows = rows_since(&sim, 0);
    assert!(rows < 500, "{rows} rows: the script ran");
}

#[tokio::test]
async fn with_scripts_on_nothing_of_one_receipt_reaches_the_next() {
    let sim = tcp_printer().await;
    let server = engine(
        "html-fresh",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[("PRINT_HTML_SCRIPTS", "on")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    // Scripts run when enabled: this one makes the receipt 1,000 rows taller.
    let grow = "var d=document.createElement('div');d.style.height='1000px';d.style.background='#000';document.body.appendChild(d);";
    let first = format!(
        r#"<body style="margin:0"><p>one</p><script>window.pispasSeen=1;try{{sessionStorage.setItem('seen','1')}}catch(e){{}};try{{document.cookie='seen=1'}}catch(e){{}};{grow}</script></body>"#
    );
    let r = print(&mut c, "RECEIPT", "HTML", json!(first), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r:#}");
    let after_first = sim.images().len();
    assert!(
        rows_since(&sim, 0) > 900,
        "scripts run when PRINT_HTML_SCRIPTS=on"
    );
    let second = format!(
        r#"<body style="margin:0"><p>two</p><script>var seen=window.pispasSeen;try{{seen=seen||document.cookie.indexOf('seen')>=0||sessionStorage.getItem('seen')}}catch(e){{}};if(seen){{{grow}}}</script></body>"#
    );
    let r = print(&mut c, "RECEIPT", "HTML", json!(second), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r:#}");
    let rows = rows_since(&sim, after_first);
    assert!(
        rows < 500,
        "{rows} rows: the second receipt saw the first one's state"
    );
}

#[tokio::test]
async fn a_popup_opens_nothing_and_the_next_receipt_prints() {
    let sim = tcp_printer().await;
    let (port, hits) = counting_server().await;
    let server = engine(
        "html-popup",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[
            ("PRINT_HTML_SCRIPTS", "on"),
            ("PRINT_HTML_FETCH", "127.0.0.1"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let html = format!(
        r#"<body><p>x</p><script>for(var i=0;i<20;i++)window.open('http://127.0.0.1:{port}/popup'+i);</script></body>"#
    );
    let r = print(&mut c, "RECEIPT", "HTML", json!(html), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r:#}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no pop-up loaded anything");
    let r = print(&mut c, "RECEIPT", "HTML", json!("<p>next</p>"), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r:#}");
}

//! The same jobs over the other transports: a serial port (a pty the virtual printer holds),
//! Epson ePOS-Print over HTTP, a real CUPS raw queue pointing at the virtual printer, and a file.
// Needs Chromium, pdfium, CUPS, ptys or Unix signals from the host: Linux only (docs/windows.md).
#![cfg(not(windows))]

mod print_support;

use pispas_testkit::client::Client;
use print_support::*;
use serde_json::json;

#[cfg(unix)]
#[tokio::test]
async fn every_format_prints_over_a_serial_port() {
    let dir = pispas_testkit::test_dir("pty");
    let link = dir.join("ttyPRN");
    let sim = VirtualPrinter::start_pty(&link).await.unwrap();
    let uri = format!("serial://{}?baud=19200", link.display());
    let server = engine("print-pty", &[("RECEIPT", uri)], &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    delivered(
        &print(
            &mut c,
            "RECEIPT",
            "TEXT",
            json!("Serie: 1 caña 1,80 €"),
            json!({}),
        )
        .await,
    );
    sim.wait_for_cuts(1, WAIT).await.unwrap();
    assert!(
        sim.text().contains("Serie: 1 caña 1,80 €"),
        "{}",
        sim.text()
    );
    let doc = json!({"ITEMS": [{"TYPE": "TEXT", "TEXT": "RECIBO", "BOLD": true}, {"TYPE": "QR", "DATA": "pty"}]});
    delivered(&print(&mut c, "RECEIPT", "RECEIPT", doc, json!({})).await);
    delivered(
        &print(
            &mut c,
            "RECEIPT",
            "RAW",
            json!(b64(b"raw line\n\x1dV\x41\x00")),
            json!({}),
        )
        .await,
    );
    delivered(
        &print(
            &mut c,
            "RECEIPT",
            "IMAGE",
            json!(b64(&pattern_png(576, 64))),
            json!({}),
        )
        .await,
    );
    sim.wait_for_cuts(4, WAIT).await.unwrap();
    let img = sim.images().pop().unwrap();
    assert_eq!((img.width, img.height), (576, 64));
    assert!(
        (0..64)
            .all(|y| (0..576).all(|x| img.bits[y * 576 + x] == pattern_black(x as u32, y as u32))),
        "bit-exact over serial"
    );
    delivered(&c.call("PRINT", "OPEN_DRAWER", json!({})).await.unwrap());
    sim.wait_for_kicks(1, WAIT).await.unwrap();
    sim.set_paper(Paper::Out);
    let s = c.call("PRINT", "STATUS", json!({})).await.unwrap();
    assert_eq!(
        s["MESSAGE_DATA"]["STATE"], "PAPER_OUT",
        "DLE EOT over serial: {s:#}"
    );
}

#[tokio::test]
async fn receipts_and_images_print_over_epos_xml() {
    let sim = VirtualPrinter::start_epos("127.0.0.1:0").await.unwrap();
    let addr = sim.epos_addr().unwrap();
    let server = engine("print-epos", &[("RECEIPT", format!("epos://{addr}"))], &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let doc = json!({"ITEMS": [{"TYPE": "TEXT", "TEXT": "ePOS 2,50 €", "ALIGN": "CENTER"}, {"TYPE": "QR", "DATA": "epos-qr"}]});
    delivered(
        &print(
            &mut c,
            "RECEIPT",
            "RECEIPT",
            doc,
            json!({ "OPEN_DRAWER": true }),
        )
        .await,
    );
    assert!(sim.text().contains("ePOS 2,50 €"), "{}", sim.text());
    assert_eq!(sim.cuts().len(), 1);
    assert_eq!(sim.drawer_kicks().len(), 1);
    delivered(
        &print(
            &mut c,
            "RECEIPT",
            "IMAGE",
            json!(b64(&pattern_png(576, 40))),
            json!({}),
        )
        .await,
    );
    let img = sim.images().pop().unwrap();
    assert_eq!((img.width, img.height), (576, 40));
    assert!(
        (0..40)
            .all(|y| (0..576).all(|x| img.bits[y * 576 + x] == pattern_black(x as u32, y as u32))),
        "bit-exact over ePOS"
    );
    sim.set_paper(Paper::Out);
    let r = print(
        &mut c,
        "RECEIPT",
        "TEXT",
        json!("no paper"),
        json!({ "QUEUE": false }),
    )
    .await;
    failed_with(&r, "PAPER_OUT");
    let s = c.call("PRINT", "STATUS", json!({})).await.unwrap();
    assert_eq!(s["MESSAGE_DATA"]["PAPER"], "OUT");
}

#[tokio::test]
async fn a_file_printer_collects_the_bytes() {
    let dir = pispas_testkit::test_dir("print-file");
    let out = dir.join("receipts.bin");
    let server = engine(
        "print-file",
        &[("DEBUG", format!("file://{}", out.display()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    delivered(&print(&mut c, "DEBUG", "TEXT", json!("to a file €"), json!({})).await);
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(&[0x1B, 0x40, 0x1B, 0x74, 19]));
    assert!(bytes.windows(2).any(|w| w == [b' ', 0xD5]));
    let s = c.call("PRINT", "STATUS", json!({})).await.unwrap();
    assert_eq!(s["MESSAGE_DATA"]["SOURCE"], "NONE");
}

/// Starts CUPS if it is not running (CI starts nothing for us) and adds a raw queue to `uri`.
#[cfg(unix)]
fn cups_queue(name: &str, uri: &str) -> anyhow::Result<()> {
    use std::process::Command;
    let running = Command::new("lpstat").arg("-r").output()?;
    if !String::from_utf8_lossy(&running.stdout).contains("is running") {
        let _ = std::fs::create_dir_all("/run/cups");
        Command::new("cupsd").status()?;
        for _ in 0..100 {
            let out = Command::new("lpstat").arg("-r").output()?;
            if String::from_utf8_lossy(&out.stdout).contains("is running") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let raw = Command::new("lpadmin")
        .args(["-p", name, "-E", "-v", uri, "-m", "raw"])
        .output()?;
    if !raw.status.success() {
        // Newer CUPS dropped the "raw" model; a queue without one is raw too.
        let plain = Command::new("lpadmin")
            .args(["-p", name, "-E", "-v", uri])
            .output()?;
        anyhow::ensure!(
            plain.status.success(),
            "lpadmin: {}",
            String::from_utf8_lossy(&plain.stderr)
        );
    }
    Ok(())
}

#[cfg(unix)]
#[tokio::test]
async fn the_spooler_path_prints_through_a_real_cups_raw_queue() {
    let sim = tcp_printer().await;
    let queue = format!("pispas-test-{}", sim.addr().port());
    let uri = format!("socket://{}", sim.addr());
    let q = queue.clone();
    tokio::task::spawn_blocking(move || cups_queue(&q, &uri))
        .await
        .unwrap()
        .expect("CUPS (scripts/setup/print.sh installs it)");
    let server = engine("print-cups", &[("BAR", format!("spooler://{queue}"))], &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let printers = c.call("PRINT", "GET_PRINTERS", json!({})).await.unwrap();
    let system = printers["MESSAGE_DATA"]["SYSTEM"].as_array().unwrap();
    assert!(
        system.iter().any(|p| p["NAME"] == queue.as_str()),
        "{printers:#}"
    );
    let s = c.call("PRINT", "STATUS", json!({})).await.unwrap();
    assert_eq!(
        (
            s["MESSAGE_DATA"]["SOURCE"].as_str(),
            s["MESSAGE_DATA"]["ONLINE"].as_bool()
        ),
        (Some("SPOOLER"), Some(true)),
        "{s:#}"
    );
    delivered(
        &print(
            &mut c,
            "BAR",
            "TEXT",
            json!("Por CUPS: 2 cañas 4,00 €"),
            json!({}),
        )
        .await,
    );
    delivered(
        &print(
            &mut c,
            "BAR",
            "IMAGE",
            json!(b64(&pattern_png(576, 32))),
            json!({}),
        )
        .await,
    );
    sim.wait_for_cuts(2, WAIT).await.unwrap();
    assert!(
        sim.text().contains("Por CUPS: 2 cañas 4,00 €"),
        "raw: byte for byte through CUPS: {}",
        sim.text()
    );
    let img = sim.images().pop().unwrap();
    assert!((0..32)
        .all(|y| (0..576).all(|x| img.bits[y * 576 + x] == pattern_black(x as u32, y as u32))));
    let _ = std::process::Command::new("lpadmin")
        .args(["-x", &queue])
        .status();
}

#[cfg(unix)]
#[tokio::test]
async fn a_printer_found_with_get_printers_prints_by_its_name_without_configuration() {
    let sim = tcp_printer().await;
    let queue = format!("Pispas_Found_{}", sim.addr().port());
    let uri = format!("socket://{}", sim.addr());
    let q = queue.clone();
    tokio::task::spawn_blocking(move || cups_queue(&q, &uri))
        .await
        .unwrap()
        .expect("CUPS (scripts/setup/print.sh installs it)");
    // No PRINTER_<NAME> key at all: only what the OS has.
    let server = engine("print-found", &[], &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let printers = c.call("PRINT", "GET_PRINTERS", json!({})).await.unwrap();
    let found = printers["MESSAGE_DATA"]["SYSTEM"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["NAME"] == queue.as_str())
        .cloned()
        .expect("the queue is listed");
    let name = found["NAME"].as_str().unwrap();
    delivered(&print(&mut c, name, "TEXT", json!("Por nombre"), json!({})).await);
    sim.wait_for_cuts(1, WAIT).await.unwrap();
    assert!(sim.text().contains("Por nombre"), "{}", sim.text());
    // A name the OS does not have is still PRINTER_NOT_FOUND.
    let r = print(&mut c, "NO_SUCH_PRINTER_X", "TEXT", json!("x"), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "PRINTER_NOT_FOUND", "{r:#}");
    let _ = std::process::Command::new("lpadmin")
        .args(["-x", &queue])
        .status();
}

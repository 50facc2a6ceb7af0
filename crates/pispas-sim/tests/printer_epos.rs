//! The ePOS-Print XML endpoint over real HTTP: a document prints, the condition decides the
//! `<response>` (paper out → EPTR_REC_EMPTY with 0x80000, nothing printed), an empty document
//! is a status probe.

use base64::Engine as _;
use pispas_sim::printer::{Paper, VirtualPrinter};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

fn soap(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
         <epos-print xmlns=\"http://www.epson-pos.com/schemas/2011/03/epos-print\">{body}</epos-print></s:Body></s:Envelope>"
    )
}

async fn post(printer: &VirtualPrinter, xml: &str) -> String {
    let addr = printer.epos_addr().expect("epos endpoint");
    let mut socket = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /cgi-bin/epos/service.cgi?devid=local_printer&timeout=10000 HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
        xml.len()
    );
    socket.write_all(request.as_bytes()).await.expect("write");
    let mut reply = String::new();
    socket.read_to_string(&mut reply).await.expect("read");
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    reply
}

#[tokio::test]
async fn a_document_prints_and_the_response_says_success() {
    let printer = VirtualPrinter::start_epos("127.0.0.1:0")
        .await
        .expect("bind");
    let image = base64::engine::general_purpose::STANDARD.encode([0xF0u8, 0x0F]);
    let body = format!(
        "<text em=\"true\">Mesa 4&#10;</text><text em=\"false\">Caña 2,50 €&#10;</text>\
         <image width=\"8\" height=\"2\" color=\"color_1\" mode=\"mono\">{image}</image>\
         <symbol type=\"qrcode_model_2\" level=\"level_m\" width=\"4\">ticket-42</symbol>\
         <barcode type=\"ean13\" hri=\"below\" width=\"2\" height=\"60\">4006381333931</barcode>\
         <pulse drawer=\"drawer_1\" time=\"pulse_100\"/><cut type=\"feed\"/>"
    );
    let reply = post(&printer, &soap(&body)).await;
    assert!(reply.contains("success=\"true\""), "{reply}");
    assert!(reply.contains("status=\"2\""), "{reply}");
    let doc = printer
        .wait_until("a cut", WAIT, |d| !d.cuts().is_empty())
        .await
        .expect("printed");
    assert_eq!(doc.text(), "Mesa 4\nCaña 2,50 €\n");
    assert_eq!(doc.images()[0].to_raster(), [0xF0, 0x0F]);
    assert_eq!(doc.qr_codes()[0].data, b"ticket-42");
    assert_eq!(doc.barcodes()[0].symbology, "EAN13");
    assert_eq!(doc.drawer_kicks()[0].on_ms(), 100);
}

#[tokio::test]
async fn paper_out_fails_with_rec_empty_and_prints_nothing() {
    let printer = VirtualPrinter::start_epos("127.0.0.1:0")
        .await
        .expect("bind");
    printer.set_paper(Paper::Out);
    let reply = post(&printer, &soap("<text>lost</text><cut/>")).await;
    assert!(reply.contains("success=\"false\""), "{reply}");
    assert!(reply.contains("code=\"EPTR_REC_EMPTY\""), "{reply}");
    let status: u32 = reply
        .split("status=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("status attribute");
    assert_eq!(status & 0x80000, 0x80000);
    assert!(printer.document().elements.is_empty());
    assert!(printer.held().is_empty());
}

#[tokio::test]
async fn cover_open_fails_with_cover_open() {
    let printer = VirtualPrinter::start_epos("127.0.0.1:0")
        .await
        .expect("bind");
    printer.set_cover_open(true);
    let reply = post(&printer, &soap("")).await;
    assert!(reply.contains("code=\"EPTR_COVER_OPEN\""), "{reply}");
}

#[tokio::test]
async fn an_empty_document_is_a_status_probe_that_prints_no_job() {
    let printer = VirtualPrinter::start_epos("127.0.0.1:0")
        .await
        .expect("bind");
    let reply = post(&printer, &soap("")).await;
    assert!(reply.contains("success=\"true\""), "{reply}");
    assert!(printer.jobs().is_empty());
}

#[tokio::test]
async fn raw_escpos_in_a_command_element_goes_through_the_escpos_reader() {
    let printer = VirtualPrinter::start_epos("127.0.0.1:0")
        .await
        .expect("bind");
    post(&printer, &soap("<command>1b7413d50a1b700019fa</command>")).await;
    let doc = printer
        .wait_until("a kick", WAIT, |d| !d.drawer_kicks().is_empty())
        .await
        .expect("kick");
    assert_eq!(doc.text(), "€\n");
}

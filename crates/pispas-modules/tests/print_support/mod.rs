//! Shared pieces of the PRINT integration tests: an engine with printers pointing at virtual
//! printers, request helpers, and test documents (a bit pattern PNG, a hand-written PDF).
#![allow(dead_code, unused_imports)]

use base64::Engine as _;
use pispas_testkit::client::Client;
use pispas_testkit::{start_engine, TestEngine};
use serde_json::{json, Value};
use std::time::Duration;

pub use pispas_sim::printer::{Paper, VirtualPrinter};

/// How long a test waits for the virtual printer.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A virtual printer on a loopback TCP port.
pub async fn tcp_printer() -> VirtualPrinter {
    VirtualPrinter::start_tcp("127.0.0.1:0")
        .await
        .expect("virtual printer")
}

/// An engine whose only module besides BASE is PRINT, with `printers` (`NAME`, URI) and extra
/// settings. The browser is not pre-warmed unless a test asks (PRINT_PREWARM=true).
pub async fn engine(name: &str, printers: &[(&str, String)], extra: &[(&str, &str)]) -> TestEngine {
    let keys: Vec<(String, String)> = printers
        .iter()
        .map(|(n, u)| (format!("PRINTER_{n}"), u.clone()))
        .collect();
    let mut all: Vec<(&str, &str)> = vec![("MODULES", "base,print"), ("PRINT_PREWARM", "false")];
    all.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    all.extend_from_slice(extra);
    start_engine(name, &all).await
}

/// Sends PRINT and returns the whole reply.
pub async fn print(
    c: &mut Client,
    printer: &str,
    format: &str,
    data: Value,
    options: Value,
) -> Value {
    c.call(
        "PRINT",
        "PRINT",
        json!({ "PRINTER": printer, "FORMAT": format, "DATA": data, "OPTIONS": options }),
    )
    .await
    .expect("reply")
}

/// Asserts a SUCCESS reply in state DELIVERED and returns its data.
pub fn delivered(reply: &Value) -> &Value {
    assert_eq!(reply["MESSAGE_EXEC"], "SUCCESS", "{reply:#}");
    assert_eq!(reply["MESSAGE_DATA"]["STATE"], "DELIVERED", "{reply:#}");
    &reply["MESSAGE_DATA"]
}

/// Asserts a FAILURE with `code`.
pub fn failed_with(reply: &Value, code: &str) {
    assert_eq!(reply["MESSAGE_EXEC"], "FAILURE", "{reply:#}");
    assert_eq!(reply["MESSAGE_DATA"]["CODE"], code, "{reply:#}");
}

/// A `w`×`h` black-and-white pattern: black where `(x*7 + y*3) % 5 < 2`.
pub fn pattern_black(x: u32, y: u32) -> bool {
    (x * 7 + y * 3) % 5 < 2
}

/// [`pattern_black`] as a PNG.
pub fn pattern_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([if pattern_black(x, y) { 0 } else { 255 }])
    });
    let mut buf = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png)
        .expect("png");
    buf
}

/// A PDF with one page per entry of `pages`, each `width_pt` × `height_pt` points with a black
/// rectangle `(x, y, w, h)` (PDF coordinates, origin bottom-left). Offsets in the xref are exact.
pub fn pdf(width_pt: u32, height_pt: u32, pages: &[(u32, u32, u32, u32)]) -> Vec<u8> {
    let n = pages.len();
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + 2 * i)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {n} >>",
        kids.join(" ")
    ));
    for (i, (x, y, w, h)) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] /Contents {} 0 R /Resources << >> >>",
            4 + 2 * i
        ));
        let stream = format!("0 0 0 rg {x} {y} {w} {h} re f");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Black dots in a row of a sim bitmap.
pub fn black_in_row(b: &pispas_sim::bitmap::Bitmap, y: usize) -> usize {
    (0..b.width).filter(|&x| b.bits[y * b.width + x]).count()
}

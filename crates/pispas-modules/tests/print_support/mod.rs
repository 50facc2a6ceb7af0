//! Shared pieces of the PRINT integration tests: an engine with printers pointing at virtual
//! printers, request helpers, and test documents (a bit pattern PNG, a hand-written PDF).
#![allow(dead_code, unused_imports)]

use base64::Engine as _;
use pispas_testkit::client::Client;
use pispas_testkit::{start_engine, TestEngine};
use serde_json::{json, Value};
use std::time::Duration;

pub(crate) use pispas_sim::printer::{Paper, VirtualPrinter};

/// How long a test waits for the virtual printer.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A virtual printer on a loopback TCP port.
pub(crate) async fn tcp_printer() -> VirtualPrinter {
    VirtualPrinter::start_tcp("127.0.0.1:0")
        .await
        .expect("virtual printer")
}

/// An engine whose only module besides BASE is PRINT, with `printers` (`NAME`, URI) and extra
/// settings. The browser is not pre-warmed unless a test asks (PRINT_PREWARM=true).
pub(crate) async fn engine(
    name: &str,
    printers: &[(&str, String)],
    extra: &[(&str, &str)],
) -> TestEngine {
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
pub(crate) async fn print(
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
pub(crate) fn delivered(reply: &Value) -> &Value {
    assert_eq!(reply["MESSAGE_EXEC"], "SUCCESS", "{reply:#}");
    assert_eq!(reply["MESSAGE_DATA"]["STATE"], "DELIVERED", "{reply:#}");
    &reply["MESSAGE_DATA"]
}

/// Asserts a FAILURE with `code`.
pub(crate) fn failed_with(reply: &Value, code: &str) {
    assert_eq!(reply["MESSAGE_EXEC"], "FAILURE", "{reply:#}");
    assert_eq!(reply["MESSAGE_DATA"]["CODE"], code, "{reply:#}");
}

/// A `w`×`h` black-and-white pattern: black where `(x*7 + y*3) % 5 < 2`.
pub(crate) fn pattern_black(x: u32, y: u32) -> bool {
    (x * 7 + y * 3) % 5 < 2
}

/// [`pattern_black`] as a PNG.
pub(crate) fn pattern_png(w: u32, h: u32) -> Vec<u8> {
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
/// rectangle `(x, y, w, h)` (PDF coordinates, origin bottom-left).
pub(crate) fn pdf(width_pt: u32, height_pt: u32, pages: &[(u32, u32, u32, u32)]) -> Vec<u8> {
    pispas_testkit::pdf::boxes(width_pt, height_pt, pages)
}

/// Black dots in a row of a sim bitmap.
pub(crate) fn black_in_row(b: &pispas_sim::bitmap::Bitmap, y: usize) -> usize {
    (0..b.width).filter(|&x| b.bits[y * b.width + x]).count()
}

/// All the raster rows the printer received, top to bottom (bands joined), and their width.
pub(crate) fn rows(sim: &VirtualPrinter) -> (usize, Vec<Vec<bool>>) {
    let mut width = 0;
    let mut out = Vec::new();
    for img in sim.images() {
        width = img.width;
        for y in 0..img.height {
            out.push(img.bits[y * img.width..(y + 1) * img.width].to_vec());
        }
    }
    (width, out)
}

/// Black dots in a row.
pub(crate) fn black(row: &[bool]) -> usize {
    row.iter().filter(|b| **b).count()
}

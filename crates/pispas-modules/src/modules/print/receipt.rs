//! The RECEIPT format: a structured JSON document a POS can send without knowing ESC/POS, turned
//! into a [`Program`] for the printer's width.
//!
//! ```json
//! {"ITEMS": [
//!   {"TYPE": "TEXT", "TEXT": "BAR PEPE", "ALIGN": "CENTER", "BOLD": true, "SIZE": 2},
//!   {"TYPE": "COLUMNS", "COLUMNS": [{"TEXT": "2x Café"}, {"TEXT": "3,00 €", "ALIGN": "RIGHT", "WIDTH": 10}]},
//!   {"TYPE": "SEPARATOR"}, {"TYPE": "QR", "DATA": "https://…"}, {"TYPE": "CUT"}]}
//! ```
//! Keys and enum values are case-insensitive. docs/protocol.md documents every item. Layout is
//! in characters of font A (12 dots wide), so 576 dots hold 48 characters and 384 hold 32. Images
//! are decoded here but rasterised by `raster/`; this file does no I/O.

use super::program::{Align, CutMode, Hri, Op, Program, QrEcc, Style, Symbology};
use super::raster::{self, Dither};
use super::render::image::decode_image;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

/// Why a RECEIPT document was refused; the message points at the item.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReceiptError {
    #[error("RECEIPT DATA must be an object with ITEMS (or an array of items): {0}")]
    Shape(String),
    #[error("ITEMS[{index}]: {message}")]
    Item { index: usize, message: String },
    #[error("the RECEIPT has no items")]
    Empty,
}

/// Dots per character of font A.
const FONT_A_DOTS: u32 = 12;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
struct Document {
    items: Vec<Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE", default)]
struct TextItem {
    text: String,
    align: Align,
    bold: bool,
    underline: bool,
    invert: bool,
    size: Option<u8>,
    width: Option<u8>,
    height: Option<u8>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE", default)]
pub(super) struct Column {
    pub(super) text: String,
    pub(super) align: Align,
    /// Characters; columns without a width share what is left.
    pub(super) width: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE", default)]
struct ColumnsItem {
    columns: Vec<Column>,
    bold: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
struct BarcodeItem {
    symbology: Symbology,
    data: String,
    #[serde(default = "default_bar_height")]
    height: u8,
    #[serde(default = "default_bar_width")]
    width: u8,
    #[serde(default)]
    hri: Hri,
    #[serde(default = "center")]
    align: Align,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
struct QrItem {
    data: String,
    #[serde(default = "default_qr_size")]
    size: u8,
    #[serde(default)]
    ecc: QrEcc,
    #[serde(default = "center")]
    align: Align,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
struct ImageItem {
    data: String,
    #[serde(default = "center")]
    align: Align,
    /// Largest width in dots (default: the printer's).
    width: Option<u32>,
    dither: Option<String>,
}

fn default_bar_height() -> u8 {
    80
}
fn default_bar_width() -> u8 {
    3
}
fn default_qr_size() -> u8 {
    6
}
fn center() -> Align {
    Align::Center
}

/// Builds the program for a RECEIPT on a printer `width_dots` wide.
///
/// Fails when the document is not an object with items, an item is malformed (the message names
/// it), or there is nothing to print.
pub fn build(doc: &Value, width_dots: u32, dither: Dither) -> Result<Program, ReceiptError> {
    let doc = normalize(doc.clone());
    let items = match doc {
        Value::Array(items) => items,
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(v @ (Value::Object(_) | Value::Array(_))) => return build(&v, width_dots, dither),
            _ => return Err(ReceiptError::Shape("a string that is not JSON".into())),
        },
        other => {
            serde_json::from_value::<Document>(other)
                .map_err(|e| ReceiptError::Shape(e.to_string()))?
                .items
        }
    };
    if items.is_empty() {
        return Err(ReceiptError::Empty);
    }
    let line_chars = (width_dots / FONT_A_DOTS).max(8);
    let mut program = Program::new();
    for (index, item) in items.into_iter().enumerate() {
        let err = |message: String| ReceiptError::Item { index, message };
        let kind = item
            .get("TYPE")
            .and_then(Value::as_str)
            .ok_or_else(|| err("TYPE is missing".into()))?
            .to_string();
        let parse = |e: serde_json::Error| err(format!("{kind}: {e}"));
        match kind.as_str() {
            "TEXT" => {
                let t: TextItem = serde_json::from_value(item).map_err(parse)?;
                let size = t.size.unwrap_or(1);
                program.push(Op::Text {
                    text: t.text,
                    style: Style {
                        align: t.align,
                        bold: t.bold,
                        underline: t.underline,
                        invert: t.invert,
                        width: t.width.unwrap_or(size).clamp(1, 8),
                        height: t.height.unwrap_or(size).clamp(1, 8),
                    },
                });
            }
            "COLUMNS" | "ROW" => {
                let c: ColumnsItem = serde_json::from_value(item).map_err(parse)?;
                if c.columns.is_empty() {
                    return Err(err("COLUMNS is empty".into()));
                }
                program.push(Op::Text {
                    text: layout::columns(&c.columns, line_chars).map_err(err)?,
                    style: Style {
                        bold: c.bold,
                        ..Style::default()
                    },
                });
            }
            "SEPARATOR" | "LINE" | "HR" => {
                let ch = item
                    .get("CHAR")
                    .and_then(Value::as_str)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('-');
                program.push(Op::Text {
                    text: std::iter::repeat_n(ch, line_chars as usize).collect(),
                    style: Style::default(),
                });
            }
            "FEED" => {
                let lines = item.get("LINES").and_then(Value::as_u64).unwrap_or(1);
                program.push(Op::Feed(lines.min(255) as u8));
            }
            "BARCODE" => {
                let b: BarcodeItem = serde_json::from_value(item).map_err(parse)?;
                check_barcode(b.symbology, &b.data).map_err(err)?;
                program.push(Op::Barcode {
                    symbology: b.symbology,
                    data: b.data,
                    height: b.height,
                    width: b.width,
                    hri: b.hri,
                    align: b.align,
                });
            }
            "QR" => {
                let q: QrItem = serde_json::from_value(item).map_err(parse)?;
                if q.data.is_empty() || q.data.len() > super::escpos::commands::QR_MAX {
                    return Err(err(format!(
                        "QR DATA must be 1–{} bytes",
                        super::escpos::commands::QR_MAX
                    )));
                }
                program.push(Op::Qr {
                    data: q.data,
                    size: q.size.clamp(1, 16),
                    ecc: q.ecc,
                    align: q.align,
                });
            }
            "IMAGE" => {
                let i: ImageItem = serde_json::from_value(item).map_err(parse)?;
                program.push(Op::Raster(image_op(&i, width_dots, dither).map_err(err)?));
            }
            "CUT" => {
                let mode = item
                    .get("MODE")
                    .and_then(Value::as_str)
                    .and_then(CutMode::parse)
                    .unwrap_or_default();
                program.push(Op::Cut(mode));
            }
            "DRAWER" => {
                let pin = item.get("PIN").and_then(Value::as_u64).unwrap_or(2);
                if pin != 2 && pin != 5 {
                    return Err(err("DRAWER PIN must be 2 or 5".into()));
                }
                program.push(Op::Drawer { pin: pin as u8 });
            }
            other => {
                return Err(err(format!(
                    "unknown TYPE {other:?} (TEXT, COLUMNS, SEPARATOR, FEED, BARCODE, QR, IMAGE, CUT, DRAWER)"
                )))
            }
        }
    }
    Ok(program)
}

fn image_op(
    item: &ImageItem,
    width_dots: u32,
    default_dither: Dither,
) -> Result<super::raster::Bitmap, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(item.data.trim())
        .map_err(|e| format!("IMAGE DATA is not base64: {e}"))?;
    let gray = decode_image(&bytes).map_err(|e| e.to_string())?;
    let max = item.width.unwrap_or(width_dots).clamp(1, width_dots);
    let fitted = if gray.width > max {
        let h = ((gray.height as u64 * max as u64) / gray.width as u64).max(1) as u32;
        raster::scale::resize(&gray, max, h)
    } else {
        gray
    };
    let mut canvas = raster::GrayImage::white(width_dots, fitted.height);
    let x = match item.align {
        Align::Left => 0,
        Align::Center => (width_dots - fitted.width) / 2,
        Align::Right => width_dots - fitted.width,
    };
    canvas.paste(&fitted, x, 0);
    let dither = match &item.dither {
        Some(d) => Dither::parse(d).ok_or_else(|| format!("unknown DITHER {d:?}"))?,
        None => default_dither,
    };
    Ok(raster::dither::dither(&canvas, dither))
}

/// Checks the data a barcode symbology accepts, so the printer does not silently print nothing.
fn check_barcode(sym: Symbology, data: &str) -> Result<(), String> {
    let digits = data.bytes().all(|b| b.is_ascii_digit());
    let ok = match sym {
        Symbology::Ean13 => digits && (12..=13).contains(&data.len()),
        Symbology::Ean8 => digits && (7..=8).contains(&data.len()),
        Symbology::UpcA => digits && (11..=12).contains(&data.len()),
        Symbology::UpcE => digits && (6..=12).contains(&data.len()),
        Symbology::Itf => digits && data.len() >= 2 && data.len() % 2 == 0,
        _ => !data.is_empty() && data.len() <= 253 && data.is_ascii(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{data:?} is not valid {sym:?} data"))
    }
}

/// Upper-cases every key, and the values of enum-like keys, so `{"type":"qr","align":"center"}`
/// reads like `{"TYPE":"QR","ALIGN":"CENTER"}`.
fn normalize(v: Value) -> Value {
    const ENUM_KEYS: &[&str] = &["TYPE", "ALIGN", "SYMBOLOGY", "HRI", "ECC", "MODE"];
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let k = k.to_ascii_uppercase();
                    let v = match v {
                        Value::String(s) if ENUM_KEYS.contains(&k.as_str()) => {
                            Value::String(s.trim().to_ascii_uppercase().replace('-', "_"))
                        }
                        other => normalize(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

mod layout;
#[cfg(test)]
mod tests;

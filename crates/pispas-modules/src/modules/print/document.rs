//! What a PRINT request carries (FORMAT, DATA, OPTIONS), checked at the door, and how the worker
//! turns a stored job into the [`Program`] for its printer.
//!
//! Cheap checks (base64, emptiness, size, magic bytes, RECEIPT structure) happen before a job is
//! accepted so the POS gets BAD_DATA at once; rendering (browser, pdfium) happens in the worker.

use super::error::PrintError;
use super::printer::{parse_bool, PrinterConfig};
use super::program::{CutMode, Op, Program, Style};
use super::raster::{self, scale::Fit, Dither};
use super::receipt;
use super::render::{image::decode_image, Renderer};
use super::test_page;
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// What a job prints: a document in one of the POS's formats, or one of the service's own
/// commands (OPEN_DRAWER, CUT, TEST_PAGE), which carry no document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Raw,
    Text,
    Receipt,
    Html,
    Pdf,
    Image,
    /// Kick the drawer on connector pin 2 or 5.
    Drawer {
        pin: u8,
    },
    /// Feed a line and cut.
    Cut(CutMode),
    /// The test page of the printer it goes to.
    TestPage,
}

impl Format {
    /// A PRINT request's FORMAT (the document formats only; aliases accepted).
    pub fn from_wire(s: &str) -> Option<Format> {
        match s.trim().to_ascii_uppercase().as_str() {
            "RAW" | "ESCPOS" => Some(Format::Raw),
            "TEXT" | "TXT" => Some(Format::Text),
            "RECEIPT" | "JSON" => Some(Format::Receipt),
            "HTML" => Some(Format::Html),
            "PDF" => Some(Format::Pdf),
            "IMAGE" | "PNG" | "JPEG" | "JPG" => Some(Format::Image),
            _ => None,
        }
    }

    /// The name clients see in a job's FORMAT.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "RAW",
            Format::Text => "TEXT",
            Format::Receipt => "RECEIPT",
            Format::Html => "HTML",
            Format::Pdf => "PDF",
            Format::Image => "IMAGE",
            Format::Drawer { .. } => "DRAWER",
            Format::Cut(_) => "CUT",
            Format::TestPage => "TEST_PAGE",
        }
    }

    /// As stored with the job: the name, and a command's argument (`DRAWER:2`, `CUT:FULL`).
    pub fn to_stored(self) -> String {
        match self {
            Format::Drawer { pin } => format!("DRAWER:{pin}"),
            Format::Cut(mode) => format!("CUT:{}", cut_name(mode)),
            other => other.name().to_string(),
        }
    }

    /// Reads [`Format::to_stored`]'s text; `None` when it is not one (a damaged row).
    pub fn from_stored(s: &str) -> Option<Format> {
        match s.split_once(':') {
            Some(("DRAWER", pin)) => match pin.parse() {
                Ok(pin @ (2 | 5)) => Some(Format::Drawer { pin }),
                _ => None,
            },
            Some(("CUT", mode)) => CutMode::parse(mode).map(Format::Cut),
            Some(_) => None,
            None if s == "TEST_PAGE" => Some(Format::TestPage),
            // Rows from before commands had formats of their own carried a RECEIPT document.
            None if s == "COMMAND" => Some(Format::Receipt),
            None => Format::from_wire(s).filter(|f| f.name() == s),
        }
    }

    /// One of the service's commands, which bring no document of their own.
    pub fn is_command(self) -> bool {
        matches!(
            self,
            Format::Drawer { .. } | Format::Cut(_) | Format::TestPage
        )
    }
}

fn cut_name(mode: CutMode) -> &'static str {
    match mode {
        CutMode::Full => "FULL",
        CutMode::Partial => "PARTIAL",
        CutMode::None => "NONE",
    }
}

/// OPTIONS of a PRINT, with defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub copies: u32,
    /// `None`: the printer's default (and none for RAW).
    pub cut: Option<CutMode>,
    /// Kick the drawer after printing (pin).
    pub open_drawer: Option<u8>,
    pub dither: Dither,
    /// Dots, overriding the printer's width.
    pub width: Option<u32>,
    /// HTML layout width in CSS pixels (default: one per dot).
    pub css_width: Option<u32>,
    pub fit: Fit,
    /// Keep the job queued while the printer is offline or out of paper (default), or fail at once.
    pub queue: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            copies: 1,
            cut: None,
            open_drawer: None,
            dither: Dither::default(),
            width: None,
            css_width: None,
            fit: Fit::default(),
            queue: true,
        }
    }
}

impl Options {
    /// Reads OPTIONS (keys case-insensitive).
    ///
    /// Fails with BAD_PARAMS-style text naming the option.
    pub fn parse(v: Option<&Value>) -> Result<Options, String> {
        let mut o = Options::default();
        let Some(v) = v else { return Ok(o) };
        let map = match v {
            Value::Null => return Ok(o),
            Value::Object(m) => m,
            _ => return Err("OPTIONS must be an object".into()),
        };
        for (k, v) in map {
            let key = k.to_ascii_uppercase();
            let num = |max: u64| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .filter(|n| *n >= 1 && *n <= max)
            };
            let flag = || v.as_bool().or_else(|| v.as_str().and_then(parse_bool));
            match key.as_str() {
                "COPIES" => o.copies = num(20).ok_or("OPTIONS.COPIES must be 1–20")? as u32,
                "CUT" => {
                    o.cut = Some(match v {
                        Value::Bool(true) => CutMode::Partial,
                        Value::Bool(false) => CutMode::None,
                        Value::String(s) => CutMode::parse(s).ok_or("OPTIONS.CUT must be true, false, FULL, PARTIAL or NONE")?,
                        _ => return Err("OPTIONS.CUT must be true, false, FULL, PARTIAL or NONE".into()),
                    })
                }
                "OPEN_DRAWER" | "DRAWER" => {
                    o.open_drawer = match v {
                        Value::Bool(true) => Some(0),
                        Value::Bool(false) | Value::Null => None,
                        _ => match num(5) {
                            Some(p @ (2 | 5)) => Some(p as u8),
                            _ => return Err("OPTIONS.OPEN_DRAWER must be true, false, 2 or 5".into()),
                        },
                    }
                }
                "DITHER" => o.dither = v.as_str().and_then(Dither::parse).ok_or("OPTIONS.DITHER must be FLOYD_STEINBERG, ATKINSON or THRESHOLD")?,
                "WIDTH" => o.width = Some(num(2048).filter(|w| *w >= 8).ok_or("OPTIONS.WIDTH must be 8–2048 dots")? as u32),
                "CSS_WIDTH" => o.css_width = Some(num(4096).ok_or("OPTIONS.CSS_WIDTH must be 1–4096 CSS pixels")? as u32),
                "FIT" => o.fit = v.as_str().and_then(Fit::parse).ok_or("OPTIONS.FIT must be WIDTH, SHRINK or NONE")?,
                "QUEUE" => o.queue = flag().ok_or("OPTIONS.QUEUE must be true or false")?,
                other => return Err(format!("unknown option {other:?} (COPIES, CUT, OPEN_DRAWER, DITHER, WIDTH, CSS_WIDTH, FIT, QUEUE)")),
            }
        }
        Ok(o)
    }

    /// As stored with the job.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("COPIES".into(), json!(self.copies));
        if let Some(c) = self.cut {
            m.insert("CUT".into(), json!(c));
        }
        if let Some(p) = self.open_drawer {
            // 0 means "the printer's pin", which the POS wrote as `true`.
            m.insert(
                "OPEN_DRAWER".into(),
                if p == 0 { json!(true) } else { json!(p) },
            );
        }
        m.insert("DITHER".into(), json!(self.dither.name()));
        if let Some(w) = self.width {
            m.insert("WIDTH".into(), json!(w));
        }
        if let Some(w) = self.css_width {
            m.insert("CSS_WIDTH".into(), json!(w));
        }
        m.insert(
            "FIT".into(),
            json!(match self.fit {
                Fit::Width => "WIDTH",
                Fit::Shrink => "SHRINK",
                Fit::None => "NONE",
            }),
        );
        m.insert("QUEUE".into(), json!(self.queue));
        Value::Object(m)
    }
}

/// Decodes and checks DATA for `format`; returns the bytes to store.
///
/// Fails with BAD_DATA (bad base64, empty, wrong kind of file, malformed RECEIPT) or
/// DATA_TOO_LARGE.
pub fn accept(format: Format, data: Option<&Value>, max: usize) -> Result<Vec<u8>, PrintError> {
    let data = data.ok_or_else(|| PrintError::BadData("DATA is missing".into()))?;
    let text = |what: &str| match data {
        Value::String(s) => Ok(s.as_str()),
        _ => Err(PrintError::BadData(format!("DATA must be {what}"))),
    };
    let bytes = match format {
        Format::Raw | Format::Pdf | Format::Image => {
            let b64 = text("a base64 string")?;
            if b64.len() / 4 * 3 > max + 3 {
                return Err(PrintError::TooLarge {
                    size: b64.len() / 4 * 3,
                    max,
                });
            }
            let clean: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            let clean = clean
                .split_once("base64,")
                .map(|(_, b)| b.to_string())
                .unwrap_or(clean);
            base64::engine::general_purpose::STANDARD
                .decode(clean.as_bytes())
                .map_err(|e| PrintError::BadData(format!("DATA is not valid base64: {e}")))?
        }
        // A full card number never reaches the table (nor the paper): masked to its last four.
        Format::Text | Format::Html => {
            let t = text("a string")?;
            crate::pan::mask_card_numbers(t)
                .map_or_else(|| t.as_bytes().to_vec(), String::into_bytes)
        }
        Format::Receipt => {
            let doc = match data {
                Value::String(s) => serde_json::from_str(s)
                    .map_err(|e| PrintError::BadData(format!("RECEIPT DATA is not JSON: {e}")))?,
                other => other.clone(),
            };
            receipt::build(&doc, 576, Dither::default())?;
            let text = doc.to_string();
            crate::pan::mask_card_numbers(&text)
                .unwrap_or(text)
                .into_bytes()
        }
        Format::Drawer { .. } | Format::Cut(_) | Format::TestPage => {
            return Err(PrintError::BadData(format!(
                "FORMAT {} is not a document",
                format.name()
            )))
        }
    };
    if bytes.is_empty()
        || (matches!(format, Format::Text | Format::Html)
            && bytes.iter().all(u8::is_ascii_whitespace))
    {
        return Err(PrintError::BadData(format!(
            "the {} document is empty",
            format.name()
        )));
    }
    if bytes.len() > max {
        return Err(PrintError::TooLarge {
            size: bytes.len(),
            max,
        });
    }
    match format {
        Format::Pdf
            if !bytes[..bytes.len().min(1024)]
                .windows(5)
                .any(|w| w == b"%PDF-") =>
        {
            Err(PrintError::BadData(
                "DATA is not a PDF (no %PDF- header)".into(),
            ))
        }
        Format::Image if !(bytes.starts_with(b"\x89PNG") || bytes.starts_with(&[0xFF, 0xD8])) => {
            Err(PrintError::BadData(
                "DATA is not a PNG or JPEG image".into(),
            ))
        }
        _ => Ok(bytes),
    }
}

/// Builds the program for a stored job on `printer`: render, then cut and drawer per options.
///
/// Fails when rendering fails (RENDER_FAILED) or the stored document is unreadable.
pub async fn build_program(
    format: Format,
    data: &[u8],
    options: &Options,
    printer: &PrinterConfig,
    renderer: &Renderer,
) -> Result<Program, PrintError> {
    let width = options.width.unwrap_or(printer.width);
    let utf8 = || {
        String::from_utf8(data.to_vec())
            .map_err(|_| PrintError::BadData("stored text is not UTF-8".into()))
    };
    let mut program = match format {
        Format::Raw => Program::raw(data.to_vec()),
        Format::Text => {
            let mut p = Program::new();
            p.push(Op::Text {
                text: utf8()?,
                style: Style::default(),
            });
            p
        }
        Format::Receipt => {
            let doc: Value = serde_json::from_slice(data)
                .map_err(|e| PrintError::BadData(format!("stored RECEIPT: {e}")))?;
            receipt::build(&doc, width, options.dither)?
        }
        Format::Drawer { pin } => {
            let mut p = Program::new();
            p.push(Op::Drawer { pin });
            p
        }
        Format::Cut(mode) => {
            let mut p = Program::new();
            p.push(Op::Feed(1));
            p.push(Op::Cut(mode));
            p
        }
        Format::TestPage => receipt::build(&test_page::document(printer), width, options.dither)?,
        Format::Html => {
            let css = options.css_width.unwrap_or(width);
            let gray = renderer.raster_html(&utf8()?, width, css).await?;
            raster_program(vec![gray], width, options)
        }
        Format::Pdf => {
            let mut pages = renderer.raster_pdf(data.to_vec(), width).await?;
            pages.iter_mut().for_each(|p| p.trim_bottom());
            raster_program(pages, width, options)
        }
        Format::Image => {
            let bytes = data.to_vec();
            let gray = tokio::task::spawn_blocking(move || decode_image(&bytes))
                .await
                .map_err(|e| PrintError::BadData(e.to_string()))??;
            raster_program(
                vec![raster::scale::fit_to_width(&gray, width, options.fit)],
                width,
                options,
            )
        }
    };
    let cut = options
        .cut
        .unwrap_or(if format == Format::Raw || format.is_command() {
            CutMode::None
        } else {
            printer.cut
        });
    if cut != CutMode::None && !program.ends_with_cut() {
        program.push(Op::Cut(cut));
    }
    if let Some(pin) = options.open_drawer {
        program.push(Op::Drawer {
            pin: if pin == 0 { printer.drawer_pin } else { pin },
        });
    }
    Ok(program.repeated(options.copies))
}

fn raster_program(pages: Vec<raster::GrayImage>, width: u32, options: &Options) -> Program {
    let mut p = Program::new();
    for page in pages {
        let fitted = raster::scale::fit_to_width(&page, width, Fit::Width);
        p.push(Op::Raster(raster::dither::dither(&fitted, options.dither)));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_number_in_a_text_html_or_receipt_document_is_stored_masked() {
        let pan = "4111 1111 1111 1111";
        for (format, data) in [
            (Format::Text, json!(format!("Card {pan}"))),
            (Format::Html, json!(format!("<p>Card {pan}</p>"))),
            (
                Format::Receipt,
                json!([{ "TYPE": "TEXT", "TEXT": format!("Card {pan}") }]),
            ),
        ] {
            let stored = String::from_utf8(accept(format, Some(&data), 1 << 20).unwrap()).unwrap();
            assert!(
                !stored.contains(pan) && stored.contains("**** **** **** 1111"),
                "{stored}"
            );
        }
    }

    #[test]
    fn every_format_reads_back_from_what_is_stored() {
        let all = [
            Format::Raw,
            Format::Text,
            Format::Receipt,
            Format::Html,
            Format::Pdf,
            Format::Image,
            Format::Drawer { pin: 5 },
            Format::Cut(CutMode::Full),
            Format::TestPage,
        ];
        for f in all {
            assert_eq!(Format::from_stored(&f.to_stored()), Some(f), "{f:?}");
        }
        assert_eq!(Format::from_stored("DRAWER:3"), None);
        assert_eq!(
            Format::from_stored("png"),
            None,
            "aliases are for the wire only"
        );
    }

    #[test]
    fn commands_are_not_formats_a_pos_can_send() {
        assert_eq!(Format::from_wire("DRAWER"), None);
        assert_eq!(Format::from_wire("test_page"), None);
        assert_eq!(Format::from_wire("jpg"), Some(Format::Image));
    }

    #[test]
    fn bad_base64_empty_and_wrong_files_are_bad_data() {
        let bad = |f, d: Value| accept(f, Some(&d), 1 << 20).unwrap_err().code().as_str();
        assert_eq!(bad(Format::Raw, json!("!!not base64!!")), "BAD_DATA");
        assert_eq!(bad(Format::Raw, json!("")), "BAD_DATA");
        assert_eq!(bad(Format::Text, json!("   \n")), "BAD_DATA");
        assert_eq!(bad(Format::Pdf, json!("aGVsbG8=")), "BAD_DATA");
        assert_eq!(bad(Format::Image, json!("aGVsbG8=")), "BAD_DATA");
        assert_eq!(bad(Format::Receipt, json!({"ITEMS": []})), "BAD_DATA");
        assert_eq!(bad(Format::Html, json!(42)), "BAD_DATA");
        assert!(accept(Format::Raw, None, 10).is_err());
    }

    #[test]
    fn oversized_data_is_refused_before_decoding() {
        let big = "A".repeat(4 * 1024);
        assert_eq!(
            accept(Format::Raw, Some(&json!(big)), 1024)
                .unwrap_err()
                .code()
                .as_str(),
            "DATA_TOO_LARGE"
        );
    }

    #[test]
    fn data_urls_and_whitespace_in_base64_are_accepted() {
        let out = accept(
            Format::Raw,
            Some(&json!("data:application/octet-stream;base64,G0Ah\nCg==")),
            100,
        )
        .unwrap();
        assert_eq!(out, [0x1B, 0x40, 0x21, 0x0A]);
    }

    #[test]
    fn options_are_read_case_insensitively_and_checked() {
        let o = Options::parse(Some(&json!({"copies": 2, "cut": "full", "open_drawer": true, "dither": "atkinson", "queue": false}))).unwrap();
        assert_eq!(
            (o.copies, o.cut, o.open_drawer, o.dither, o.queue),
            (2, Some(CutMode::Full), Some(0), Dither::Atkinson, false)
        );
        assert!(Options::parse(Some(&json!({"COPIES": 0}))).is_err());
        for o in [
            o,
            Options {
                open_drawer: Some(5),
                css_width: Some(302),
                width: Some(384),
                fit: Fit::Width,
                ..Options::default()
            },
            Options::default(),
        ] {
            assert_eq!(
                Options::parse(Some(&o.to_json())).unwrap(),
                o,
                "stored options read back the same"
            );
        }
        assert!(Options::parse(Some(&json!({"COLOR": "red"}))).is_err());
    }
}

//! Applies parsed ESC/POS commands to a printer's mode state (style, code page, barcode and QR
//! settings) and turns them into document elements. Real-time commands (`DLE EOT`, `GS a`)
//! produce no element: the session answers them. It does no I/O.

use super::codepage;
use super::command::Command;
use crate::bitmap::Bitmap;
use crate::document::{
    Align, Barcode, Cut, CutKind, DrawerKick, Element, Image, ImageSource, QrCode, Style,
    StyleChange,
};

/// The printer's mode state, as `ESC @` leaves it.
#[derive(Debug, Clone)]
pub struct Interpreter {
    style: Style,
    code_page: u8,
    barcode_height: u8,
    barcode_width: u8,
    barcode_hri: u8,
    qr_model: u8,
    qr_size: u8,
    qr_ecc: char,
    qr_data: Option<Vec<u8>>,
}

impl Default for Interpreter {
    fn default() -> Self {
        // Epson power-on defaults: PC437, barcode 162 dots high, module 3, no HRI; QR model 2,
        // module 3, ECC L.
        Interpreter {
            style: Style::default(),
            code_page: 0,
            barcode_height: 162,
            barcode_width: 3,
            barcode_hri: 0,
            qr_model: 2,
            qr_size: 3,
            qr_ecc: 'L',
            qr_data: None,
        }
    }
}

fn malformed(bytes: Vec<u8>, reason: &str) -> Element {
    Element::Malformed {
        bytes,
        reason: reason.to_string(),
    }
}

impl Interpreter {
    pub fn code_page(&self) -> u8 {
        self.code_page
    }

    pub fn style(&self) -> Style {
        self.style
    }

    /// Applies one command; what it printed (if anything) is returned.
    pub fn apply(&mut self, command: Command) -> Option<Element> {
        let style_change = |change: StyleChange| Some(Element::Style(change));
        match command {
            Command::Text(bytes) => {
                let text = bytes
                    .iter()
                    .map(|b| codepage::decode(self.code_page, *b))
                    .collect();
                Some(Element::Text {
                    text,
                    style: self.style,
                })
            }
            Command::Ht => Some(Element::Text {
                text: "\t".into(),
                style: self.style,
            }),
            Command::Lf => Some(Element::LineFeed),
            Command::Cr | Command::StatusRequest(_) | Command::AutoStatus(_) => None,
            Command::Init => {
                let qr_data = self.qr_data.take();
                *self = Interpreter {
                    qr_data,
                    ..Interpreter::default()
                };
                Some(Element::Init)
            }
            Command::Mode(n) => {
                self.style.font = n & 1;
                self.style.bold = n & 0x08 != 0;
                self.style.height = if n & 0x10 != 0 { 2 } else { 1 };
                self.style.width = if n & 0x20 != 0 { 2 } else { 1 };
                self.style.underline = u8::from(n & 0x80 != 0);
                style_change(StyleChange::Mode(n))
            }
            Command::Bold(n) => {
                self.style.bold = n & 1 != 0;
                style_change(StyleChange::Bold(self.style.bold))
            }
            Command::Underline(n) => match n {
                0..=2 | 48..=50 => {
                    self.style.underline = n % 48;
                    style_change(StyleChange::Underline(self.style.underline))
                }
                _ => Some(malformed(vec![0x1B, b'-', n], "ESC - with n not 0-2/48-50")),
            },
            Command::DoubleStrike(n) => {
                self.style.double_strike = n & 1 != 0;
                style_change(StyleChange::DoubleStrike(self.style.double_strike))
            }
            Command::Font(n) => {
                self.style.font = n % 48;
                style_change(StyleChange::Font(self.style.font))
            }
            Command::UpsideDown(n) => {
                self.style.upside_down = n & 1 != 0;
                style_change(StyleChange::UpsideDown(self.style.upside_down))
            }
            Command::Reverse(n) => {
                self.style.reverse = n & 1 != 0;
                style_change(StyleChange::Reverse(self.style.reverse))
            }
            Command::Align(n) => {
                self.style.align = match n {
                    0 | 48 => Align::Left,
                    1 | 49 => Align::Center,
                    2 | 50 => Align::Right,
                    _ => return Some(malformed(vec![0x1B, b'a', n], "ESC a with n not 0-2/48-50")),
                };
                style_change(StyleChange::Align(self.style.align))
            }
            Command::Size(n) => {
                self.style.width = (n >> 4 & 0x07) + 1;
                self.style.height = (n & 0x07) + 1;
                style_change(StyleChange::Size {
                    width: self.style.width,
                    height: self.style.height,
                })
            }
            Command::CodePage(n) => {
                self.code_page = n;
                Some(Element::CodePage {
                    n,
                    known: codepage::table(n).is_some(),
                })
            }
            Command::InternationalSet(n) => style_change(StyleChange::InternationalSet(n)),
            Command::FeedLines(n) => Some(Element::FeedLines(n)),
            Command::FeedUnits(n) => Some(Element::FeedUnits(u16::from(n))),
            Command::DrawerKick { m, t1, t2 } => Some(match m {
                0 | 48 => Element::DrawerKick(DrawerKick { m, pin: 2, t1, t2 }),
                1 | 49 => Element::DrawerKick(DrawerKick { m, pin: 5, t1, t2 }),
                _ => malformed(vec![0x1B, b'p', m, t1, t2], "ESC p with m not 0/1/48/49"),
            }),
            Command::RealtimePulse { m, t } => Some(match (m, t) {
                (0 | 1, 1..=8) => Element::DrawerKick(DrawerKick {
                    m,
                    pin: if m == 0 { 2 } else { 5 },
                    t1: t * 50,
                    t2: t * 50,
                }),
                _ => malformed(
                    vec![0x10, 0x14, 1, m, t],
                    "DLE DC4 1 with m not 0/1 or t not 1-8",
                ),
            }),
            Command::Cut { m, n, bytes } => {
                let kind = match m {
                    0 | 48 | 65 | 97 | 103 => CutKind::Full,
                    _ => CutKind::Partial,
                };
                Some(Element::Cut(Cut {
                    kind,
                    feed: n,
                    command: bytes,
                }))
            }
            Command::BitImage { m, columns, data } => {
                let per_column = if m >= 32 { 3 } else { 1 };
                Some(Element::Image(Image {
                    bitmap: Bitmap::from_columns(columns, per_column, &data),
                    mode: m,
                    align: self.style.align,
                    bands: 1,
                    source: ImageSource::BitImage,
                }))
            }
            Command::Raster {
                m,
                row_bytes,
                height,
                data,
            } => Some(Element::Image(Image {
                bitmap: Bitmap::from_raster(row_bytes * 8, row_bytes, height, &data),
                mode: m,
                align: self.style.align,
                bands: 1,
                source: ImageSource::Raster,
            })),
            Command::Symbol { cn, fn_, params } => self.symbol(cn, fn_, params),
            Command::Barcode { m, data } => Some(Element::Barcode(Barcode {
                symbology: symbology(m).to_string(),
                data,
                height: self.barcode_height,
                width: self.barcode_width,
                hri: self.barcode_hri,
            })),
            Command::BarcodeHeight(n) => {
                self.barcode_height = n;
                style_change(StyleChange::Layout("GS h".into(), vec![n]))
            }
            Command::BarcodeWidth(n) => {
                self.barcode_width = n;
                style_change(StyleChange::Layout("GS w".into(), vec![n]))
            }
            Command::BarcodeHri(n) => {
                self.barcode_hri = (n % 48) & 0x03;
                style_change(StyleChange::Layout("GS H".into(), vec![n]))
            }
            Command::Setting { name, bytes } => {
                style_change(StyleChange::Layout(name.into(), bytes))
            }
            Command::Unknown(bytes) => Some(Element::Unknown { bytes }),
            Command::Malformed { bytes, reason } => Some(Element::Malformed { bytes, reason }),
        }
    }

    /// `GS ( k`: QR (cn 49) settings, store and print; other symbols are recorded as unknown.
    fn symbol(&mut self, cn: u8, fn_: u8, params: Vec<u8>) -> Option<Element> {
        let raw = || {
            let len = params.len() + 2;
            let mut bytes = vec![
                0x1D,
                b'(',
                b'k',
                (len & 0xFF) as u8,
                (len >> 8) as u8,
                cn,
                fn_,
            ];
            bytes.extend_from_slice(&params);
            bytes
        };
        if cn != 49 {
            return Some(Element::Unknown { bytes: raw() });
        }
        match (fn_, params.as_slice()) {
            (65, [n1, _n2]) if (49..=51).contains(n1) => self.qr_model = n1 - 48,
            (67, [n]) if (1..=16).contains(n) => self.qr_size = *n,
            (69, [n]) if (48..=51).contains(n) => {
                self.qr_ecc = ['L', 'M', 'Q', 'H'][usize::from(n - 48)];
            }
            (80, [48, data @ ..]) => self.qr_data = Some(data.to_vec()),
            (81, [48]) => {
                return Some(match &self.qr_data {
                    Some(data) => Element::Qr(QrCode {
                        data: data.clone(),
                        model: self.qr_model,
                        module_size: self.qr_size,
                        ecc: self.qr_ecc,
                    }),
                    None => malformed(raw(), "QR print (fn 81) with no data stored (fn 80)"),
                });
            }
            (65 | 67 | 69 | 80 | 81, _) => {
                return Some(malformed(raw(), "QR function with parameters out of range"))
            }
            _ => return Some(Element::Unknown { bytes: raw() }),
        }
        Some(Element::Style(StyleChange::Layout(
            format!("GS ( k fn {fn_}"),
            params,
        )))
    }
}

/// Names for `GS k` m (type A 0–6 and type B 65–79).
pub fn symbology(m: u8) -> &'static str {
    match m {
        0 | 65 => "UPC-A",
        1 | 66 => "UPC-E",
        2 | 67 => "EAN13",
        3 | 68 => "EAN8",
        4 | 69 => "CODE39",
        5 | 70 => "ITF",
        6 | 71 => "CODABAR",
        72 => "CODE93",
        73 => "CODE128",
        74 => "GS1-128",
        75 => "GS1-DATABAR-OMNI",
        76 => "GS1-DATABAR-TRUNCATED",
        77 => "GS1-DATABAR-LIMITED",
        78 => "GS1-DATABAR-EXPANDED",
        79 => "CODE128-AUTO",
        _ => "UNKNOWN",
    }
}

//! What a virtual printer "printed": an ordered list of elements (text runs with their style,
//! line feeds, cuts, drawer kicks, images, QR codes, barcodes, unknown and malformed commands).
//!
//! Both the ESC/POS interpreter and the ePOS-Print XML reader produce this model, so tests
//! check one shape whatever the transport. It does not parse anything itself.

use crate::bitmap::Bitmap;

/// Horizontal justification (`ESC a n`, ePOS `align`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// The character style in force when a text run was printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub bold: bool,
    /// 0 none, 1 one dot, 2 two dots (`ESC - n`).
    pub underline: u8,
    pub double_strike: bool,
    pub reverse: bool,
    pub upside_down: bool,
    /// 0 font A, 1 font B, …
    pub font: u8,
    /// Character magnification 1..=8 (`GS ! n` or `ESC !` double width/height).
    pub width: u8,
    pub height: u8,
    pub align: Align,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            bold: false,
            underline: 0,
            double_strike: false,
            reverse: false,
            upside_down: false,
            font: 0,
            width: 1,
            height: 1,
            align: Align::Left,
        }
    }
}

/// Full or partial cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutKind {
    Full,
    Partial,
}

/// One cut. `feed` is the `n` of `GS V 65/66 n` (feed n motion units, then cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub kind: CutKind,
    pub feed: Option<u8>,
    /// The command as received, e.g. `[0x1D, 0x56, 0x42, 0x03]`, or `<cut type="feed"/>` bytes.
    pub command: Vec<u8>,
}

/// One drawer kick `ESC p m t1 t2`: pulse on pin 2 (m = 0/48) or pin 5 (m = 1/49),
/// ON for t1×2 ms and OFF for t2×2 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrawerKick {
    pub m: u8,
    /// 2 (drawer 1) or 5 (drawer 2).
    pub pin: u8,
    pub t1: u8,
    pub t2: u8,
}

impl DrawerKick {
    pub fn on_ms(&self) -> u32 {
        u32::from(self.t1) * 2
    }
    pub fn off_ms(&self) -> u32 {
        u32::from(self.t2) * 2
    }
}

/// A raster image as printed. Consecutive `GS v 0` bands of the same width and mode are one
/// image, stacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub bitmap: Bitmap,
    /// `GS v 0` m: 0 normal, 1 double width, 2 double height, 3 quadruple (the bitmap is NOT
    /// scaled: it holds the dots as sent).
    pub mode: u8,
    pub align: Align,
    /// Number of bands it was sent in.
    pub bands: usize,
    pub source: ImageSource,
}

/// Which command (or ePOS element) drew an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSource {
    /// `GS v 0` raster bands.
    Raster,
    /// `ESC *` bit image (column format).
    BitImage,
    /// ePOS-Print `<image>`.
    Epos,
}

/// A printed QR code (`GS ( k` fn 81 printing what fn 80 stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    pub data: Vec<u8>,
    /// 1 or 2 (fn 65 n1 = 49/50), or 3 for Micro QR (51).
    pub model: u8,
    /// Module size in dots (fn 67).
    pub module_size: u8,
    /// 'L', 'M', 'Q' or 'H' (fn 69).
    pub ecc: char,
}

/// A printed 1-D barcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    /// "UPC-A", "EAN13", "CODE39", "CODE128", … (see README).
    pub symbology: String,
    /// The data as sent (for CODE128 including the `{B` style code-set prefix).
    pub data: Vec<u8>,
    /// Height in dots (`GS h`), module width (`GS w`), HRI position 0 none 1 above 2 below 3 both.
    pub height: u8,
    pub width: u8,
    pub hri: u8,
}

/// A style command as received, kept so tests can check what was sent even when it changed
/// nothing visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StyleChange {
    Bold(bool),
    Underline(u8),
    DoubleStrike(bool),
    Reverse(bool),
    UpsideDown(bool),
    Font(u8),
    Align(Align),
    /// `GS ! n`: width and height magnification.
    Size {
        width: u8,
        height: u8,
    },
    /// `ESC ! n`: the raw mode byte.
    Mode(u8),
    /// `ESC R n`: international character set (recorded, not applied: see README).
    InternationalSet(u8),
    /// Any other layout setting (line spacing, margins, …), by command name.
    Layout(String, Vec<u8>),
}

/// One thing the printer did.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    Text {
        text: String,
        style: Style,
    },
    LineFeed,
    /// `ESC d n` (print and feed n lines) or ePOS `<feed line="n"/>`.
    FeedLines(u8),
    /// `ESC J n` (feed n motion units) or ePOS `<feed unit="n"/>`.
    FeedUnits(u16),
    /// `ESC @`.
    Init,
    /// `ESC t n`; `known` is false when the sim has no table for n (it then decodes as PC437).
    CodePage {
        n: u8,
        known: bool,
    },
    Style(StyleChange),
    Cut(Cut),
    DrawerKick(DrawerKick),
    Image(Image),
    Qr(QrCode),
    Barcode(Barcode),
    /// A command the sim does not interpret, consumed with its documented length.
    Unknown {
        bytes: Vec<u8>,
    },
    /// Bytes that do not form a valid command (bad parameter, or the stream ended inside it).
    Malformed {
        bytes: Vec<u8>,
        reason: String,
    },
}

/// Everything printed, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub elements: Vec<Element>,
}

impl Document {
    /// Appends an element, merging a text run into the previous one when the style is equal,
    /// and a `GS v 0` band into the image right before it when width, mode and alignment match
    /// (several consecutive bands are one image, stacked).
    pub fn push(&mut self, element: Element) {
        if let (Element::Image(band), Some(Element::Image(last))) =
            (&element, self.elements.last_mut())
        {
            if band.source == ImageSource::Raster
                && last.source == ImageSource::Raster
                && band.bitmap.width == last.bitmap.width
                && band.mode == last.mode
                && band.align == last.align
            {
                last.bitmap.stack(&band.bitmap);
                last.bands += band.bands;
                return;
            }
        }
        if let Element::Text { text, style } = &element {
            if let Some(Element::Text {
                text: last,
                style: last_style,
            }) = self.elements.last_mut()
            {
                if last_style == style {
                    last.push_str(text);
                    return;
                }
            }
        }
        self.elements.push(element);
    }

    /// The printed text: text runs, `\n` per line feed, `n` newlines for `ESC d n` (at least
    /// one when the line had text, as the printer prints the line).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for element in &self.elements {
            match element {
                Element::Text { text, .. } => out.push_str(text),
                Element::LineFeed => out.push('\n'),
                Element::FeedLines(n) => {
                    let line_open = !out.is_empty() && !out.ends_with('\n');
                    let n = if line_open { (*n).max(1) } else { *n };
                    out.extend(std::iter::repeat_n('\n', usize::from(n)));
                }
                _ => {}
            }
        }
        out
    }

    pub fn cuts(&self) -> Vec<Cut> {
        self.collect(|e| match e {
            Element::Cut(c) => Some(c.clone()),
            _ => None,
        })
    }

    pub fn drawer_kicks(&self) -> Vec<DrawerKick> {
        self.collect(|e| match e {
            Element::DrawerKick(k) => Some(*k),
            _ => None,
        })
    }

    pub fn images(&self) -> Vec<Bitmap> {
        self.collect(|e| match e {
            Element::Image(i) => Some(i.bitmap.clone()),
            _ => None,
        })
    }

    pub fn qr_codes(&self) -> Vec<QrCode> {
        self.collect(|e| match e {
            Element::Qr(q) => Some(q.clone()),
            _ => None,
        })
    }

    pub fn barcodes(&self) -> Vec<Barcode> {
        self.collect(|e| match e {
            Element::Barcode(b) => Some(b.clone()),
            _ => None,
        })
    }

    /// Unknown and malformed commands, for tests asserting the encoder sent nothing odd.
    pub fn oddities(&self) -> Vec<Element> {
        self.collect(|e| match e {
            Element::Unknown { .. } | Element::Malformed { .. } => Some(e.clone()),
            _ => None,
        })
    }

    fn collect<T>(&self, f: impl Fn(&Element) -> Option<T>) -> Vec<T> {
        self.elements.iter().filter_map(f).collect()
    }
}

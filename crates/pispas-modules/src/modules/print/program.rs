//! The device-independent print program every format is turned into: styled text, rasters,
//! QR codes, barcodes, feeds, cuts and drawer kicks.
//!
//! Encoders turn it into bytes for one command set (ESC/POS in `escpos/`) or one wire format
//! (ePOS-Print XML in `transport/epos.rs`). It holds no I/O and knows no printer.

use super::raster::Bitmap;

/// Horizontal alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// How the paper is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CutMode {
    Full,
    #[default]
    Partial,
    /// No cut (a printer without a cutter, or a job that continues).
    None,
}

impl CutMode {
    pub fn parse(s: &str) -> Option<CutMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Some(CutMode::Full),
            "partial" => Some(CutMode::Partial),
            "none" | "no" | "false" | "off" => Some(CutMode::None),
            _ => None,
        }
    }
}

/// Text attributes; all off by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub align: Align,
    pub bold: bool,
    pub underline: bool,
    pub invert: bool,
    /// Character width multiplier, 1–8.
    pub width: u8,
    /// Character height multiplier, 1–8.
    pub height: u8,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            align: Align::Left,
            bold: false,
            underline: false,
            invert: false,
            width: 1,
            height: 1,
        }
    }
}

/// QR error correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
pub enum QrEcc {
    L,
    #[default]
    M,
    Q,
    H,
}

/// Barcode symbologies (ESC/POS `GS k` type B numbering in the encoder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Symbology {
    #[serde(rename = "UPC_A", alias = "UPCA")]
    UpcA,
    #[serde(rename = "UPC_E", alias = "UPCE")]
    UpcE,
    Ean13,
    Ean8,
    Code39,
    Itf,
    Codabar,
    Code93,
    Code128,
}

/// Where the human-readable digits of a barcode go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Hri {
    None,
    Above,
    #[default]
    Below,
    Both,
}

/// One step of a print program.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Text (may contain `\n`); the encoder ends each line.
    Text {
        text: String,
        style: Style,
    },
    /// A 1-bit image exactly as wide as it will print.
    Raster(Bitmap),
    Qr {
        data: String,
        /// Module size in dots, 1–16.
        size: u8,
        ecc: QrEcc,
        align: Align,
    },
    Barcode {
        symbology: Symbology,
        data: String,
        /// Bar height in dots, 1–255.
        height: u8,
        /// Module width, 2–6.
        width: u8,
        hri: Hri,
        align: Align,
    },
    /// Blank lines.
    Feed(u8),
    Cut(CutMode),
    /// Kicks the drawer on connector pin 2 or 5.
    Drawer {
        pin: u8,
    },
    /// Bytes for the printer as they are (RAW format).
    Raw(Vec<u8>),
}

/// A whole job: whether to reset the printer first, then the steps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Program {
    /// Send `ESC @` and the code page first (false for RAW, which is sent untouched).
    pub init: bool,
    pub ops: Vec<Op>,
}

impl Program {
    pub fn new() -> Self {
        Program {
            init: true,
            ops: Vec::new(),
        }
    }

    /// A program that sends `bytes` untouched.
    pub fn raw(bytes: Vec<u8>) -> Self {
        Program {
            init: false,
            ops: vec![Op::Raw(bytes)],
        }
    }

    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// Whether the program ends with a cut already.
    pub fn ends_with_cut(&self) -> bool {
        matches!(self.ops.last(), Some(Op::Cut(_)))
    }

    /// Repeats the whole program `copies` times (each copy keeps its own cut).
    pub fn repeated(self, copies: u32) -> Self {
        if copies <= 1 {
            return self;
        }
        let mut ops = Vec::with_capacity(self.ops.len() * copies as usize);
        for _ in 0..copies {
            ops.extend(self.ops.iter().cloned());
        }
        Program {
            init: self.init,
            ops,
        }
    }
}

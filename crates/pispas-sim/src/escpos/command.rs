//! The ESC/POS commands the sim tells apart, as parsed from bytes but not yet applied to any
//! printer state (that is `interpret`). Parameters are kept raw; meaning is given later.

/// One complete command (or a run of printable bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Printable bytes (≥ 0x20), not yet decoded with a code page.
    Text(Vec<u8>),
    Lf,
    Cr,
    Ht,
    /// `DLE EOT n`: real-time status request.
    StatusRequest(u8),
    /// `DLE DC4 1 m t`: real-time drawer pulse (m pin, t × 100 ms).
    RealtimePulse {
        m: u8,
        t: u8,
    },
    /// `ESC @`.
    Init,
    /// `ESC ! n`.
    Mode(u8),
    /// `ESC E n`.
    Bold(u8),
    /// `ESC - n`.
    Underline(u8),
    /// `ESC G n`.
    DoubleStrike(u8),
    /// `ESC M n`.
    Font(u8),
    /// `ESC { n`.
    UpsideDown(u8),
    /// `ESC a n`.
    Align(u8),
    /// `ESC t n`.
    CodePage(u8),
    /// `ESC R n`.
    InternationalSet(u8),
    /// `ESC d n`.
    FeedLines(u8),
    /// `ESC J n`.
    FeedUnits(u8),
    /// `ESC p m t1 t2`.
    DrawerKick {
        m: u8,
        t1: u8,
        t2: u8,
    },
    /// `ESC *` bit image: m, number of columns, column data.
    BitImage {
        m: u8,
        columns: usize,
        data: Vec<u8>,
    },
    /// `ESC i` / `ESC m` (legacy cuts) and `GS V ...`.
    Cut {
        m: u8,
        n: Option<u8>,
        bytes: Vec<u8>,
    },
    /// `GS ! n`.
    Size(u8),
    /// `GS B n`.
    Reverse(u8),
    /// `GS v 0 m xL xH yL yH d…`.
    Raster {
        m: u8,
        row_bytes: usize,
        height: usize,
        data: Vec<u8>,
    },
    /// `GS ( k pL pH cn fn params…`.
    Symbol {
        cn: u8,
        fn_: u8,
        params: Vec<u8>,
    },
    /// `GS k m …` (data without the NUL of type A).
    Barcode {
        m: u8,
        data: Vec<u8>,
    },
    /// `GS h n`.
    BarcodeHeight(u8),
    /// `GS w n`.
    BarcodeWidth(u8),
    /// `GS H n`.
    BarcodeHri(u8),
    /// `GS a n`: automatic status back.
    AutoStatus(u8),
    /// A layout/setting command the sim records but does not apply (`ESC 3 n`, `GS L`, …).
    Setting {
        name: &'static str,
        bytes: Vec<u8>,
    },
    /// A command consumed with its documented length but not interpreted.
    Unknown(Vec<u8>),
    /// Bytes that are not a valid command.
    Malformed {
        bytes: Vec<u8>,
        reason: String,
    },
}

/// Result of looking at the front of a byte buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed before the command at the front is complete.
    Incomplete,
    /// A command and how many bytes it used.
    Complete(Command, usize),
}

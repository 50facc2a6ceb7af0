//! GS (0x1D) commands: sizes, cuts, raster images, symbols (QR), barcodes, automatic status.
//! Same rules as `parse`: documented lengths, nothing applied to printer state.

use super::command::{Command, Parsed};
use super::parse::{done, fixed, malformed, setting, unknown, with_length};

/// Longest type-A barcode data the sim waits for before calling the command malformed.
const MAX_BARCODE_A: usize = 255;

pub(super) fn parse_gs(buf: &[u8]) -> Parsed {
    let Some(&second) = buf.get(1) else {
        return Parsed::Incomplete;
    };
    match second {
        b'!' => fixed(buf, 3, |b| Command::Size(b[2])),
        b'B' => fixed(buf, 3, |b| Command::Reverse(b[2])),
        b'V' => parse_cut(buf),
        b'v' => match buf.get(2) {
            None => Parsed::Incomplete,
            Some(b'0') => parse_raster(buf),
            Some(_) => unknown(buf, 3),
        },
        b'(' => parse_extended(buf),
        b'k' => parse_barcode(buf),
        b'h' => fixed(buf, 3, |b| Command::BarcodeHeight(b[2])),
        b'w' => fixed(buf, 3, |b| Command::BarcodeWidth(b[2])),
        b'H' => fixed(buf, 3, |b| Command::BarcodeHri(b[2])),
        b'a' => fixed(buf, 3, |b| Command::AutoStatus(b[2])),
        b'L' => setting(buf, 4, "GS L"),
        b'W' => setting(buf, 4, "GS W"),
        b'$' => setting(buf, 4, "GS $"),
        b'\\' => setting(buf, 4, "GS \\"),
        b'P' => setting(buf, 4, "GS P"),
        b'f' => setting(buf, 3, "GS f"),
        b'^' | b'z' => unknown(buf, 5),
        b'/' | b'E' | b'I' | b'T' | b'b' | b'j' | b'r' => unknown(buf, 3),
        b'g' => unknown(buf, 6),
        b'*' => match buf.get(..4) {
            None => Parsed::Incomplete,
            Some(h) => unknown(buf, 4 + usize::from(h[2]) * usize::from(h[3]) * 8),
        },
        b'8' => parse_extended_long(buf),
        _ => unknown(buf, 2),
    }
}

/// `GS V m` (m 0, 1, 48, 49) or `GS V m n` (m 65, 66, 97, 98, 103, 104).
fn parse_cut(buf: &[u8]) -> Parsed {
    let Some(&m) = buf.get(2) else {
        return Parsed::Incomplete;
    };
    match m {
        0 | 1 | 48 | 49 => fixed(buf, 3, |b| Command::Cut {
            m,
            n: None,
            bytes: b.to_vec(),
        }),
        65 | 66 | 97 | 98 | 103 | 104 => fixed(buf, 4, |b| Command::Cut {
            m,
            n: Some(b[3]),
            bytes: b.to_vec(),
        }),
        _ => malformed(buf, 3, "GS V with an undefined cut mode"),
    }
}

/// `GS v 0 m xL xH yL yH d1…dk`, k = (xL + xH×256) × (yL + yH×256).
fn parse_raster(buf: &[u8]) -> Parsed {
    let Some(h) = buf.get(..8) else {
        return Parsed::Incomplete;
    };
    let m = h[3];
    let row_bytes = usize::from(h[4]) | usize::from(h[5]) << 8;
    let height = usize::from(h[6]) | usize::from(h[7]) << 8;
    if !matches!(m, 0..=3 | 48..=51) {
        return malformed(buf, 8, "GS v 0 with a mode other than 0-3 / 48-51");
    }
    if row_bytes == 0 || height == 0 {
        return malformed(buf, 8, "GS v 0 with zero width or height");
    }
    let total = 8 + row_bytes * height;
    match buf.get(8..total) {
        Some(data) => done(
            Command::Raster {
                m: m & 0x0F,
                row_bytes,
                height,
                data: data.to_vec(),
            },
            total,
        ),
        None => Parsed::Incomplete,
    }
}

/// `GS ( x pL pH …`: `GS ( k` symbols are kept, the rest consumed whole.
fn parse_extended(buf: &[u8]) -> Parsed {
    let Some((n, total)) = with_length(buf, 5) else {
        return Parsed::Incomplete;
    };
    if buf[2] != b'k' {
        return unknown(buf, total);
    }
    if n < 2 {
        return malformed(buf, total, "GS ( k shorter than cn fn");
    }
    done(
        Command::Symbol {
            cn: buf[5],
            fn_: buf[6],
            params: buf[7..total].to_vec(),
        },
        total,
    )
}

/// `GS 8 L p1 p2 p3 p4 …` (graphics with a 32-bit length): consumed whole.
fn parse_extended_long(buf: &[u8]) -> Parsed {
    let Some(h) = buf.get(..7) else {
        return Parsed::Incomplete;
    };
    let n = h[3..7]
        .iter()
        .rev()
        .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
    let total = 7usize.saturating_add(n);
    if buf.len() < total {
        return Parsed::Incomplete;
    }
    unknown(buf, total)
}

/// Type A `GS k m d… NUL` (m 0–6) or type B `GS k m n d1…dn` (m 65–79).
fn parse_barcode(buf: &[u8]) -> Parsed {
    let Some(&m) = buf.get(2) else {
        return Parsed::Incomplete;
    };
    match m {
        0..=6 => match buf.iter().skip(3).position(|b| *b == 0) {
            Some(len) => done(
                Command::Barcode {
                    m,
                    data: buf[3..3 + len].to_vec(),
                },
                3 + len + 1,
            ),
            None if buf.len() > 3 + MAX_BARCODE_A => {
                malformed(buf, 3, "GS k type A without a NUL terminator")
            }
            None => Parsed::Incomplete,
        },
        65..=79 => {
            let Some(&n) = buf.get(3) else {
                return Parsed::Incomplete;
            };
            let total = 4 + usize::from(n);
            match buf.get(4..total) {
                Some(data) => done(
                    Command::Barcode {
                        m,
                        data: data.to_vec(),
                    },
                    total,
                ),
                None => Parsed::Incomplete,
            }
        }
        _ => malformed(buf, 3, "GS k with an undefined barcode system"),
    }
}

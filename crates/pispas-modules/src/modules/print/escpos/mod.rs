//! ESC/POS: turning a [`Program`] into the bytes an Epson-compatible printer takes, and reading
//! its real-time status replies (`status.rs`).
//!
//! Command bytes live in `commands.rs`, each checked against the spec. Star Line mode is a
//! different command set and is not produced here.

pub mod commands;
pub mod status;

use super::codepage::Codepage;
use super::program::{Op, Program, Style};

/// What the encoder needs to know about the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub codepage: Codepage,
}

/// Encodes a whole program. RAW programs (`init == false`) come out byte for byte as given.
pub fn encode(program: &Program, profile: Profile) -> Vec<u8> {
    let mut out = Vec::with_capacity(estimate(program));
    if program.init {
        commands::init(&mut out);
        commands::codepage(&mut out, profile.codepage.escpos_table());
    }
    for op in &program.ops {
        encode_op(&mut out, op, profile);
    }
    out
}

fn estimate(program: &Program) -> usize {
    program
        .ops
        .iter()
        .map(|op| match op {
            Op::Raster(b) => b.bits.len() + 8 * (b.height as usize / 256 + 1) + 8,
            Op::Raw(r) => r.len(),
            Op::Text { text, .. } => text.len() + 24,
            _ => 64,
        })
        .sum::<usize>()
        + 8
}

fn encode_op(out: &mut Vec<u8>, op: &Op, profile: Profile) {
    match op {
        Op::Text { text, style } => text_block(out, text, style, profile.codepage),
        Op::Raster(bitmap) => {
            commands::align(out, super::program::Align::Left);
            commands::raster(out, bitmap);
        }
        Op::Qr {
            data,
            size,
            ecc,
            align,
        } => {
            commands::align(out, *align);
            commands::qr(out, data.as_bytes(), *size, *ecc);
            out.push(commands::LF);
            commands::align(out, super::program::Align::Left);
        }
        Op::Barcode {
            symbology,
            data,
            height,
            width,
            hri,
            align,
        } => {
            commands::align(out, *align);
            commands::barcode(out, *symbology, data.as_bytes(), *height, *width, *hri);
            out.push(commands::LF);
            commands::align(out, super::program::Align::Left);
        }
        Op::Feed(n) => commands::feed(out, *n),
        Op::Cut(mode) => commands::cut(out, *mode),
        Op::Drawer { pin } => commands::drawer(out, *pin),
        Op::Raw(bytes) => out.extend_from_slice(bytes),
    }
}

/// Sets the style, prints the text line by line, and puts every attribute back to normal so the
/// next step starts clean.
fn text_block(out: &mut Vec<u8>, text: &str, style: &Style, codepage: Codepage) {
    let plain = Style::default();
    if style.align != plain.align {
        commands::align(out, style.align);
    }
    if style.bold {
        commands::bold(out, true);
    }
    if style.underline {
        commands::underline(out, true);
    }
    if style.invert {
        commands::invert(out, true);
    }
    if style.width != 1 || style.height != 1 {
        commands::size(out, style.width, style.height);
    }
    codepage.encode_into(text, out);
    if !text.ends_with('\n') {
        out.push(commands::LF);
    }
    if style.width != 1 || style.height != 1 {
        commands::size(out, 1, 1);
    }
    if style.invert {
        commands::invert(out, false);
    }
    if style.underline {
        commands::underline(out, false);
    }
    if style.bold {
        commands::bold(out, false);
    }
    if style.align != plain.align {
        commands::align(out, plain.align);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::print::program::{Align, CutMode};

    const P: Profile = Profile {
        codepage: Codepage::Cp858,
    };

    #[test]
    fn a_program_starts_with_reset_and_the_code_page() {
        let mut p = Program::new();
        p.push(Op::Text {
            text: "1,50 €".into(),
            style: Style::default(),
        });
        p.push(Op::Cut(CutMode::Partial));
        assert_eq!(
            encode(&p, P),
            [
                0x1B, 0x40, 0x1B, 0x74, 19, b'1', b',', b'5', b'0', b' ', 0xD5, 0x0A, 0x1D, 0x56,
                0x42, 0
            ]
        );
    }

    #[test]
    fn raw_programs_are_sent_untouched() {
        let bytes = vec![0x1B, 0x40, 0xFF, 0x00, 0x10];
        assert_eq!(encode(&Program::raw(bytes.clone()), P), bytes);
    }

    #[test]
    fn styled_text_is_reset_after_itself() {
        let mut p = Program {
            init: false,
            ops: vec![],
        };
        p.push(Op::Text {
            text: "TOTAL".into(),
            style: Style {
                align: Align::Center,
                bold: true,
                width: 2,
                height: 2,
                ..Style::default()
            },
        });
        assert_eq!(
            encode(&p, P),
            [
                0x1B, 0x61, 1, 0x1B, 0x45, 1, 0x1D, 0x21, 0x11, b'T', b'O', b'T', b'A', b'L', 0x0A,
                0x1D, 0x21, 0x00, 0x1B, 0x45, 0, 0x1B, 0x61, 0
            ]
        );
    }
}

//! Adam Equipment scales (AZExtra, CBD): `P CR LF` is answered with a plain line `  1.234kg`.
//!
//! The scale is **silent** when the weight is unchanged or zero, so "no frame" is a normal
//! answer, not an error; the driver decides how long to wait and when to clear a held weight.
//! The frame ends at the `kg` (label format 3 + kg); the CR LF after it, blank lines and other
//! label lines are skipped. Source: research notes §4 (`[CODE]` odoo `SerialScaleDriver.py`, regex
//! `\s*([0-9.]+)kg`). Inferred: a printed weight is stable (the scale only prints a new
//! settled weight), and a sign may precede the digits. No checksum exists. Decoding only.

use super::framing::{CR, LF};
use super::{weight, Decode, Reading, ScaleFrame};

pub(crate) const WEIGHT_REQUEST: &[u8] = b"P\r\n";
pub(crate) const TARE: &[u8] = b"T\r\n";
pub(crate) const ZERO: &[u8] = b"Z\r\n";

/// A weight line is about a dozen bytes; a longer run without `kg` or a line end is noise.
const MAX_LINE: usize = 32;

pub(crate) fn decode(buf: &[u8]) -> Decode {
    let line_end = buf.iter().position(|&b| b == CR || b == LF);
    let unit = buf.windows(2).position(|w| w.eq_ignore_ascii_case(b"kg"));
    match (unit, line_end) {
        (Some(unit), end) if end.is_none_or(|end| unit < end) => weight_before(buf, unit),
        (_, Some(end)) => Decode::Skip { consumed: end + 1 },
        (None, None) if buf.len() >= MAX_LINE => Decode::Skip {
            consumed: buf.len() - MAX_LINE + 1,
        },
        _ => Decode::Incomplete,
    }
}

/// `buf[unit..unit + 2]` is `kg`: take the number just before it, drop whatever precedes that.
fn weight_before(buf: &[u8], unit: usize) -> Decode {
    let start = number_start(&buf[..unit]);
    if start > 0 {
        return Decode::Skip { consumed: start };
    }
    let mut consumed = unit + 2;
    if buf.get(consumed) == Some(&CR) {
        consumed += 1;
    }
    if buf.get(consumed) == Some(&LF) {
        consumed += 1;
    }
    match weight::kg_to_grams(&buf[..unit]) {
        Some(grams) => Decode::Frame {
            consumed,
            frame: ScaleFrame::Weight(Reading::stable(grams)),
        },
        None => Decode::Skip { consumed },
    }
}

/// Where `[spaces][sign][spaces]digits.digits[spaces]` begins at the end of `text`.
fn number_start(text: &[u8]) -> usize {
    let is_space = |b: &u8| *b == b' ';
    let is_number = |b: &u8| b.is_ascii_digit() || *b == b'.';
    let mut i = text.len();
    let mut skip_while = |pred: &dyn Fn(&u8) -> bool| {
        while i > 0 && pred(&text[i - 1]) {
            i -= 1;
        }
    };
    skip_while(&is_space);
    skip_while(&is_number);
    skip_while(&is_space);
    skip_while(&|b| *b == b'-' || *b == b'+');
    skip_while(&is_space);
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grams(consumed: usize, grams: i64) -> Decode {
        Decode::Frame {
            consumed,
            frame: ScaleFrame::Weight(Reading::stable(grams)),
        }
    }

    #[test]
    fn an_empty_buffer_is_incomplete() {
        assert_eq!(decode(b""), Decode::Incomplete);
    }

    #[test]
    fn one_byte_is_incomplete() {
        assert_eq!(decode(b" "), Decode::Incomplete);
    }

    #[test]
    fn a_weight_without_its_unit_is_incomplete() {
        assert_eq!(decode(b"  1.23"), Decode::Incomplete);
    }

    #[test]
    fn a_plain_weight_line_decodes_to_exact_grams() {
        assert_eq!(decode(b"  1.234kg\r\n"), grams(11, 1234));
    }

    #[test]
    fn a_line_ending_at_the_unit_is_complete_and_its_line_end_is_skipped_later() {
        assert_eq!(decode(b"  0.500kg"), grams(9, 500));
        assert_eq!(decode(b"\r\n"), Decode::Skip { consumed: 1 });
    }

    #[test]
    fn a_space_before_the_unit_and_a_sign_are_tolerated() {
        assert_eq!(decode(b"-  0.120 kg\r\n"), grams(13, -120));
    }

    #[test]
    fn two_lines_in_one_read_decode_one_after_the_other() {
        let buf = b"  1.000kg\r\n  2.500kg\r\n";
        assert_eq!(decode(buf), grams(11, 1000));
        assert_eq!(decode(&buf[11..]), grams(11, 2500));
    }

    #[test]
    fn a_label_word_before_the_weight_is_skipped_and_the_weight_then_decodes() {
        let buf = b"Net  1.234kg\r\n";
        assert_eq!(decode(buf), Decode::Skip { consumed: 3 });
        assert_eq!(decode(&buf[3..]), grams(11, 1234));
    }

    #[test]
    fn a_line_without_a_weight_is_skipped_whole() {
        assert_eq!(
            decode(b"AZEXTRA 6\r\n  1.000kg"),
            Decode::Skip { consumed: 10 }
        );
    }

    #[test]
    fn a_corrupt_number_is_skipped_and_the_next_line_decodes() {
        // No checksum: a number with two points is the corruption we can see.
        let buf = b"  1..2kg\r\n  1.200kg\r\n";
        assert_eq!(decode(buf), Decode::Skip { consumed: 10 });
        assert_eq!(decode(&buf[10..]), grams(11, 1200));
    }

    #[test]
    fn a_long_run_without_unit_or_line_end_is_dropped() {
        assert_eq!(decode(&[b'x'; 40]), Decode::Skip { consumed: 9 });
    }
}

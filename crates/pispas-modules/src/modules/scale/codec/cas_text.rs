//! CAS "ST/US" text lines, as many CAS indicators print them: `ST,GS,+  1.500 kg CR [LF]`.
//!
//! First field `ST` stable, `US` unstable, `OL` overload; second `GS` gross, `NT` net; the last
//! field is the signed weight and its unit. Source: research notes §4 (`[CODE]` a Kotlin POS
//! `CasProtocolParser`, medium confidence). Inferred and made tolerant: an optional leading STX,
//! extra middle fields (some models add a device number), the unit with or without a space,
//! CR or CR LF. Only `kg` and `g` decode; `lb`/`oz` lines are skipped. No checksum exists.
//! This file only decodes.

use super::framing::{self, Line, STX};
use super::{status_code, weight, Decode, Reading, ScaleFrame, ScaleStatus};

pub(crate) const WEIGHT_REQUEST: &[u8] = b"W";

/// The 18-byte frame plus room for a device-number field and padding.
const MAX_LINE: usize = 40;

pub(crate) fn decode(buf: &[u8]) -> Decode {
    let (text_end, consumed) = match framing::line(buf, MAX_LINE) {
        Line::Incomplete => return Decode::Incomplete,
        Line::TooLong(consumed) => return Decode::Skip { consumed },
        Line::Found { text_end, consumed } => (text_end, consumed),
    };
    let text = &buf[..text_end];
    match find_status_field(text) {
        Some(0) => parse_line(text, consumed),
        Some(1) if text[0] == STX => parse_line(&text[1..], consumed),
        // Noise before the status field: drop only the noise, then decode the line.
        Some(start) => Decode::Skip { consumed: start },
        None => Decode::Skip { consumed },
    }
}

fn find_status_field(text: &[u8]) -> Option<usize> {
    text.windows(3)
        .position(|w| matches!(w, b"ST," | b"US," | b"OL,"))
}

fn parse_line(text: &[u8], consumed: usize) -> Decode {
    match parse_fields(text) {
        Some(frame) => Decode::Frame { consumed, frame },
        None => Decode::Skip { consumed },
    }
}

fn parse_fields(text: &[u8]) -> Option<ScaleFrame> {
    let mut fields = text.split(|&b| b == b',');
    let state = fields.next()?;
    let mode = fields.next()?.trim_ascii();
    let value = fields.next_back()?;
    let overload = state == b"OL";
    let net = mode == b"NT";
    match split_unit(value).and_then(|(number, unit)| to_grams(number, unit)) {
        Some(grams) => Some(ScaleFrame::Weight(Reading {
            stable: state == b"ST",
            net,
            overload,
            ..Reading::stable(grams)
        })),
        // An overloaded indicator often prints dashes or `OL` instead of digits.
        None if overload => Some(ScaleFrame::Status(ScaleStatus {
            overload: true,
            net,
            code: status_code(state),
            ..ScaleStatus::default()
        })),
        None => None,
    }
}

/// Splits `"+  1.500 kg"` into the number and the unit letters.
fn split_unit(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let value = value.trim_ascii_end();
    let unit_len = value
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let (number, unit) = value.split_at(value.len() - unit_len);
    (!unit.is_empty()).then_some((number, unit))
}

fn to_grams(number: &[u8], unit: &[u8]) -> Option<i64> {
    if unit.eq_ignore_ascii_case(b"kg") {
        weight::kg_to_grams(number)
    } else if unit.eq_ignore_ascii_case(b"g") {
        weight::decimal(number, 0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(consumed: usize, grams: i64, stable: bool, net: bool) -> Decode {
        let reading = Reading {
            stable,
            net,
            ..Reading::stable(grams)
        };
        Decode::Frame {
            consumed,
            frame: ScaleFrame::Weight(reading),
        }
    }

    #[test]
    fn an_empty_buffer_is_incomplete() {
        assert_eq!(decode(b""), Decode::Incomplete);
    }

    #[test]
    fn one_byte_is_incomplete() {
        assert_eq!(decode(b"S"), Decode::Incomplete);
    }

    #[test]
    fn a_line_without_its_terminator_is_incomplete() {
        assert_eq!(decode(b"ST,GS,+  1.5"), Decode::Incomplete);
    }

    #[test]
    fn a_stable_gross_line_decodes_to_exact_grams() {
        assert_eq!(
            decode(b"ST,GS,+  1.500 kg\r"),
            reading(18, 1500, true, false)
        );
    }

    #[test]
    fn an_unstable_line_is_a_reading_marked_unstable() {
        assert_eq!(
            decode(b"US,GS,+  0.730kg\r\n"),
            reading(18, 730, false, false)
        );
    }

    #[test]
    fn a_net_negative_line_keeps_its_sign_and_flags() {
        let Decode::Frame {
            frame: ScaleFrame::Weight(r),
            ..
        } = decode(b"ST,NT,-  0.120 kg\r")
        else {
            panic!("expected a weight");
        };
        assert_eq!(
            (r.grams, r.net, r.under_zero, r.stable),
            (-120, true, true, true)
        );
    }

    #[test]
    fn an_overload_line_without_digits_is_an_overload_status() {
        let Decode::Frame {
            frame: ScaleFrame::Status(s),
            ..
        } = decode(b"OL,GS,+ ------ kg\r")
        else {
            panic!("expected a status");
        };
        assert!(s.overload && !s.motion);
    }

    #[test]
    fn an_overload_line_with_digits_is_a_reading_flagged_overload() {
        let Decode::Frame {
            frame: ScaleFrame::Weight(r),
            ..
        } = decode(b"OL,GS,+ 31.000 kg\r")
        else {
            panic!("expected a weight");
        };
        assert!(r.overload && !r.stable);
        assert_eq!(r.grams, 31_000);
    }

    #[test]
    fn a_leading_stx_and_a_device_number_field_are_tolerated() {
        assert_eq!(
            decode(b"\x02ST,GS,01,+  2.000kg\r"),
            reading(21, 2000, true, false)
        );
    }

    #[test]
    fn a_gram_unit_is_read_as_grams() {
        assert_eq!(decode(b"ST,GS,+   245 g\r"), reading(16, 245, true, false));
    }

    #[test]
    fn two_lines_in_one_read_decode_one_after_the_other() {
        let buf = b"US,GS,+  1.000kg\r\nST,GS,+  1.002kg\r\n";
        assert_eq!(decode(buf), reading(18, 1000, false, false));
        assert_eq!(decode(&buf[18..]), reading(18, 1002, true, false));
    }

    #[test]
    fn noise_before_a_line_is_skipped_and_the_line_then_decodes() {
        let buf = b"\x00#!ST,GS,+  0.500kg\r";
        assert_eq!(decode(buf), Decode::Skip { consumed: 3 });
        assert_eq!(decode(&buf[3..]), reading(17, 500, true, false));
    }

    #[test]
    fn a_corrupt_line_is_skipped_and_the_next_one_decodes() {
        // No checksum: a weight field that is not a number is the corruption we can see.
        let buf = b"ST,GS,+  1.5#0kg\r\nST,GS,+  1.500kg\r\n";
        assert_eq!(decode(buf), Decode::Skip { consumed: 18 });
        assert_eq!(decode(&buf[18..]), reading(18, 1500, true, false));
    }

    #[test]
    fn a_pound_line_is_skipped() {
        assert_eq!(decode(b"ST,GS,+  0.00 lb\r"), Decode::Skip { consumed: 17 });
    }

    #[test]
    fn a_lone_lf_left_by_a_split_cr_lf_is_skipped() {
        assert_eq!(decode(b"\nST,GS"), Decode::Skip { consumed: 1 });
    }
}

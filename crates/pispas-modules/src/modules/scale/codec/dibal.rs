//! Dibal terminal protocol (G-310, DPOS400): ASCII records ending in CR LF with an XOR check.
//!
//! The host sends `98 PPPPP C CR LF` (a price); `98000001` is the plain weight poll. The scale
//! answers `99 S WWWWW … C CR LF`, e.g. `9900031600000004` = status 0, 316 g, or a `9B S WWWWW
//! PPPPPP E IIIIII C` totals record. Sources: research notes §4 (`[SPEC]` Dibal DPOS400 §4.42,
//! sbzsystems.com G310 page), **medium-low confidence**: the sources disagree on the check
//! field's width. Both readings are accepted: one raw byte equal to the XOR of all preceding
//! characters (the site's example), or two hex digits of the XOR of the characters before them
//! (a 2-character `CC`); for `99` records whose XOR nibble is ≤ 9 the two are the same bytes.
//! Only the leading fields are read, so the middle field widths do not matter for `99`.
//! Not handled: `9A` price requests (skipped), price-computing mode. This file only decodes.

use super::framing::{self, Line, ACK, NAK};
use super::{status_code, weight, Decode, Reading, ScaleFrame, ScaleStatus};

pub(crate) const WEIGHT_REQUEST: &[u8] = b"98000001\r\n";

const MAX_LINE: usize = 40;

pub(crate) fn decode(buf: &[u8]) -> Decode {
    let frame = |consumed, frame| Decode::Frame { consumed, frame };
    match buf.first() {
        None => return Decode::Incomplete,
        Some(&ACK) => return frame(1, ScaleFrame::Ack),
        Some(&NAK) => return frame(1, ScaleFrame::Nak),
        Some(b'9') => {}
        Some(_) => {
            let next = buf
                .iter()
                .position(|&b| matches!(b, b'9' | ACK | NAK))
                .unwrap_or(buf.len());
            return Decode::Skip { consumed: next };
        }
    }
    let (text_end, consumed) = match framing::line(buf, MAX_LINE) {
        Line::Incomplete => return Decode::Incomplete,
        Line::TooLong(consumed) => return Decode::Skip { consumed },
        Line::Found { text_end, consumed } => (text_end, consumed),
    };
    let text = &buf[..text_end];
    match parse_record(text) {
        Some(record) => frame(consumed, record),
        // A record that starts later in the line may be intact (noise ate the first one's end).
        None => Decode::Skip {
            consumed: later_record_start(text).unwrap_or(consumed),
        },
    }
}

fn later_record_start(text: &[u8]) -> Option<usize> {
    (1..text.len().saturating_sub(1))
        .find(|&i| text[i] == b'9' && matches!(text[i + 1], b'9' | b'A' | b'B'))
}

fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// The record without its check characters, if either reading of the check matches.
fn checked_body(text: &[u8]) -> Option<&[u8]> {
    let (&last, body) = text.split_last()?;
    if xor(body) == last {
        return Some(body);
    }
    let (body, hex) = text.split_at(text.len().checked_sub(2)?);
    let hex = std::str::from_utf8(hex).ok()?;
    let check = u8::from_str_radix(hex, 16).ok()?;
    (xor(body) == check).then_some(body)
}

fn parse_record(text: &[u8]) -> Option<ScaleFrame> {
    let body = checked_body(text)?;
    let field = |from: usize, to: usize| body.get(from..to);
    let (status, mass, price, total) = match body.get(..2)? {
        b"99" => (field(2, 3)?, field(3, 8)?, None, None),
        b"9B" => (
            field(2, 3)?,
            field(3, 8)?,
            Some(field(8, 14)?),
            Some(field(15, 21)?),
        ),
        _ => return None,
    };
    // Only `0` ("correct reception") is documented; anything else is passed on raw.
    if status != b"0" {
        return Some(ScaleFrame::Status(ScaleStatus {
            code: status_code(status),
            ..ScaleStatus::default()
        }));
    }
    let grams = weight::field_grams(mass)?;
    Some(ScaleFrame::Weight(Reading {
        price_cents: price.and_then(|p| weight::decimal(p, 0)),
        total_cents: total.and_then(|t| weight::decimal(t, 0)),
        ..Reading::stable(grams)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the sbzsystems page: status 0, 0.316 kg, check `4`.
    const SITE_EXAMPLE: &[u8] = b"9900031600000004\r\n";

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
        assert_eq!(decode(b"9"), Decode::Incomplete);
    }

    #[test]
    fn a_record_without_its_line_end_is_incomplete() {
        assert_eq!(decode(b"99000316000"), Decode::Incomplete);
    }

    #[test]
    fn the_documented_example_is_316_grams() {
        assert_eq!(decode(SITE_EXAMPLE), grams(18, 316));
    }

    #[test]
    fn a_one_byte_xor_check_is_accepted() {
        assert_eq!(decode(b"990009020000000;\r\n"), grams(18, 902));
    }

    #[test]
    fn a_two_hex_digit_xor_check_is_accepted() {
        assert_eq!(decode(b"990009020000000B\r\n"), grams(18, 902));
    }

    #[test]
    fn a_bad_checksum_record_is_skipped_and_the_next_one_decodes() {
        let buf = [&b"9900031600000005\r\n"[..], SITE_EXAMPLE].concat();
        assert_eq!(decode(&buf), Decode::Skip { consumed: 18 });
        assert_eq!(decode(&buf[18..]), grams(18, 316));
    }

    #[test]
    fn two_records_in_one_read_decode_one_after_the_other() {
        let buf = [SITE_EXAMPLE, b"9900125000000006\r\n"].concat();
        assert_eq!(decode(&buf), grams(18, 316));
        assert_eq!(decode(&buf[18..]), grams(18, 1250));
    }

    #[test]
    fn garbage_before_a_record_is_skipped_and_the_record_then_decodes() {
        let buf = [&b"\x00ab"[..], SITE_EXAMPLE].concat();
        assert_eq!(decode(&buf), Decode::Skip { consumed: 3 });
        assert_eq!(decode(&buf[3..]), grams(18, 316));
    }

    #[test]
    fn a_record_cut_short_by_noise_yields_to_the_record_after_it() {
        let buf = [&b"99000"[..], SITE_EXAMPLE].concat();
        assert_eq!(decode(&buf), Decode::Skip { consumed: 5 });
        assert_eq!(decode(&buf[5..]), grams(18, 316));
    }

    #[test]
    fn a_totals_record_carries_unit_price_and_amount() {
        let reading = Reading {
            price_cents: Some(199),
            total_cents: Some(249),
            ..Reading::stable(1250)
        };
        assert_eq!(
            decode(b"9B0012500001990000249C\r\n"),
            Decode::Frame {
                consumed: 24,
                frame: ScaleFrame::Weight(reading)
            }
        );
    }

    #[test]
    fn a_non_zero_status_is_passed_on_raw_instead_of_a_weight() {
        let Decode::Frame {
            frame: ScaleFrame::Status(status),
            ..
        } = decode(b"9910031600000005\r\n")
        else {
            panic!("expected a status");
        };
        assert_eq!(
            status,
            ScaleStatus {
                code: Some("1".into()),
                ..ScaleStatus::default()
            }
        );
    }

    #[test]
    fn a_price_request_record_is_skipped() {
        assert_eq!(decode(b"9A00000000x\r\n"), Decode::Skip { consumed: 13 });
    }

    #[test]
    fn ack_and_nak_are_single_byte_replies() {
        assert_eq!(
            decode(b"\x06"),
            Decode::Frame {
                consumed: 1,
                frame: ScaleFrame::Ack
            }
        );
        assert_eq!(
            decode(b"\x15"),
            Decode::Frame {
                consumed: 1,
                frame: ScaleFrame::Nak
            }
        );
    }

    #[test]
    fn the_weight_poll_carries_its_own_valid_check() {
        assert_eq!(xor(b"9800000"), b'1');
        assert_eq!(WEIGHT_REQUEST, b"98000001\r\n");
    }
}

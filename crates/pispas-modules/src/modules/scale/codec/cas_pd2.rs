//! CAS PD-II in "ECR type 2" mode: `W` is answered with `STX ddddd CR`, five digits of grams.
//!
//! A `?` as the second byte means the scale could not give a weight. Source: research notes §4
//! (`[CODE]` kortoaus/cas-scale `src/index.ts`, tested on a PD-II in ECR type 2). The notes say
//! status and commands are "the same style as 8217"; that part is inferred, so a lone status
//! byte (`STX ? s CR`) is decoded with the 8217 bit layout, and so is a longer `?` body whose
//! first byte has bit 6 set; other `?` bodies (`?0000`) are kept raw. No checksum exists. This
//! file only decodes.

use super::framing::{self, Span, CR, STX};
use super::{status_code, toledo8217, weight, Decode, Reading, ScaleFrame, ScaleStatus};

pub(crate) const WEIGHT_REQUEST: &[u8] = b"W";

/// STX, five digits, CR is 7 bytes; allow a few more for firmware that pads or adds a point.
const MAX_FRAME: usize = 12;

pub(crate) fn decode(buf: &[u8]) -> Decode {
    if let Some(status) = toledo8217::positional_status(buf) {
        return status;
    }
    match framing::delimited(buf, STX, CR, MAX_FRAME) {
        Span::Incomplete => Decode::Incomplete,
        Span::Garbage(consumed) => Decode::Skip { consumed },
        Span::Frame { end } => match parse_body(&buf[1..end]) {
            Some(frame) => Decode::Frame {
                consumed: end + 1,
                frame,
            },
            None => Decode::Skip { consumed: end + 1 },
        },
    }
}

fn parse_body(body: &[u8]) -> Option<ScaleFrame> {
    if let Some(rest) = body.strip_prefix(b"?") {
        let status = match rest.first() {
            Some(&byte) if byte & 0x40 != 0 => toledo8217::status_from_byte(byte),
            _ => ScaleStatus {
                code: status_code(body),
                ..ScaleStatus::default()
            },
        };
        return Some(ScaleFrame::Status(status));
    }
    // The digits are grams; `field_grams` also accepts `1.500` should a unit send kilograms.
    let grams = weight::field_grams(body)?;
    Some(ScaleFrame::Weight(Reading::stable(grams)))
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
    fn a_lone_stx_is_incomplete() {
        assert_eq!(decode(b"\x02"), Decode::Incomplete);
    }

    #[test]
    fn a_reply_missing_its_cr_is_incomplete() {
        assert_eq!(decode(b"\x0201500"), Decode::Incomplete);
    }

    #[test]
    fn five_digits_are_whole_grams() {
        assert_eq!(decode(b"\x0201500\r"), grams(7, 1500));
        assert_eq!(decode(b"\x0200000\r"), grams(7, 0));
    }

    #[test]
    fn a_reply_with_a_decimal_point_is_read_as_kilograms() {
        assert_eq!(decode(b"\x021.500\r"), grams(7, 1500));
    }

    #[test]
    fn two_replies_in_one_read_decode_one_after_the_other() {
        let buf = b"\x0200250\r\x0212345\r";
        assert_eq!(decode(buf), grams(7, 250));
        assert_eq!(decode(&buf[7..]), grams(7, 12_345));
    }

    #[test]
    fn garbage_before_a_reply_is_skipped_and_the_reply_then_decodes() {
        let buf = b"\xff\x13\x0200042\r";
        assert_eq!(decode(buf), Decode::Skip { consumed: 2 });
        assert_eq!(decode(&buf[2..]), grams(7, 42));
    }

    #[test]
    fn a_frame_with_a_corrupt_digit_is_skipped_and_the_next_one_decodes() {
        // No checksum: a non-digit in the weight field is the corruption we can see.
        let buf = b"\x0201X00\r\x0201000\r";
        assert_eq!(decode(buf), Decode::Skip { consumed: 7 });
        assert_eq!(decode(&buf[7..]), grams(7, 1000));
    }

    #[test]
    fn a_question_mark_is_a_status_reply_not_a_weight() {
        let Decode::Frame {
            consumed,
            frame: ScaleFrame::Status(status),
        } = decode(b"\x02?\r")
        else {
            panic!("expected a status");
        };
        assert_eq!(consumed, 3);
        assert_eq!(status.code.as_deref(), Some("?"));
        assert!(!status.motion);
    }

    #[test]
    fn a_status_byte_after_the_question_mark_uses_the_8217_bits() {
        let Decode::Frame {
            frame: ScaleFrame::Status(status),
            ..
        } = decode(b"\x02?A\r")
        else {
            panic!("expected a status");
        };
        assert!(status.motion && !status.overload);
    }

    #[test]
    fn a_digit_after_the_question_mark_is_kept_raw_and_not_read_as_flags() {
        let Decode::Frame {
            frame: ScaleFrame::Status(status),
            ..
        } = decode(b"\x02?0000\r")
        else {
            panic!("expected a status");
        };
        assert_eq!(
            status,
            ScaleStatus {
                code: Some("?0000".into()),
                ..ScaleStatus::default()
            }
        );
    }
}

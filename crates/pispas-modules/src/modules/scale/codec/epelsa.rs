//! Epelsa scales in auto (streaming) mode: unsolicited `STX <state> <7-char weight> CR ETX`.
//!
//! State `A` stable, `!` in motion, `I` initial (power-up/zero-setting, reported unstable here
//! because a sale must wait for `A`). Weights are signed kilograms: `STX "A -0.450" CR ETX`.
//! Source: research notes §4 (`[CODE]` pywebdriver `epelsa.py`, medium confidence: its regex
//! accepts any capital letter as the state, so other letters decode as unstable readings).
//! No checksum exists; nothing is ever sent to the scale. This file only decodes.

use super::framing::{self, Span, CR, ETX, STX};
use super::{weight, Decode, Reading, ScaleFrame};

const MAX_FRAME: usize = 16;

pub(crate) fn decode(buf: &[u8]) -> Decode {
    match framing::delimited(buf, STX, ETX, MAX_FRAME) {
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
    // pywebdriver's regex requires the CR; accept its absence, the ETX already closed the frame.
    let body = body.strip_suffix(&[CR]).unwrap_or(body);
    let (&state, mass) = body.split_first()?;
    if !(state.is_ascii_uppercase() || state == b'!') {
        return None;
    }
    let grams = weight::kg_to_grams(mass)?;
    Some(ScaleFrame::Weight(Reading {
        stable: state == b'A',
        ..Reading::stable(grams)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(consumed: usize, grams: i64, stable: bool) -> Decode {
        let reading = Reading {
            stable,
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
    fn a_lone_stx_is_incomplete() {
        assert_eq!(decode(b"\x02"), Decode::Incomplete);
    }

    #[test]
    fn a_frame_without_its_etx_is_incomplete() {
        assert_eq!(decode(b"\x02A  1.250\r"), Decode::Incomplete);
    }

    #[test]
    fn state_a_is_a_stable_weight() {
        assert_eq!(decode(b"\x02A  1.250\r\x03"), reading(11, 1250, true));
    }

    #[test]
    fn state_bang_is_a_weight_in_motion() {
        assert_eq!(decode(b"\x02! -0.250\r\x03"), reading(11, -250, false));
    }

    #[test]
    fn state_i_is_the_initial_zero_and_not_yet_stable() {
        assert_eq!(decode(b"\x02I  0.000\r\x03"), reading(11, 0, false));
    }

    #[test]
    fn a_negative_stable_weight_is_flagged_under_zero() {
        let Decode::Frame {
            frame: ScaleFrame::Weight(r),
            ..
        } = decode(b"\x02A -0.450\r\x03")
        else {
            panic!("expected a weight");
        };
        assert_eq!((r.grams, r.stable, r.under_zero), (-450, true, true));
    }

    #[test]
    fn two_frames_in_one_read_decode_one_after_the_other() {
        let buf = b"\x02!  0.990\r\x03\x02A  1.000\r\x03";
        assert_eq!(decode(buf), reading(11, 990, false));
        assert_eq!(decode(&buf[11..]), reading(11, 1000, true));
    }

    #[test]
    fn a_stream_joined_mid_frame_resynchronises_on_the_next_stx() {
        let buf = b".250\r\x03\x02A  0.250\r\x03";
        assert_eq!(decode(buf), Decode::Skip { consumed: 6 });
        assert_eq!(decode(&buf[6..]), reading(11, 250, true));
    }

    #[test]
    fn a_corrupt_frame_is_skipped_and_the_next_one_decodes() {
        // No checksum: an unknown state or a non-numeric weight is what we can detect.
        let buf = b"\x02a  1.000\r\x03\x02A  1.000\r\x03";
        assert_eq!(decode(buf), Decode::Skip { consumed: 11 });
        assert_eq!(decode(&buf[11..]), reading(11, 1000, true));
    }

    #[test]
    fn a_frame_without_the_cr_is_tolerated() {
        assert_eq!(decode(b"\x02A  1.000\x03"), reading(10, 1000, true));
    }
}

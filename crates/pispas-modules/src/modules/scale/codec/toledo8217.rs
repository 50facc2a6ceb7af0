//! Mettler-Toledo 8217 frames (Ariva-S "protocol option 3"; CAS PD-II borrows its status byte).
//!
//! The host sends `W`; the scale answers `STX [spaces] 1.234 [N] CR` (kilograms, `N` = net) when
//! the weight is stable, or `STX ? <status> CR` otherwise. The `Ehello` probe is answered with
//! `STX E CR hello`. Sources: research notes §4 (`[CODE]` odoo `serial_scale_driver.py`,
//! pywebdriver `mettler_toledo_8217.py`) and the Mettler-Toledo DIVA service manual §6.1.4.3.
//! The protocol has no checksum. This file only decodes; it does not time or retry requests.

use super::framing::{self, Span, CR, STX};
use super::{status_code, weight, Decode, Reading, ScaleFrame, ScaleStatus};

pub(crate) const WEIGHT_REQUEST: &[u8] = b"W";
pub(crate) const TARE: &[u8] = b"T";
pub(crate) const ZERO: &[u8] = b"Z";
pub(crate) const CLEAR_TARE: &[u8] = b"C";
pub(crate) const PROBE: &[u8] = b"Ehello";
pub(crate) const PROBE_REPLY: &[u8] = b"\x02E\rhello";
/// Sent after a recognised probe (odoo does; it ends the echo exchange).
pub(crate) const PROBE_DONE: &[u8] = b"F";

/// Longest frame we wait for: STX, a padded 7-character weight, `N`, CR, with slack.
const MAX_FRAME: usize = 16;

pub(crate) fn decode(buf: &[u8]) -> Decode {
    if let [STX, b'E', rest @ ..] = buf {
        match rest.first() {
            None => return Decode::Incomplete,
            Some(&CR) => return echo(&rest[1..]),
            Some(_) => {}
        }
    }
    if let Some(status) = positional_status(buf) {
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

/// `STX ? <status> CR`, read by position: a status byte may itself be 0x02 (over capacity
/// without bit 6, as the research notes' bit table gives it), which framing on STX would take for
/// the start of a new frame. A bare `STX ? CR` is left to the framed path.
pub(crate) fn positional_status(buf: &[u8]) -> Option<Decode> {
    match buf {
        [STX, b'?'] => Some(Decode::Incomplete),
        [STX, b'?', s] if *s != CR => Some(Decode::Incomplete),
        [STX, b'?', s, CR, ..] if *s != CR => Some(Decode::Frame {
            consumed: 4,
            frame: ScaleFrame::Status(status_from_byte(*s)),
        }),
        _ => None,
    }
}

/// The echo has no terminator: it runs to the next STX or to the end of what was read, so a
/// driver should wait for the probe's reply time before decoding it (or compare the raw bytes
/// with `PROBE_REPLY`, as odoo does).
fn echo(payload: &[u8]) -> Decode {
    if payload.is_empty() {
        return Decode::Incomplete;
    }
    let len = payload
        .iter()
        .position(|&b| b == STX)
        .unwrap_or(payload.len());
    Decode::Frame {
        consumed: 3 + len,
        frame: ScaleFrame::Echo(payload[..len].to_vec()),
    }
}

fn parse_body(body: &[u8]) -> Option<ScaleFrame> {
    let body = body.trim_ascii_start();
    if let Some(rest) = body.strip_prefix(b"?") {
        return Some(ScaleFrame::Status(match rest.first() {
            Some(&byte) => status_from_byte(byte),
            // A bare `?` is how 8217-family scales reject a command they do not know.
            None => ScaleStatus {
                bad_command: true,
                code: status_code(b"?"),
                ..ScaleStatus::default()
            },
        }));
    }
    let (text, net) = match body.strip_suffix(b"N") {
        Some(text) => (text, true),
        None => (body, false),
    };
    // Kilograms always carry their decimal point (`0.000`). Five bare digits are a CAS PD-II
    // answering the same `W` in grams: read as kilograms they would be a thousand times the
    // weight on the pan, so they are not an 8217 frame (the wrong_protocol test found it).
    if !text.contains(&b'.') {
        return None;
    }
    let grams = weight::kg_to_grams(text)?;
    Some(ScaleFrame::Weight(Reading {
        net,
        ..Reading::stable(grams)
    }))
}

/// Decodes the status character (least significant bit first): 0 motion, 1 over capacity,
/// 2 under zero, 3 outside zero-capture range, 4 centre of zero, 5 net. Bit 7 is parity and is
/// ignored. Bit 6 is ignored too: the Mettler-Toledo DIVA manual documents it as "always 1",
/// whereas odoo's table calls it "bad command from host"; trusting odoo would flag every
/// status as a bad command on a scale that follows the manual.
pub(crate) fn status_from_byte(byte: u8) -> ScaleStatus {
    let bit = |n: u8| byte & (1 << n) != 0;
    ScaleStatus {
        motion: bit(0),
        overload: bit(1),
        under_zero: bit(2),
        outside_zero_range: bit(3),
        centre_of_zero: bit(4),
        net: bit(5),
        bad_command: false,
        code: status_code(&[byte]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weight(consumed: usize, grams: i64, net: bool) -> Decode {
        let reading = Reading {
            net,
            ..Reading::stable(grams)
        };
        Decode::Frame {
            consumed,
            frame: ScaleFrame::Weight(reading),
        }
    }

    fn status_of(buf: &[u8]) -> ScaleStatus {
        match decode(buf) {
            Decode::Frame {
                frame: ScaleFrame::Status(status),
                ..
            } => status,
            other => panic!("expected a status, got {other:?}"),
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
    fn a_weight_without_its_cr_is_incomplete() {
        assert_eq!(decode(b"\x02  1.23"), Decode::Incomplete);
    }

    #[test]
    fn a_padded_weight_reply_decodes_to_exact_grams() {
        assert_eq!(decode(b"\x02  1.234\r"), weight(9, 1234, false));
    }

    #[test]
    fn a_cas_pd2_grams_frame_is_not_read_as_kilograms() {
        // `STX 01234 CR` is 1.234 kg from a PD-II; as 8217 kilograms it would be 1234 kg.
        assert_eq!(decode(b"\x0201234\r"), Decode::Skip { consumed: 7 });
        assert_eq!(decode(b"\x02  1234N\r"), Decode::Skip { consumed: 9 });
    }

    #[test]
    fn a_trailing_n_marks_a_net_weight() {
        assert_eq!(decode(b"\x02 0.500N\r"), weight(9, 500, true));
    }

    #[test]
    fn two_replies_in_one_read_decode_one_after_the_other() {
        let buf = b"\x020.250\r\x02 10.000\r";
        assert_eq!(decode(buf), weight(7, 250, false));
        assert_eq!(decode(&buf[7..]), weight(9, 10_000, false));
    }

    #[test]
    fn garbage_before_a_reply_is_skipped_and_the_reply_then_decodes() {
        let buf = b"zz\x00\x02 1.000\r";
        assert_eq!(decode(buf), Decode::Skip { consumed: 3 });
        assert_eq!(decode(&buf[3..]), weight(8, 1000, false));
    }

    #[test]
    fn a_reply_cut_short_by_a_new_stx_is_skipped_and_the_new_one_decodes() {
        let buf = b"\x02 1.0\x02 2.000\r";
        assert_eq!(decode(buf), Decode::Skip { consumed: 5 });
        assert_eq!(decode(&buf[5..]), weight(8, 2000, false));
    }

    #[test]
    fn a_frame_with_a_corrupt_weight_is_skipped_whole() {
        // The protocol has no checksum: a corrupt weight field is what we can detect.
        let buf = b"\x02 1.#00\r\x02 0.100\r";
        assert_eq!(decode(buf), Decode::Skip { consumed: 8 });
        assert_eq!(decode(&buf[8..]), weight(8, 100, false));
    }

    #[test]
    fn a_frame_that_never_ends_is_dropped_byte_by_byte() {
        assert_eq!(
            decode(b"\x02 1111111111111111"),
            Decode::Skip { consumed: 1 }
        );
    }

    #[test]
    fn a_status_byte_equal_to_stx_is_read_by_position_not_as_a_new_frame() {
        assert_eq!(decode(&[STX, b'?', 0x02]), Decode::Incomplete);
        match decode(&[STX, b'?', 0x02, CR, STX]) {
            Decode::Frame {
                consumed: 4,
                frame: ScaleFrame::Status(s),
            } => assert!(s.overload && !s.motion),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn status_a_means_the_scale_is_in_motion() {
        let status = status_of(b"\x02?A\r");
        assert!(status.motion);
        assert!(!status.overload && !status.under_zero && !status.net && !status.bad_command);
        assert_eq!(status.code.as_deref(), Some("A"));
    }

    #[test]
    fn status_b_means_over_capacity() {
        let status = status_of(b"\x02?B\r");
        assert!(status.overload && !status.motion);
    }

    #[test]
    fn status_d_means_under_zero() {
        let status = status_of(b"\x02?D\r");
        assert!(status.under_zero && !status.motion && !status.overload);
        assert!(status.is_fault());
    }

    #[test]
    fn status_at_sign_carries_no_flag_and_is_no_fault() {
        // pywebdriver: some scales answer this after the first read until the weight changes.
        let status = status_of(b"\x02?@\r");
        assert_eq!(
            status,
            ScaleStatus {
                code: Some("@".into()),
                ..ScaleStatus::default()
            }
        );
        assert!(!status.is_fault());
    }

    #[test]
    fn status_bits_for_zero_range_centre_and_net_are_decoded() {
        let status = status_of(b"\x02?x\r"); // 0x78: bits 3, 4, 5 (+6)
        assert!(status.outside_zero_range && status.centre_of_zero && status.net);
        assert!(!status.is_fault());
    }

    #[test]
    fn the_parity_bit_of_the_status_character_is_ignored() {
        assert!(status_of(b"\x02?\xc1\r").motion);
        assert!(!status_of(b"\x02?\xc1\r").overload);
    }

    #[test]
    fn a_bare_question_mark_means_a_bad_command() {
        assert!(status_of(b"\x02?\r").bad_command);
    }

    #[test]
    fn the_probe_echo_decodes_to_the_echoed_text() {
        assert_eq!(
            decode(PROBE_REPLY),
            Decode::Frame {
                consumed: 8,
                frame: ScaleFrame::Echo(b"hello".to_vec())
            }
        );
    }

    #[test]
    fn an_echo_header_without_payload_yet_is_incomplete() {
        assert_eq!(decode(b"\x02E\r"), Decode::Incomplete);
        assert_eq!(decode(b"\x02E"), Decode::Incomplete);
    }
}

//! Dialog 02 / Dialog 04 records (German PTB family: Bizerba, Dibal, Cely, Ohaus, CAS ECR 12).
//!
//! Request `EOT ENQ`; answer `STX "02" ESC <unit> ESC WWWWW ESC PPPPPP ESC IIIIII ETX` (unit `3`
//! = kg, W grams, P unit price and I amount in cents) or a lone NAK when there is no load, the
//! weight moves, is under zero or overloaded. Status: `EOT STX "08" ETX` → `STX "09" ESC S1 S2
//! ETX`. The two variants differ only in line speed. Sources: research notes §4 (`[SPEC]` Ohaus
//! Aviator 7000 §6.1.3–6.1.6, Dibal DPOS400 §4.39, Cely PI100 §7.5; zero from `[CODE]` Peakboard
//! `PdnEcr12CustomList.cs`). Not handled: Dialog 06 CRCs, tare/text records, the meaning of
//! S1 S2 (kept raw). This file only decodes and builds records.

use super::framing::{self, Span, ACK, ENQ, EOT, ESC, ETX, NAK, STX};
use super::{status_code, weight, Decode, Reading, ScaleFrame, ScaleStatus};

pub(crate) const WEIGHT_REQUEST: &[u8] = &[EOT, ENQ];
/// CAS ECR type 12 "set zero"; other Dialog scales may answer NAK.
pub(crate) const ZERO: &[u8] = &[EOT, STX, b'3', b'1', ETX];
pub(crate) const STATUS_REQUEST: &[u8] = &[EOT, STX, b'0', b'8', ETX];

/// Unit `3` is kilograms (weight field in grams); CAS ECR 12 maps 0 lb, 1 oz, 2 g.
const UNIT_KG: &[u8] = b"3";
const MAX_FRAME: usize = 40;

/// The `01` record that sets the unit price, `EOT STX "01" ESC PPPPPP ESC ETX`. Many Dialog
/// scales only weigh after a price is set and ACKed. Returns `None` above 999 999 cents, which
/// does not fit the six-digit field.
pub(crate) fn unit_price_record(cents: u32) -> Option<Vec<u8>> {
    if cents > 999_999 {
        return None;
    }
    let mut record = vec![EOT, STX, b'0', b'1', ESC];
    record.extend_from_slice(format!("{cents:06}").as_bytes());
    record.extend_from_slice(&[ESC, ETX]);
    Some(record)
}

pub(crate) fn decode(buf: &[u8]) -> Decode {
    let frame = |consumed, frame| Decode::Frame { consumed, frame };
    match buf.first() {
        None => return Decode::Incomplete,
        Some(&ACK) => return frame(1, ScaleFrame::Ack),
        Some(&NAK) => return frame(1, ScaleFrame::Nak),
        Some(&STX) => {}
        Some(_) => {
            // Unlike `framing::delimited`, stop at ACK/NAK too: they are whole replies.
            let next = buf
                .iter()
                .position(|&b| matches!(b, STX | ACK | NAK))
                .unwrap_or(buf.len());
            return Decode::Skip { consumed: next };
        }
    }
    match framing::delimited(buf, STX, ETX, MAX_FRAME) {
        Span::Incomplete => Decode::Incomplete,
        Span::Garbage(consumed) => Decode::Skip { consumed },
        Span::Frame { end } => match parse_record(&buf[1..end]) {
            Some(record) => frame(end + 1, record),
            None => Decode::Skip { consumed: end + 1 },
        },
    }
}

fn parse_record(body: &[u8]) -> Option<ScaleFrame> {
    let mut fields = body.split(|&b| b == ESC);
    match fields.next()? {
        b"02" => {
            let (unit, mass, price, total) = (
                fields.next()?,
                fields.next()?,
                fields.next()?,
                fields.next()?,
            );
            if unit != UNIT_KG {
                return None;
            }
            weight_record(mass, price, total)
        }
        b"09" => {
            let code = fields.next()?;
            Some(ScaleFrame::Status(ScaleStatus {
                code: status_code(code),
                ..ScaleStatus::default()
            }))
        }
        _ => None,
    }
}

fn weight_record(mass: &[u8], price: &[u8], total: &[u8]) -> Option<ScaleFrame> {
    // Dibal's Dialog firmware (DPOS400 manual notes) blanks the field while the weight moves
    // and sends `-00.000` below zero instead of a NAK; read those as statuses.
    let trimmed = mass.trim_ascii();
    if trimmed.is_empty() {
        return Some(ScaleFrame::Status(ScaleStatus {
            motion: true,
            code: status_code(mass),
            ..ScaleStatus::default()
        }));
    }
    if trimmed.starts_with(b"-") {
        return Some(ScaleFrame::Status(ScaleStatus {
            under_zero: true,
            code: status_code(mass),
            ..ScaleStatus::default()
        }));
    }
    let grams = weight::field_grams(trimmed)?;
    Some(ScaleFrame::Weight(Reading {
        price_cents: weight::decimal(price, 0),
        total_cents: weight::decimal(total, 0),
        ..Reading::stable(grams)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &[u8] = b"\x0202\x1b3\x1b01234\x1b000199\x1b000246\x03";

    fn priced(consumed: usize, grams: i64, price: i64, total: i64) -> Decode {
        let reading = Reading {
            price_cents: Some(price),
            total_cents: Some(total),
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
    fn a_record_without_its_etx_is_incomplete() {
        assert_eq!(decode(&RECORD[..RECORD.len() - 1]), Decode::Incomplete);
    }

    #[test]
    fn a_weight_record_carries_grams_unit_price_and_amount() {
        assert_eq!(decode(RECORD), priced(26, 1234, 199, 246));
    }

    #[test]
    fn a_nak_is_how_the_scale_says_it_is_moving_or_empty() {
        assert_eq!(
            decode(b"\x15"),
            Decode::Frame {
                consumed: 1,
                frame: ScaleFrame::Nak
            }
        );
    }

    #[test]
    fn an_ack_confirms_a_price_record() {
        assert_eq!(
            decode(b"\x06\x02"),
            Decode::Frame {
                consumed: 1,
                frame: ScaleFrame::Ack
            }
        );
    }

    #[test]
    fn two_records_in_one_read_decode_one_after_the_other() {
        let buf = [RECORD, b"\x0202\x1b3\x1b00500\x1b001000\x1b000500\x03"].concat();
        assert_eq!(decode(&buf), priced(26, 1234, 199, 246));
        assert_eq!(decode(&buf[26..]), priced(26, 500, 1000, 500));
    }

    #[test]
    fn garbage_before_a_record_is_skipped_and_the_record_then_decodes() {
        let buf = [&b"\x04\x05zz"[..], RECORD].concat();
        assert_eq!(decode(&buf), Decode::Skip { consumed: 4 });
        assert_eq!(decode(&buf[4..]), priced(26, 1234, 199, 246));
    }

    #[test]
    fn garbage_before_a_nak_does_not_swallow_the_nak() {
        assert_eq!(decode(b"zz\x15"), Decode::Skip { consumed: 2 });
    }

    #[test]
    fn a_corrupt_record_is_skipped_and_the_next_one_decodes() {
        // Dialog 02/04 has no checksum: a non-numeric weight is the corruption we can see.
        let buf = [&b"\x0202\x1b3\x1b01#34\x1b000199\x1b000246\x03"[..], RECORD].concat();
        assert_eq!(decode(&buf), Decode::Skip { consumed: 26 });
        assert_eq!(decode(&buf[26..]), priced(26, 1234, 199, 246));
    }

    #[test]
    fn a_record_in_pounds_is_skipped() {
        let buf = b"\x0202\x1b0\x1b01234\x1b000199\x1b000246\x03";
        assert_eq!(decode(buf), Decode::Skip { consumed: 26 });
    }

    #[test]
    fn the_status_record_keeps_the_two_status_digits_raw() {
        let status = status_of(b"\x0209\x1b20\x03");
        assert_eq!(
            status,
            ScaleStatus {
                code: Some("20".into()),
                ..ScaleStatus::default()
            }
        );
    }

    #[test]
    fn a_blank_weight_field_means_the_weight_is_moving() {
        assert!(status_of(b"\x0202\x1b3\x1b     \x1b000199\x1b000000\x03").motion);
    }

    #[test]
    fn a_negative_weight_field_means_under_zero() {
        assert!(status_of(b"\x0202\x1b3\x1b-00.000\x1b000199\x1b000000\x03").under_zero);
    }

    #[test]
    fn the_unit_price_record_pads_the_price_to_six_digits() {
        assert_eq!(
            unit_price_record(199),
            Some(b"\x04\x0201\x1b000199\x1b\x03".to_vec())
        );
        assert_eq!(unit_price_record(1_000_000), None);
    }
}

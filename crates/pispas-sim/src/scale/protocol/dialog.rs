//! Dialog 02/04 (German PTB family: Dibal, Bizerba, Ohaus, CAS PDN type 12). The ECR sends
//! `EOT ENQ` for a weighing and records `EOT STX <nn> ESC … ETX`:
//! - `EOT ENQ` → `STX "02" ESC "3" ESC WWWWW ESC PPPPPP ESC IIIIII ETX` (kg, grams, unit price
//!   and total in cents), or NAK with no load, moving, under zero or overloaded;
//! - `01` unit price, `03` price + tare (4 digits, g), `04` price + text, `05` price + tare +
//!   text → ACK (NAK when a field is not digits);
//! - `08` status → `STX "09" ESC S1 S0 ETX` (two-digit code, see README); `31` zero → ACK.

use super::{Protocol, ACK, ENQ, EOT, ESC, ETX, NAK, STX};
use crate::scale::state::ScaleState;

#[derive(Default)]
pub(crate) struct Dialog {
    buf: Vec<u8>,
    /// The error code of the last rejected record, reported once by record 08.
    record_error: Option<&'static str>,
}

fn digits(field: &[u8], len: usize) -> Option<u32> {
    (field.len() == len && field.iter().all(u8::is_ascii_digit))
        .then(|| std::str::from_utf8(field).ok()?.parse().ok())
        .flatten()
}

impl Dialog {
    fn weighing(&self, scale: &ScaleState, out: &mut Vec<u8>) {
        let grams = scale.shown_g();
        if !scale.valid() || grams <= 0 || grams > 99_999 {
            out.push(NAK);
            return;
        }
        let price = u64::from(scale.unit_price_cents);
        let total = (grams as u64 * price + 500) / 1000;
        out.push(STX);
        out.extend_from_slice(b"02");
        for field in [
            "3".to_string(),
            format!("{grams:05}"),
            format!("{:06}", price.min(999_999)),
            format!("{:06}", total.min(999_999)),
        ] {
            out.push(ESC);
            out.extend_from_slice(field.as_bytes());
        }
        out.push(ETX);
    }

    fn status_code(&mut self, scale: &ScaleState) -> &'static str {
        if let Some(code) = self.record_error.take() {
            return code;
        }
        if scale.overload() {
            "32"
        } else if scale.under_zero() {
            "31"
        } else if !scale.stable {
            "20"
        } else if scale.shown_g() == 0 {
            "30"
        } else {
            "00"
        }
    }

    fn record(&mut self, body: &[u8], scale: &mut ScaleState, out: &mut Vec<u8>) {
        let fields: Vec<&[u8]> = body.split(|b| *b == ESC).collect();
        let price = fields.get(1).and_then(|f| digits(f, 6));
        let tare = fields.get(2).and_then(|f| digits(f, 4));
        let ok = match fields[0] {
            b"01" | b"04" => price.map(|p| scale.unit_price_cents = p),
            b"03" | b"05" => price.zip(tare).map(|(p, t)| {
                scale.unit_price_cents = p;
                scale.tare_g = (t > 0).then_some(i64::from(t));
            }),
            b"08" => {
                let code = self.status_code(scale);
                out.push(STX);
                out.extend_from_slice(b"09");
                out.push(ESC);
                out.extend_from_slice(code.as_bytes());
                out.push(ETX);
                return;
            }
            b"31" => {
                scale.zero();
                Some(())
            }
            _ => {
                self.record_error = Some("10");
                None
            }
        };
        if ok.is_some() {
            out.push(ACK);
        } else {
            self.record_error
                .get_or_insert(if fields[0] == b"03" || fields[0] == b"05" {
                    "12"
                } else {
                    "11"
                });
            out.push(NAK);
        }
    }
}

impl Protocol for Dialog {
    fn receive(&mut self, input: &[u8], scale: &mut ScaleState, out: &mut Vec<u8>) {
        self.buf.extend_from_slice(input);
        loop {
            // Resynchronise on EOT: anything before it is line noise.
            if let Some(i) = self.buf.iter().position(|b| *b == EOT) {
                drop(self.buf.drain(..i))
            } else {
                self.buf.clear();
                return;
            }
            match self.buf.get(1) {
                None => return,
                Some(&ENQ) => {
                    self.buf.drain(..2);
                    self.weighing(scale, out);
                }
                Some(&STX) => {
                    let Some(end) = self.buf.iter().position(|b| *b == ETX) else {
                        if self.buf.len() > 256 {
                            self.buf.clear();
                        }
                        return;
                    };
                    let body = self.buf[2..end].to_vec();
                    self.buf.drain(..=end);
                    self.record(&body, scale, out);
                }
                Some(_) => drop(self.buf.drain(..1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(p: &mut Dialog, s: &mut ScaleState, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        p.receive(input, s, &mut out);
        out
    }

    #[test]
    fn a_price_then_a_weighing_answers_weight_price_and_total() {
        let (mut p, mut s) = (Dialog::default(), ScaleState::default());
        s.set_load(1250);
        assert_eq!(ask(&mut p, &mut s, b"\x04\x0201\x1b001990\x1b\x03"), [ACK]);
        assert_eq!(
            ask(&mut p, &mut s, b"\x04\x05"),
            b"\x0202\x1b3\x1b01250\x1b001990\x1b002488\x03"
        );
    }

    #[test]
    fn no_load_motion_under_zero_and_overload_are_nak_with_a_status_code() {
        let (mut p, mut s) = (Dialog::default(), ScaleState::default());
        assert_eq!(ask(&mut p, &mut s, b"\x04\x05"), [NAK]);
        assert_eq!(ask(&mut p, &mut s, b"\x04\x0208\x03"), b"\x0209\x1b30\x03");
        s.set_load(100);
        s.stable = false;
        assert_eq!(ask(&mut p, &mut s, b"\x04\x05"), [NAK]);
        assert_eq!(ask(&mut p, &mut s, b"\x04\x0208\x03"), b"\x0209\x1b20\x03");
        s.stable = true;
        s.force_overload = true;
        assert_eq!(ask(&mut p, &mut s, b"\x04\x05"), [NAK]);
        s.force_overload = false;
        s.force_under_zero = true;
        assert_eq!(ask(&mut p, &mut s, b"\x04\x05"), [NAK]);
    }

    #[test]
    fn record_03_sets_price_and_tare_and_31_zeroes() {
        let (mut p, mut s) = (Dialog::default(), ScaleState::default());
        assert_eq!(
            ask(&mut p, &mut s, b"\x04\x0203\x1b000100\x1b0050\x1b\x03"),
            [ACK]
        );
        s.set_load(1050);
        assert_eq!(
            ask(&mut p, &mut s, b"\x04\x05"),
            b"\x0202\x1b3\x1b01000\x1b000100\x1b000100\x03"
        );
        assert_eq!(ask(&mut p, &mut s, b"\x04\x0231\x03"), [ACK]);
    }

    #[test]
    fn garbage_before_eot_and_bad_fields_are_handled() {
        let (mut p, mut s) = (Dialog::default(), ScaleState::default());
        assert_eq!(
            ask(&mut p, &mut s, b"zz\x04\x0201\x1b12ab56\x1b\x03"),
            [NAK]
        );
        assert_eq!(ask(&mut p, &mut s, b"\x04\x0208\x03"), b"\x0209\x1b11\x03");
    }
}

//! Dibal terminal protocol (G-310, DPOS400). The ECR sends a price line `98 <price> <CC> CR LF`
//! (the simplest poll is `98000001`); the scale answers `99 S WWWWW PPPPPP CC CR LF` with S = 0,
//! the weight in grams, the unit price in cents and CC = two hex digits of the XOR of every
//! character before it (the doc's example `9900031600000004` is 0.316 kg). It answers only a
//! stable, in-range weight, and only again once the weight has moved by 20 divisions or
//! returned to zero; otherwise it is silent. A request with a wrong checksum gets NAK.

use super::{Protocol, NAK};
use crate::scale::state::ScaleState;

/// One division of the simulated 6/15 kg scale, in grams; the re-arm threshold is 20 of them.
pub(crate) const DIVISION_G: i64 = 2;

#[derive(Default)]
pub(crate) struct Dibal {
    line: Vec<u8>,
    last: Option<(i64, u64)>,
}

pub(crate) fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// The price in a `98` line, if its checksum holds (two hex digits, or one raw XOR byte, since
/// the sources disagree on the field widths).
fn price(line: &[u8]) -> Option<u32> {
    let parse = |body: &[u8]| -> Option<u32> {
        let digits = body.get(2..)?;
        if digits.is_empty() {
            return Some(0);
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    if line.len() >= 4 {
        let (body, cc) = line.split_at(line.len() - 2);
        let hex = std::str::from_utf8(cc)
            .ok()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if hex == Some(xor(body)) {
            return parse(body);
        }
    }
    let (body, cc) = line.split_at(line.len().checked_sub(1)?);
    (cc == [xor(body)]).then(|| parse(body)).flatten()
}

impl Dibal {
    fn answer(&mut self, scale: &ScaleState, out: &mut Vec<u8>) {
        let grams = scale.shown_g();
        if !scale.valid() || grams > 99_999 {
            return;
        }
        let rearmed = match self.last {
            None => true,
            Some((last, visits)) => {
                (grams - last).abs() >= 20 * DIVISION_G || visits != scale.zero_visits
            }
        };
        if !rearmed {
            return;
        }
        self.last = Some((grams, scale.zero_visits));
        let mut frame =
            format!("990{grams:05}{:06}", scale.unit_price_cents.min(999_999)).into_bytes();
        let cc = xor(&frame);
        frame.extend_from_slice(format!("{cc:02X}\r\n").as_bytes());
        out.extend_from_slice(&frame);
    }
}

impl Protocol for Dibal {
    fn receive(&mut self, input: &[u8], scale: &mut ScaleState, out: &mut Vec<u8>) {
        for &byte in input {
            match byte {
                b'\n' => {
                    let line = std::mem::take(&mut self.line);
                    if !line.starts_with(b"98") {
                        continue;
                    }
                    match price(&line) {
                        Some(p) => {
                            scale.unit_price_cents = p;
                            self.answer(scale, out);
                        }
                        None => out.push(NAK),
                    }
                }
                b'\r' => {}
                _ if self.line.len() < 64 => self.line.push(byte),
                _ => self.line.clear(),
            }
        }
    }

    fn corrupt(&self, frame: &mut [u8]) {
        // Keep the shape, break the checksum.
        if let Some(cc) = frame.len().checked_sub(3).and_then(|i| frame.get_mut(i)) {
            *cc = if *cc == b'0' { b'1' } else { b'0' };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(p: &mut Dibal, s: &mut ScaleState) -> Vec<u8> {
        let mut out = Vec::new();
        p.receive(b"98000001\r\n", s, &mut out);
        out
    }

    #[test]
    fn the_documented_example_frame_comes_out_byte_for_byte() {
        let (mut p, mut s) = (Dibal::default(), ScaleState::default());
        s.set_load(316);
        assert_eq!(poll(&mut p, &mut s), b"9900031600000004\r\n");
    }

    #[test]
    fn it_answers_again_only_after_20_divisions_or_a_return_to_zero() {
        let (mut p, mut s) = (Dibal::default(), ScaleState::default());
        s.set_load(316);
        assert!(!poll(&mut p, &mut s).is_empty());
        s.set_load(330);
        assert!(poll(&mut p, &mut s).is_empty());
        s.set_load(360);
        assert!(!poll(&mut p, &mut s).is_empty());
        s.set_load(0);
        s.set_load(360);
        assert!(!poll(&mut p, &mut s).is_empty());
    }

    #[test]
    fn unstable_is_silent_and_a_bad_checksum_is_nak() {
        let (mut p, mut s) = (Dibal::default(), ScaleState::default());
        s.set_load(500);
        s.stable = false;
        assert!(poll(&mut p, &mut s).is_empty());
        let mut out = Vec::new();
        p.receive(b"98000077\r\n", &mut s, &mut out);
        assert_eq!(out, [NAK]);
    }

    #[test]
    fn a_corrupted_frame_fails_its_checksum() {
        let mut frame = b"9900031600000004\r\n".to_vec();
        Dibal::default().corrupt(&mut frame);
        let body = &frame[..frame.len() - 4];
        let cc = u8::from_str_radix(
            std::str::from_utf8(&frame[frame.len() - 4..frame.len() - 2]).unwrap_or("zz"),
            16,
        );
        assert_ne!(cc.ok(), Some(xor(body)));
    }
}

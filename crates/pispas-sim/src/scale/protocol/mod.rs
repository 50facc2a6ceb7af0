//! The scale protocols of device-protocols.md §4, one file each, behind one trait: bytes from
//! the ECR in, frames out, and for streaming protocols a frame per tick. Pure: no I/O.

mod adam;
mod castext;
mod dialog;
mod dibal;
mod epelsa;
mod toledo;

use super::state::ScaleState;
use std::time::Duration;

/// Protocol names accepted by `ScaleSim` and the CLI.
pub const PROTOCOLS: [&str; 8] = [
    "toledo8217",
    "caspd2",
    "castext",
    "dialog02",
    "dialog04",
    "dibal",
    "epelsa",
    "adam",
];

pub(crate) const STX: u8 = 0x02;
pub(crate) const ETX: u8 = 0x03;
pub(crate) const EOT: u8 = 0x04;
pub(crate) const ENQ: u8 = 0x05;
pub(crate) const ACK: u8 = 0x06;
pub(crate) const NAK: u8 = 0x15;
pub(crate) const ESC: u8 = 0x1B;
pub(crate) const CR: u8 = 0x0D;

pub(crate) trait Protocol: Send {
    /// Bytes from the ECR; replies appended to `out`. May change the scale (zero, tare, price).
    fn receive(&mut self, input: &[u8], scale: &mut ScaleState, out: &mut Vec<u8>);

    /// Streaming protocols: time between unsolicited frames.
    fn period(&self) -> Option<Duration> {
        None
    }

    /// One unsolicited frame.
    fn frame(&mut self, _scale: &ScaleState, _out: &mut Vec<u8>) {}

    /// Damages a frame so that a decoder must reject it: by default the first weight digit
    /// becomes `x`.
    fn corrupt(&self, frame: &mut [u8]) {
        if let Some(d) = frame.iter_mut().find(|b| b.is_ascii_digit()) {
            *d = b'x';
        }
    }
}

/// The protocol called `name`, or None when the name is unknown.
pub(crate) fn by_name(name: &str) -> Option<Box<dyn Protocol>> {
    Some(match name {
        "toledo8217" => Box::new(toledo::Toledo::mettler()),
        "caspd2" => Box::new(toledo::Toledo::cas_pd2()),
        "castext" => Box::new(castext::CasText),
        "dialog02" | "dialog04" => Box::new(dialog::Dialog::default()),
        "dibal" => Box::new(dibal::Dibal::default()),
        "epelsa" => Box::new(epelsa::Epelsa::default()),
        "adam" => Box::new(adam::Adam::default()),
        _ => return None,
    })
}

/// `grams` as kilograms with three decimals, right-aligned in `width` characters.
pub(crate) fn kg(grams: i64, width: usize) -> String {
    let sign = if grams < 0 { "-" } else { "" };
    let g = grams.unsigned_abs();
    format!("{:>width$}", format!("{sign}{}.{:03}", g / 1000, g % 1000))
}

#[cfg(test)]
mod tests {
    #[test]
    fn kilograms_are_right_aligned_with_three_decimals() {
        assert_eq!(super::kg(1234, 7), "  1.234");
        assert_eq!(super::kg(-10, 7), " -0.010");
        assert_eq!(super::kg(0, 6), " 0.000");
        assert_eq!(super::kg(12345, 6), "12.345");
    }
}

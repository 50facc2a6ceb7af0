//! Single ESC/POS commands as bytes, each checked against §6 of the device notes (Epson command
//! set). Only this file spells out command bytes; the encoder composes them.

use crate::modules::print::program::{Align, CutMode, Hri, QrEcc, Symbology};
use crate::modules::print::raster::Bitmap;

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const DLE: u8 = 0x10;
pub const LF: u8 = 0x0A;

/// Most rows one `GS v 0` carries; cheap clones choke on taller images.
pub const BAND_ROWS: u32 = 256;

/// `ESC @`: reset modes (not the buffer contents already printed).
pub fn init(out: &mut Vec<u8>) {
    out.extend_from_slice(&[ESC, b'@']);
}

/// `ESC t n`: character code table.
pub fn codepage(out: &mut Vec<u8>, n: u8) {
    out.extend_from_slice(&[ESC, b't', n]);
}

/// `ESC a n`: justification.
pub fn align(out: &mut Vec<u8>, a: Align) {
    let n = match a {
        Align::Left => 0,
        Align::Center => 1,
        Align::Right => 2,
    };
    out.extend_from_slice(&[ESC, b'a', n]);
}

/// `ESC E n`: emphasis.
pub fn bold(out: &mut Vec<u8>, on: bool) {
    out.extend_from_slice(&[ESC, b'E', on as u8]);
}

/// `ESC - n`: underline (1 dot).
pub fn underline(out: &mut Vec<u8>, on: bool) {
    out.extend_from_slice(&[ESC, b'-', on as u8]);
}

/// `GS B n`: white on black.
pub fn invert(out: &mut Vec<u8>, on: bool) {
    out.extend_from_slice(&[GS, b'B', on as u8]);
}

/// `GS ! n`: character size, width and height multipliers 1–8.
pub fn size(out: &mut Vec<u8>, width: u8, height: u8) {
    let w = width.clamp(1, 8) - 1;
    let h = height.clamp(1, 8) - 1;
    out.extend_from_slice(&[GS, b'!', (w << 4) | h]);
}

/// `ESC d n`: print and feed n lines.
pub fn feed(out: &mut Vec<u8>, lines: u8) {
    out.extend_from_slice(&[ESC, b'd', lines]);
}

/// `GS V 65|66 0`: feed to the cutter and cut (full or partial). Nothing for `None`.
pub fn cut(out: &mut Vec<u8>, mode: CutMode) {
    match mode {
        CutMode::Full => out.extend_from_slice(&[GS, b'V', 65, 0]),
        CutMode::Partial => out.extend_from_slice(&[GS, b'V', 66, 0]),
        CutMode::None => {}
    }
}

/// Pulse length of a drawer kick, in units of 2 ms (50 → 100 ms on, 100 ms off).
pub const DRAWER_PULSE: u8 = 50;

/// `ESC p m t1 t2`: drawer kick on pin 2 (m=0) or pin 5 (m=1). All five bytes, always: the
/// `escpos` crate's three-byte form opens no drawer.
pub fn drawer(out: &mut Vec<u8>, pin: u8) {
    let m = if pin == 5 { 1 } else { 0 };
    out.extend_from_slice(&[ESC, b'p', m, DRAWER_PULSE, DRAWER_PULSE]);
}

/// `DLE EOT n`: real-time status request (n = 1 printer, 2 offline cause, 3 error, 4 paper).
pub fn status_request(n: u8) -> [u8; 3] {
    [DLE, 0x04, n]
}

/// `GS ( k`: QR model 2, module size, ECC, store, print.
pub fn qr(out: &mut Vec<u8>, data: &[u8], size: u8, ecc: QrEcc) {
    out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, size.clamp(1, 16)]);
    let level = match ecc {
        QrEcc::L => 48,
        QrEcc::M => 49,
        QrEcc::Q => 50,
        QrEcc::H => 51,
    };
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, level]);
    let len = data.len() + 3;
    out.extend_from_slice(&[
        GS,
        b'(',
        b'k',
        (len % 256) as u8,
        (len / 256) as u8,
        49,
        80,
        48,
    ]);
    out.extend_from_slice(data);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
}

/// Most bytes a QR code may store (fn80's limit).
pub const QR_MAX: usize = 7089;

/// `GS H`, `GS h`, `GS w`, then `GS k m n data` (type B; CODE128 gets the `{B` code-set prefix).
pub fn barcode(out: &mut Vec<u8>, sym: Symbology, data: &[u8], height: u8, width: u8, hri: Hri) {
    let hri_n = match hri {
        Hri::None => 0,
        Hri::Above => 1,
        Hri::Below => 2,
        Hri::Both => 3,
    };
    out.extend_from_slice(&[GS, b'H', hri_n]);
    out.extend_from_slice(&[GS, b'h', height.max(1)]);
    out.extend_from_slice(&[GS, b'w', width.clamp(2, 6)]);
    let m = match sym {
        Symbology::UpcA => 65,
        Symbology::UpcE => 66,
        Symbology::Ean13 => 67,
        Symbology::Ean8 => 68,
        Symbology::Code39 => 69,
        Symbology::Itf => 70,
        Symbology::Codabar => 71,
        Symbology::Code93 => 72,
        Symbology::Code128 => 73,
    };
    let prefix: &[u8] = if sym == Symbology::Code128 {
        b"{B"
    } else {
        b""
    };
    out.extend_from_slice(&[GS, b'k', m, (prefix.len() + data.len()) as u8]);
    out.extend_from_slice(prefix);
    out.extend_from_slice(data);
}

/// `GS v 0 0 xL xH yL yH d…` in bands of at most [`BAND_ROWS`] rows.
pub fn raster(out: &mut Vec<u8>, bitmap: &Bitmap) {
    let xb = bitmap.row_bytes();
    let mut y = 0;
    while y < bitmap.height {
        let rows = (bitmap.height - y).min(BAND_ROWS);
        out.extend_from_slice(&[
            GS,
            b'v',
            b'0',
            0,
            (xb % 256) as u8,
            (xb / 256) as u8,
            (rows % 256) as u8,
            (rows / 256) as u8,
        ]);
        out.extend_from_slice(bitmap.band(y, y + rows));
        y += rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drawer_kick_has_all_five_bytes() {
        let mut v = Vec::new();
        drawer(&mut v, 2);
        drawer(&mut v, 5);
        assert_eq!(v, [0x1B, 0x70, 0, 50, 50, 0x1B, 0x70, 1, 50, 50]);
    }

    #[test]
    fn cuts_feed_to_the_cutter_first() {
        let mut v = Vec::new();
        cut(&mut v, CutMode::Full);
        cut(&mut v, CutMode::Partial);
        cut(&mut v, CutMode::None);
        assert_eq!(v, [0x1D, 0x56, 0x41, 0, 0x1D, 0x56, 0x42, 0]);
    }

    #[test]
    fn a_qr_code_stores_its_length_plus_three() {
        let mut v = Vec::new();
        qr(&mut v, b"hello", 6, QrEcc::M);
        assert_eq!(&v[..9], [0x1D, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0]);
        assert_eq!(&v[9..17], [0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x43, 6]);
        assert_eq!(&v[17..25], [0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x45, 0x31]);
        assert_eq!(&v[25..33], [0x1D, 0x28, 0x6B, 8, 0, 0x31, 0x50, 0x30]);
        assert_eq!(&v[33..38], b"hello");
        assert_eq!(&v[38..], [0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30]);
    }

    #[test]
    fn code128_gets_the_code_set_prefix_in_its_length() {
        let mut v = Vec::new();
        barcode(&mut v, Symbology::Code128, b"AB12", 80, 3, Hri::Below);
        assert_eq!(
            v,
            [
                0x1D, 0x48, 2, 0x1D, 0x68, 80, 0x1D, 0x77, 3, 0x1D, 0x6B, 73, 6, b'{', b'B', b'A',
                b'B', b'1', b'2'
            ]
        );
    }

    #[test]
    fn a_tall_raster_goes_in_bands_of_256_rows_of_72_bytes() {
        let bm = Bitmap {
            width: 576,
            height: 600,
            bits: vec![0xAA; 72 * 600],
        };
        let mut v = Vec::new();
        raster(&mut v, &bm);
        assert_eq!(&v[..8], [0x1D, 0x76, 0x30, 0, 72, 0, 0, 1]);
        let second = 8 + 72 * 256;
        assert_eq!(&v[second..second + 8], [0x1D, 0x76, 0x30, 0, 72, 0, 0, 1]);
        let third = second + 8 + 72 * 256;
        assert_eq!(&v[third..third + 8], [0x1D, 0x76, 0x30, 0, 72, 0, 88, 0]);
        assert_eq!(v.len(), 3 * 8 + 72 * 600);
    }

    #[test]
    fn size_packs_width_high_and_height_low() {
        let mut v = Vec::new();
        size(&mut v, 2, 3);
        assert_eq!(v, [0x1D, 0x21, 0x12]);
    }
}

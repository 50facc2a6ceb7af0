//! Grayscale → 1-bit: Floyd–Steinberg (default), Atkinson, or a plain threshold, packed MSB
//! first with 1 = black.
//!
//! Pure black and pure white pixels never pick up error, so a black-and-white image comes out
//! bit-exact whatever the method.

use super::{Bitmap, GrayImage};

/// Dithering method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dither {
    #[default]
    FloydSteinberg,
    Atkinson,
    /// Black below 128, white otherwise (sharpest text, no gray shades).
    Threshold,
}

impl Dither {
    pub fn parse(s: &str) -> Option<Dither> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "floydsteinberg" | "fs" | "floyd" => Some(Dither::FloydSteinberg),
            "atkinson" => Some(Dither::Atkinson),
            "threshold" | "none" => Some(Dither::Threshold),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dither::FloydSteinberg => "FLOYD_STEINBERG",
            Dither::Atkinson => "ATKINSON",
            Dither::Threshold => "THRESHOLD",
        }
    }
}

/// Dithers and packs `image`.
pub fn dither(image: &GrayImage, method: Dither) -> Bitmap {
    let w = image.width as usize;
    let h = image.height as usize;
    let row_bytes = w.div_ceil(8);
    let mut bits = vec![0u8; row_bytes * h];
    // Error rows: current, next, and the one after (Atkinson reaches two rows down).
    let mut rows: [Vec<i16>; 3] = [vec![0; w + 4], vec![0; w + 4], vec![0; w + 4]];
    for y in 0..h {
        let src = &image.pixels[y * w..(y + 1) * w];
        let out = &mut bits[y * row_bytes..(y + 1) * row_bytes];
        for x in 0..w {
            let old = src[x] as i16 + rows[0][x + 2];
            let black = old < 128;
            if black {
                out[x / 8] |= 0x80 >> (x % 8);
            }
            let err = old - if black { 0 } else { 255 };
            if err == 0 {
                continue;
            }
            match method {
                Dither::Threshold => {}
                Dither::FloydSteinberg => {
                    let i = x + 2;
                    rows[0][i + 1] += err * 7 / 16;
                    rows[1][i - 1] += err * 3 / 16;
                    rows[1][i] += err * 5 / 16;
                    rows[1][i + 1] += err / 16;
                }
                Dither::Atkinson => {
                    let e = err / 8;
                    let i = x + 2;
                    rows[0][i + 1] += e;
                    rows[0][i + 2] += e;
                    rows[1][i - 1] += e;
                    rows[1][i] += e;
                    rows[1][i + 1] += e;
                    rows[2][i] += e;
                }
            }
        }
        rows.rotate_left(1);
        rows[2].iter_mut().for_each(|e| *e = 0);
    }
    Bitmap {
        width: image.width,
        height: image.height,
        bits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern() -> GrayImage {
        let (w, h) = (19u32, 7u32);
        let pixels = (0..w * h)
            .map(|i| if (i * 7 + i / 3) % 5 < 2 { 0 } else { 255 })
            .collect();
        GrayImage {
            width: w,
            height: h,
            pixels,
        }
    }

    #[test]
    fn pure_black_and_white_is_bit_exact_with_every_method() {
        let img = pattern();
        for m in [Dither::FloydSteinberg, Dither::Atkinson, Dither::Threshold] {
            let b = dither(&img, m);
            assert_eq!(b.row_bytes(), 3);
            for y in 0..img.height {
                for x in 0..img.width {
                    assert_eq!(b.is_black(x, y), img.get(x, y) == 0, "{m:?} at {x},{y}");
                }
            }
        }
    }

    #[test]
    fn mid_gray_comes_out_about_half_black_when_dithered() {
        let img = GrayImage {
            width: 64,
            height: 64,
            pixels: vec![128; 64 * 64],
        };
        let fs = dither(&img, Dither::FloydSteinberg);
        let black: u32 = fs.bits.iter().map(|b| b.count_ones()).sum();
        assert!((1800..2300).contains(&black), "{black}");
        let th = dither(&img, Dither::Threshold);
        assert!(th.bits.iter().all(|&b| b == 0), "128 is white by threshold");
    }

    #[test]
    fn padding_bits_at_the_end_of_a_row_stay_white() {
        let img = GrayImage {
            width: 10,
            height: 1,
            pixels: vec![0; 10],
        };
        let b = dither(&img, Dither::Threshold);
        assert_eq!(b.bits, vec![0xFF, 0xC0]);
    }
}

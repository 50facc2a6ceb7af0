//! Rasters: an 8-bit grayscale image at the printer's exact dot width, and the packed 1-bit
//! bitmap the printer receives (MSB = leftmost dot, 1 = black, rows padded to whole bytes).
//!
//! `scale.rs` fits an image to the printer width, `dither.rs` turns gray into black and white.
//! Nothing here knows a command set.

pub mod dither;
pub mod scale;

pub use dither::Dither;

/// An 8-bit grayscale image, 0 = black, 255 = white, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl GrayImage {
    /// A white image.
    pub fn white(width: u32, height: u32) -> Self {
        GrayImage {
            width,
            height,
            pixels: vec![255; width as usize * height as usize],
        }
    }

    pub fn get(&self, x: u32, y: u32) -> u8 {
        self.pixels[(y * self.width + x) as usize]
    }

    /// Copies `other` onto this image with its top-left corner at `(x, y)`, clipping.
    pub fn paste(&mut self, other: &GrayImage, x: u32, y: u32) {
        for oy in 0..other.height {
            let ty = y + oy;
            if ty >= self.height {
                break;
            }
            for ox in 0..other.width {
                let tx = x + ox;
                if tx >= self.width {
                    break;
                }
                self.pixels[(ty * self.width + tx) as usize] = other.get(ox, oy);
            }
        }
    }

    /// Drops white rows at the bottom (a rendered page is often taller than its content),
    /// keeping at least one row.
    pub fn trim_bottom(&mut self) {
        let w = self.width as usize;
        let mut h = self.height as usize;
        while h > 1 && self.pixels[(h - 1) * w..h * w].iter().all(|&p| p >= 250) {
            h -= 1;
        }
        self.height = h as u32;
        self.pixels.truncate(h * w);
    }
}

/// A 1-bit image as the printer takes it: `width` dots, rows of `ceil(width/8)` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    /// Row-major, MSB first, 1 = black.
    pub bits: Vec<u8>,
}

impl Bitmap {
    /// Bytes per row.
    pub fn row_bytes(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// Whether the dot at `(x, y)` is black.
    pub fn is_black(&self, x: u32, y: u32) -> bool {
        let byte = self.bits[y as usize * self.row_bytes() + (x / 8) as usize];
        byte & (0x80 >> (x % 8)) != 0
    }

    /// Rows `from..to` as their own bitmap (for printing in bands).
    pub fn band(&self, from: u32, to: u32) -> &[u8] {
        let rb = self.row_bytes();
        &self.bits[from as usize * rb..to as usize * rb]
    }
}

/// Gray → fitted to `width` dots → dithered → packed: the whole raster path for one image.
pub fn to_bitmap(image: &GrayImage, width: u32, fit: scale::Fit, dither: Dither) -> Bitmap {
    let fitted = scale::fit_to_width(image, width, fit);
    dither::dither(&fitted, dither)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_keeps_content_and_drops_the_white_tail() {
        let mut img = GrayImage::white(4, 5);
        img.pixels[4 + 1] = 0;
        img.trim_bottom();
        assert_eq!(img.height, 2);
        let mut blank = GrayImage::white(4, 3);
        blank.trim_bottom();
        assert_eq!(blank.height, 1);
    }

    #[test]
    fn bitmap_rows_are_msb_first() {
        let b = Bitmap {
            width: 10,
            height: 1,
            bits: vec![0b1000_0000, 0b0100_0000],
        };
        assert_eq!(b.row_bytes(), 2);
        assert!(b.is_black(0, 0));
        assert!(!b.is_black(1, 0));
        assert!(b.is_black(9, 0));
    }
}

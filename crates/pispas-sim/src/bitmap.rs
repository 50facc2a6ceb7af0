//! A 1-bit image as the printer would burn it (true = black dot), decoded from raster data,
//! and its PNG form for people to look at. It does not scale or dither anything.

/// Row-major dots, `bits[y * width + x]`, true = black.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: usize,
    pub height: usize,
    pub bits: Vec<bool>,
}

impl std::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Bitmap({}x{}, {} black)",
            self.width,
            self.height,
            self.black_dots()
        )
    }
}

impl Bitmap {
    /// Decodes raster rows of `row_bytes` bytes each (MSB = leftmost dot, 1 = black), as
    /// `GS v 0` sends them. `width` is the dot width to keep (≤ row_bytes × 8); a short `data`
    /// leaves the missing dots white.
    pub fn from_raster(width: usize, row_bytes: usize, height: usize, data: &[u8]) -> Bitmap {
        let width = width.min(row_bytes * 8);
        let mut bits = vec![false; width * height];
        for y in 0..height {
            for x in 0..width {
                let byte = data.get(y * row_bytes + x / 8).copied().unwrap_or(0);
                bits[y * width + x] = byte & (0x80 >> (x % 8)) != 0;
            }
        }
        Bitmap {
            width,
            height,
            bits,
        }
    }

    /// Decodes `ESC *` column data: `columns` columns of `bytes_per_column` bytes (1 for
    /// 8-dot modes, 3 for 24-dot), MSB = top dot.
    pub fn from_columns(columns: usize, bytes_per_column: usize, data: &[u8]) -> Bitmap {
        let height = bytes_per_column * 8;
        let mut bits = vec![false; columns * height];
        for x in 0..columns {
            for y in 0..height {
                let byte = data.get(x * bytes_per_column + y / 8).copied().unwrap_or(0);
                bits[y * columns + x] = byte & (0x80 >> (y % 8)) != 0;
            }
        }
        Bitmap {
            width: columns,
            height,
            bits,
        }
    }

    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.bits[y * self.width + x]
    }

    pub fn black_dots(&self) -> usize {
        self.bits.iter().filter(|b| **b).count()
    }

    /// Appends another bitmap of the same width below this one (a further band).
    pub fn stack(&mut self, below: &Bitmap) {
        debug_assert_eq!(self.width, below.width);
        self.bits.extend_from_slice(&below.bits);
        self.height += below.height;
    }

    /// Packs rows MSB-first, (width+7)/8 bytes a row, 1 = black: the `GS v 0` layout.
    pub fn to_raster(&self) -> Vec<u8> {
        let row_bytes = self.width.div_ceil(8);
        let mut out = vec![0u8; row_bytes * self.height];
        for y in 0..self.height {
            for x in 0..self.width {
                if self.bits[y * self.width + x] {
                    out[y * row_bytes + x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        out
    }

    /// A 1-bit grayscale PNG (black dots black on white). An empty bitmap gives a 1×1 white
    /// PNG, since PNG has no zero-sized images.
    pub fn to_png(&self) -> Vec<u8> {
        let (width, height) = if self.width == 0 || self.height == 0 {
            (1, 1)
        } else {
            (self.width, self.height)
        };
        // PNG grayscale 1-bit: 1 = white, so invert the raster bits.
        let mut rows = vec![0xFFu8; width.div_ceil(8) * height];
        if self.width > 0 && self.height > 0 {
            for (i, byte) in self.to_raster().into_iter().enumerate() {
                rows[i] = !byte;
            }
        }
        let mut out = Vec::new();
        let w = u32::try_from(width).unwrap_or(u32::MAX);
        let h = u32::try_from(height).unwrap_or(u32::MAX);
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        // Writing into a Vec cannot fail for a correctly sized buffer; an error would leave
        // an empty Vec, which callers see as "no PNG".
        if let Ok(mut writer) = encoder.write_header() {
            if writer.write_image_data(&rows).is_err() {
                return Vec::new();
            }
            let _ = writer.finish();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msb_is_the_leftmost_dot_and_one_is_black() {
        let b = Bitmap::from_raster(16, 2, 1, &[0x80, 0x01]);
        assert!(b.get(0, 0));
        assert!(!b.get(1, 0));
        assert!(b.get(15, 0));
        assert_eq!(b.black_dots(), 2);
    }

    #[test]
    fn raster_round_trips() {
        let data = [0xA5, 0x3C, 0xFF, 0x00];
        let b = Bitmap::from_raster(16, 2, 2, &data);
        assert_eq!(b.to_raster(), data);
    }

    #[test]
    fn png_has_the_signature_and_decodes_to_the_same_size() {
        let b = Bitmap::from_raster(8, 1, 2, &[0xF0, 0x0F]);
        let png_bytes = b.to_png();
        assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let reader = decoder.read_info().expect("png header");
        assert_eq!((reader.info().width, reader.info().height), (8, 2));
    }
}

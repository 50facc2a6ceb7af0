//! Decoding PNG and JPEG into grayscale (alpha over white), the input of the raster path.
//!
//! It does not scale or dither; `raster/` does. Huge images are refused before decoding so a
//! hostile file cannot exhaust memory.

use super::RenderError;
use crate::modules::print::raster::GrayImage;

/// Largest image accepted, in pixels (about 16,000 × 2,000).
const MAX_PIXELS: u64 = 32_000_000;

/// Decodes PNG or JPEG bytes.
///
/// Fails when the bytes are neither, the image is corrupt, or it is larger than the limit.
pub fn decode_image(bytes: &[u8]) -> Result<GrayImage, RenderError> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| RenderError::Image(e.to_string()))?;
    match reader.format() {
        Some(image::ImageFormat::Png | image::ImageFormat::Jpeg) => {}
        _ => return Err(RenderError::Image("not a PNG or JPEG image".into())),
    }
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| RenderError::Image(e.to_string()))?;
    if w == 0 || h == 0 || w as u64 * h as u64 > MAX_PIXELS {
        return Err(RenderError::Image(format!(
            "image is {w}×{h}; at most {MAX_PIXELS} pixels are accepted"
        )));
    }
    let decoded = image::load_from_memory(bytes).map_err(|e| RenderError::Image(e.to_string()))?;
    let rgba = decoded.to_rgba8();
    let pixels = rgba
        .pixels()
        .map(|p| {
            let [r, g, b, a] = p.0;
            // ITU-R BT.601 luma, composited over white paper.
            let luma = (299 * r as u32 + 587 * g as u32 + 114 * b as u32) / 1000;
            let a = a as u32;
            ((luma * a + 255 * (255 - a)) / 255) as u8
        })
        .collect();
    Ok(GrayImage {
        width: w,
        height: h,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(img: image::DynamicImage) -> Vec<u8> {
        let mut buf = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png)
            .unwrap();
        buf
    }

    #[test]
    fn black_and_white_pixels_decode_exactly() {
        let mut g = image::GrayImage::from_pixel(3, 2, image::Luma([255]));
        g.put_pixel(1, 1, image::Luma([0]));
        let out = decode_image(&png(image::DynamicImage::ImageLuma8(g))).unwrap();
        assert_eq!(out.pixels, vec![255, 255, 255, 255, 0, 255]);
    }

    #[test]
    fn transparency_is_paper_white() {
        let img = image::RgbaImage::from_pixel(2, 1, image::Rgba([0, 0, 0, 0]));
        let out = decode_image(&png(image::DynamicImage::ImageRgba8(img))).unwrap();
        assert_eq!(out.pixels, vec![255, 255]);
    }

    #[test]
    fn garbage_and_other_formats_are_refused() {
        assert!(decode_image(b"not an image").is_err());
        assert!(decode_image(b"GIF89a\x01\x00\x01\x00").is_err());
    }
}

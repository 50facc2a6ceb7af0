//! Fitting a grayscale image to the printer's dot width.
//!
//! Scaling uses area averaging (each output dot is the mean of the source area it covers), which
//! keeps thin lines visible when shrinking and is exact when no scaling is needed: an image that
//! is already as wide as the printer passes through untouched, pixel for pixel.

use super::GrayImage;

/// How an image that is not exactly the printer's width is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    /// Scale up or down to exactly the printer width.
    Width,
    /// Shrink images wider than the printer; centre narrower ones at their own size (logos stay
    /// crisp). The default.
    #[default]
    Shrink,
    /// Never scale: centre narrower images, crop wider ones.
    None,
}

impl Fit {
    pub fn parse(s: &str) -> Option<Fit> {
        match s.trim().to_ascii_lowercase().as_str() {
            "width" | "fit" | "stretch" => Some(Fit::Width),
            "shrink" => Some(Fit::Shrink),
            "none" | "no" | "off" => Some(Fit::None),
            _ => None,
        }
    }
}

/// An image exactly `width` dots wide: resized per `fit`, centred on white when narrower.
pub fn fit_to_width(image: &GrayImage, width: u32, fit: Fit) -> GrayImage {
    if image.width == width || image.width == 0 || image.height == 0 {
        return if image.width == width {
            image.clone()
        } else {
            GrayImage::white(width, 1)
        };
    }
    let target_w = match fit {
        Fit::Width => width,
        Fit::Shrink => image.width.min(width),
        Fit::None => image.width,
    };
    let scaled = if target_w == image.width {
        image.clone()
    } else {
        let h = ((image.height as u64 * target_w as u64 + image.width as u64 / 2)
            / image.width as u64)
            .max(1) as u32;
        resize(image, target_w, h)
    };
    if scaled.width == width {
        return scaled;
    }
    let mut canvas = GrayImage::white(width, scaled.height);
    if scaled.width < width {
        canvas.paste(&scaled, (width - scaled.width) / 2, 0);
    } else {
        let left = (scaled.width - width) / 2;
        for y in 0..scaled.height {
            let src = (y * scaled.width + left) as usize;
            let dst = (y * width) as usize;
            canvas.pixels[dst..dst + width as usize]
                .copy_from_slice(&scaled.pixels[src..src + width as usize]);
        }
    }
    canvas
}

/// Area-averaging resize to `w` × `h` (separable: rows, then columns).
pub fn resize(image: &GrayImage, w: u32, h: u32) -> GrayImage {
    let horizontal = resample_axis(&image.pixels, image.width, image.height, w, true);
    let pixels = resample_axis(&horizontal, w, image.height, h, false);
    GrayImage {
        width: w,
        height: h,
        pixels,
    }
}

/// Resamples along one axis. `src` is `sw` × `sh`; the result has `n` samples on that axis.
fn resample_axis(src: &[u8], sw: u32, sh: u32, n: u32, along_x: bool) -> Vec<u8> {
    let (len, lines) = if along_x { (sw, sh) } else { (sh, sw) };
    let (out_w, out_h) = if along_x { (n, sh) } else { (sw, n) };
    let mut out = vec![255u8; out_w as usize * out_h as usize];
    let ratio = len as f32 / n as f32;
    for i in 0..n {
        let start = i as f32 * ratio;
        let end = (start + ratio).min(len as f32);
        // Upscaling: sample the nearest source (box of width < 1).
        let (a, b) = if ratio < 1.0 {
            let c = ((start + ratio / 2.0) as u32).min(len - 1);
            (c as f32, c as f32 + 1.0)
        } else {
            (start, end)
        };
        for line in 0..lines {
            let mut sum = 0f32;
            let mut weight = 0f32;
            let mut p = a.floor() as u32;
            while (p as f32) < b && p < len {
                let lo = (p as f32).max(a);
                let hi = (p as f32 + 1.0).min(b);
                let wgt = hi - lo;
                let idx = if along_x {
                    line * sw + p
                } else {
                    p * sw + line
                };
                sum += src[idx as usize] as f32 * wgt;
                weight += wgt;
                p += 1;
            }
            let v = if weight > 0.0 { sum / weight } else { 255.0 };
            let idx = if along_x {
                line * out_w + i
            } else {
                i * out_w + line
            };
            out[idx as usize] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: u32, h: u32, v: u8) -> GrayImage {
        GrayImage {
            width: w,
            height: h,
            pixels: vec![v; (w * h) as usize],
        }
    }

    #[test]
    fn an_image_of_the_printer_width_passes_through_untouched() {
        let mut i = img(576, 3, 200);
        i.pixels[5] = 0;
        assert_eq!(fit_to_width(&i, 576, Fit::Width), i);
    }

    #[test]
    fn a_wide_image_shrinks_to_exactly_the_width_keeping_its_aspect() {
        let out = fit_to_width(&img(1152, 100, 0), 576, Fit::Shrink);
        assert_eq!((out.width, out.height), (576, 50));
        assert!(out.pixels.iter().all(|&p| p == 0));
    }

    #[test]
    fn a_narrow_logo_is_centred_at_its_own_size() {
        let out = fit_to_width(&img(100, 10, 0), 576, Fit::Shrink);
        assert_eq!((out.width, out.height), (576, 10));
        assert_eq!(out.get(237, 0), 255);
        assert_eq!(out.get(238, 0), 0);
        assert_eq!(out.get(337, 0), 0);
        assert_eq!(out.get(338, 0), 255);
    }

    #[test]
    fn fit_width_scales_up() {
        let out = fit_to_width(&img(288, 10, 0), 576, Fit::Width);
        assert_eq!((out.width, out.height), (576, 20));
        assert!(out.pixels.iter().all(|&p| p == 0));
    }

    #[test]
    fn averaging_halves_a_checkerboard_to_gray() {
        let mut i = img(4, 2, 255);
        for (n, p) in i.pixels.iter_mut().enumerate() {
            if (n + n / 4) % 2 == 0 {
                *p = 0;
            }
        }
        let out = resize(&i, 2, 1);
        assert_eq!(out.pixels, vec![128, 128]);
    }
}

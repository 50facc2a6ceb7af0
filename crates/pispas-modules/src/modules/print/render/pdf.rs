//! PDF → grayscale rasters with pdfium, every page at exactly the printer's dot width.
//!
//! pdfium is loaded once per process (it cannot be bound twice) from PDFIUM_PATH, the app's
//! resources, or the system (`locate.rs`). It is not thread-safe, so renders are serialised and
//! run on the blocking pool. Pages are rendered as BGRx with grayscale on and one channel taken:
//! asking pdfium for its Gray format aborts the process (a CHECK in its AGG driver).

use super::locate::PdfiumSearch;
use super::RenderError;
use crate::modules::print::raster::GrayImage;
use pdfium_render::prelude::*;
use std::sync::{Mutex, OnceLock};

/// Tallest page raster accepted, in dots (a 2-metre receipt).
const MAX_PAGE_DOTS: i32 = 16_000;

static PDFIUM: OnceLock<Result<Mutex<Pdfium>, String>> = OnceLock::new();

/// Binds pdfium on first use; later calls return the same result.
fn pdfium(candidates: &PdfiumSearch) -> Result<&'static Mutex<Pdfium>, RenderError> {
    PDFIUM
        .get_or_init(|| bind(candidates).map(Mutex::new))
        .as_ref()
        .map_err(|e| RenderError::PdfiumMissing(e.clone()))
}

fn bind(candidates: &PdfiumSearch) -> Result<Pdfium, String> {
    let mut tried = Vec::new();
    for path in &candidates.paths {
        if !path.is_file() {
            tried.push(path.display().to_string());
            continue;
        }
        match Pdfium::bind_to_library(path) {
            Ok(bindings) => {
                tracing::info!(path = %path.display(), "pdfium loaded");
                return Ok(Pdfium::new(bindings));
            }
            Err(e) => tried.push(format!("{} ({e})", path.display())),
        }
    }
    if !candidates.system {
        return Err(format!(
            "pdfium could not be loaded from PDFIUM_PATH {}: point it at libpdfium (the app bundles one) or remove it",
            tried.join(", ")
        ));
    }
    match Pdfium::bind_to_system_library() {
        Ok(bindings) => Ok(Pdfium::new(bindings)),
        Err(e) => Err(format!(
            "pdfium not found (tried {}; system library: {e}). Set PDFIUM_PATH to libpdfium (pip install pypdfium2 ships one) or reinstall the app",
            if tried.is_empty() { "nothing".to_string() } else { tried.join(", ") }
        )),
    }
}

/// Whether pdfium can be loaded (binds it if not yet bound).
pub fn available(candidates: &PdfiumSearch) -> Result<(), RenderError> {
    pdfium(candidates).map(|_| ())
}

/// Renders pages of `pdf` at `width` dots, at most `max_pages` of them. Blocking: call it from
/// the blocking pool.
///
/// Fails when pdfium is missing, the bytes are not a PDF (or are encrypted), or the document has
/// more pages than allowed.
pub fn render_pdf(
    pdf: &[u8],
    width: u32,
    max_pages: u32,
    candidates: &PdfiumSearch,
) -> Result<Vec<GrayImage>, RenderError> {
    let lock = pdfium(candidates)?;
    let pdfium = lock
        .lock()
        .map_err(|_| RenderError::Pdf("a previous render panicked".into()))?;
    let doc = pdfium
        .load_pdf_from_byte_slice(pdf, None)
        .map_err(|e| RenderError::Pdf(format!("not a readable PDF: {e}")))?;
    let pages = doc.pages();
    let count = pages.len() as u32;
    if count == 0 {
        return Err(RenderError::Pdf("the PDF has no pages".into()));
    }
    if count > max_pages {
        return Err(RenderError::TooLarge(format!(
            "the PDF has {count} pages; at most {max_pages} are printed (PRINT_MAX_PAGES)"
        )));
    }
    let config = PdfRenderConfig::new()
        .set_target_width(width as i32)
        .set_maximum_height(MAX_PAGE_DOTS)
        .set_format(PdfBitmapFormat::BGRx)
        .use_grayscale_rendering(true)
        .use_print_quality(true)
        .render_form_data(true)
        .set_clear_color(PdfColor::WHITE);
    let mut out = Vec::with_capacity(count as usize);
    for page in pages.iter() {
        let bitmap = page
            .render_with_config(&config)
            .map_err(|e| RenderError::Pdf(format!("page render failed: {e}")))?;
        out.push(to_gray(
            &bitmap.as_raw_bytes(),
            bitmap.width(),
            bitmap.height(),
            width,
        )?);
    }
    Ok(out)
}

/// One channel of a BGRx buffer (all three are equal with grayscale rendering), placed on a
/// canvas exactly `width` wide (pdfium may round the page's width by a dot).
fn to_gray(raw: &[u8], w: i32, h: i32, width: u32) -> Result<GrayImage, RenderError> {
    let (w, h) = (w.max(0) as usize, h.max(0) as usize);
    if h == 0 || raw.len() < w * h * 4 {
        return Err(RenderError::Pdf("pdfium returned an empty bitmap".into()));
    }
    let stride = raw.len() / h;
    let mut img = GrayImage::white(width, h as u32);
    let copy = w.min(width as usize);
    for y in 0..h {
        let row = &raw[y * stride..];
        let dst = &mut img.pixels[y * width as usize..y * width as usize + copy];
        for (x, d) in dst.iter_mut().enumerate() {
            *d = row[x * 4 + 1];
        }
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bgrx_buffer_with_stride_padding_becomes_one_gray_channel() {
        // 2×2 pixels, stride 12 (4 bytes of padding per row).
        let raw = [
            0, 0, 0, 255, 9, 9, 9, 255, 0, 0, 0, 0, //
            200, 200, 200, 255, 50, 50, 50, 255, 0, 0, 0, 0,
        ];
        let g = to_gray(&raw, 2, 2, 3).unwrap();
        assert_eq!(g.pixels, vec![0, 9, 255, 200, 50, 255]);
    }
}

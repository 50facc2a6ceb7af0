//! Rendering documents to grayscale rasters at the printer's width: HTML through a warm
//! headless browser to PDF (`html.rs`), PDF through pdfium (`pdf.rs`), PNG/JPEG (`image.rs`).
//! `locate.rs` finds the browser and pdfium.
//!
//! Everything here ends in [`GrayImage`]s exactly `width` dots wide; dithering and encoding are
//! elsewhere.

pub mod browser_guard;
#[cfg(windows)]
mod browser_guard_windows;
pub mod fetch;
pub mod html;
pub mod image;
pub mod locate;
pub mod pdf;
pub mod pdf_worker;

use super::raster::GrayImage;
use std::path::PathBuf;
use std::time::Duration;

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    BrowserMissing(String),
    #[error("browser: {0}")]
    Browser(String),
    #[error("rendering took longer than {0:?} (a resource that never loads, or a script that never ends)")]
    Timeout(Duration),
    #[error("{0}")]
    PdfiumMissing(String),
    #[error("PDF: {0}")]
    Pdf(String),
    #[error("image: {0}")]
    Image(String),
    #[error("{0}")]
    TooLarge(String),
}

/// Limits and paths for rendering.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    pub chrome_path: Option<PathBuf>,
    /// What HTML receipts may do (scripts, subresources).
    pub html: html::HtmlPolicy,
    pub pdfium_path: Option<PathBuf>,
    pub timeout: Duration,
    pub max_pages: u32,
}

/// Renders documents; a cheap clone sharing one warm browser.
#[derive(Clone)]
pub struct Renderer {
    pub html: html::HtmlRenderer,
    /// PDF renders in a worker process, when the program running the engine offers one.
    worker: Option<std::sync::Arc<pdf_worker::WorkerPool>>,
    pdfium: std::sync::Arc<locate::PdfiumSearch>,
    settings: std::sync::Arc<RenderSettings>,
}

impl Renderer {
    pub fn new(settings: RenderSettings) -> Self {
        Renderer {
            html: html::HtmlRenderer::new(settings.chrome_path.clone(), settings.html.clone()),
            worker: pdf_worker::worker_exe().map(|exe| {
                std::sync::Arc::new(pdf_worker::WorkerPool::new(
                    exe,
                    settings.pdfium_path.clone(),
                ))
            }),
            pdfium: std::sync::Arc::new(locate::pdfium_candidates(settings.pdfium_path.as_deref())),
            settings: std::sync::Arc::new(settings),
        }
    }

    /// Binds pdfium off the runtime (for start-up checks and warming).
    pub async fn check_pdfium(&self) -> Result<(), RenderError> {
        let paths = self.pdfium.clone();
        tokio::task::spawn_blocking(move || pdf::available(&paths))
            .await
            .map_err(|e| RenderError::Pdf(e.to_string()))?
    }

    /// HTML → one raster `width` dots wide, laid out `css_width` CSS pixels wide.
    ///
    /// Fails as [`html::HtmlRenderer::render_pdf`] and [`Renderer::raster_pdf`] do.
    pub async fn raster_html(
        &self,
        html: &str,
        width: u32,
        css_width: u32,
    ) -> Result<GrayImage, RenderError> {
        let pdf = self
            .html
            .render_pdf(html, css_width, width, self.settings.timeout)
            .await?;
        let pages = self.raster_pdf(pdf, width).await?;
        let mut image = stack(pages, width);
        image.trim_bottom();
        Ok(image)
    }

    /// Every page of a PDF at `width` dots, each trimmed of its blank bottom.
    ///
    /// Fails when pdfium is missing, the PDF is unreadable or has more than PRINT_MAX_PAGES pages.
    pub async fn raster_pdf(
        &self,
        pdf: Vec<u8>,
        width: u32,
    ) -> Result<Vec<GrayImage>, RenderError> {
        let max_pages = self.settings.max_pages;
        let timeout = self.settings.timeout;
        if let Some(worker) = &self.worker {
            return worker.render(&pdf, width, max_pages, timeout).await;
        }
        // In-process (no worker program): the same timeout, though a render that never ends
        // keeps its thread.
        let paths = self.pdfium.clone();
        let render =
            tokio::task::spawn_blocking(move || pdf::render_pdf(&pdf, width, max_pages, &paths));
        match tokio::time::timeout(timeout, render).await {
            Ok(done) => done.map_err(|e| RenderError::Pdf(format!("render task failed: {e}")))?,
            Err(_) => Err(RenderError::Timeout(timeout)),
        }
    }

    /// The PDF worker's process id, when PDFs render in one and it is running.
    pub async fn pdf_worker_pid(&self) -> Option<u32> {
        match &self.worker {
            Some(w) => w.pid().await,
            None => None,
        }
    }
}

/// Pages one under the other.
pub fn stack(pages: Vec<GrayImage>, width: u32) -> GrayImage {
    if pages.len() == 1 {
        if let Some(p) = pages.into_iter().next() {
            return p;
        }
        return GrayImage::white(width, 1);
    }
    let height = pages.iter().map(|p| p.height).sum::<u32>().max(1);
    let mut out = GrayImage::white(width, height);
    let mut y = 0;
    for p in &pages {
        out.paste(p, 0, y);
        y += p.height;
    }
    out
}

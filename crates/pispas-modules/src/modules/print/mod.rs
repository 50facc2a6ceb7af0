//! PRINT: receipt printers by URI, every format (RAW, TEXT, RECEIPT, HTML, PDF, IMAGE) through
//! one pipeline — render → raster at the printer's exact width → dither → ESC/POS → transport —
//! with a durable, idempotent per-printer queue in the middle.
//!
//! Seams: `printer.rs`/`uri.rs` (configuration), `document.rs` (formats and options),
//! `receipt.rs` (the RECEIPT model), `render/` (browser, pdfium, images), `raster/`, `codepage.rs`,
//! `escpos/`, `program.rs` (the device-independent program), `transport/`, `queue/`,
//! `discovery.rs` (LAN probe), `service.rs` (actions), `error.rs` (FAILURE codes).

pub mod codepage;
pub mod discovery;
pub mod document;
pub mod error;
pub mod escpos;
pub mod printer;
pub mod program;
pub mod queue;
pub mod raster;
pub mod receipt;
pub mod render;
pub mod service;
pub mod transport;
pub mod uri;

use crate::modules::ModuleContext;
use printer::PrintConfig;
use queue::store::JobStore;
use queue::Queue;
use render::{RenderSettings, Renderer};
pub use service::Print;
use std::sync::Arc;

impl Print {
    /// Reads the configuration, resumes (or expires) jobs left from a previous run, starts one
    /// worker per printer and, when printers are configured, warms the browser in the background.
    ///
    /// Fails with `KEY: message` when a PRINT setting is invalid, or when the queue's table
    /// cannot be opened.
    pub fn start(ctx: &ModuleContext) -> Result<Print, String> {
        let config = Arc::new(PrintConfig::from_env(&ctx.config).map_err(|e| e.to_string())?);
        let store = JobStore::open(ctx.store.clone()).map_err(|e| format!("print queue: {e}"))?;
        let renderer = Renderer::new(RenderSettings {
            chrome_path: config.chrome_path.clone(),
            pdfium_path: config.pdfium_path.clone(),
            timeout: config.render_timeout,
            max_pages: config.max_pages,
        });
        let queue = Queue::start(
            store,
            ctx.events.clone(),
            renderer.clone(),
            config.clone(),
            &ctx.tracker,
            ctx.shutdown.clone(),
        )
        .map_err(|e| format!("print queue: {e}"))?;
        if config.prewarm && !config.printers.is_empty() {
            let r = renderer.clone();
            ctx.tracker.spawn(async move {
                if let Err(e) = r.check_pdfium().await {
                    tracing::warn!("PDF printing unavailable: {e}");
                }
                if let Err(e) = r.html.warm_up().await {
                    tracing::warn!("HTML printing unavailable until fixed: {e}");
                }
            });
        }
        let shutdown = ctx.shutdown.clone();
        ctx.tracker.spawn(async move {
            shutdown.cancelled().await;
            renderer.html.shut_down().await;
        });
        tracing::info!(printers = ?config.printers.keys().collect::<Vec<_>>(), default = ?config.default_printer, "PRINT ready");
        Ok(Print { queue, config })
    }
}

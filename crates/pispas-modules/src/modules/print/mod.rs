//! PRINT: receipt printers by URI, every format (RAW, TEXT, RECEIPT, HTML, PDF, IMAGE) through
//! one pipeline — render → raster at the printer's exact width → dither → ESC/POS → transport —
//! with a durable, idempotent per-printer queue in the middle.
//!
//! Seams: `printer.rs`/`uri.rs` (configuration), `document.rs` (formats and options),
//! `receipt.rs` (the RECEIPT model), `render/` (browser, pdfium, images), `raster/`, `codepage.rs`,
//! `escpos/`, `program.rs` (the device-independent program), `transport/`, `queue/`,
//! `discovery.rs` (LAN probe), `service/` (actions), `state.rs` (a printer's condition),
//! `error.rs` (FAILURE codes).

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
pub mod state;
mod test_page;
pub mod transport;
pub mod uri;

use crate::context::{ModuleContext, ModuleError};
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
    pub fn start(ctx: &ModuleContext) -> Result<Print, ModuleError> {
        let config = Arc::new(
            PrintConfig::from_env(&ctx.config).map_err(|e| ModuleError::Config(e.to_string()))?,
        );
        let store = JobStore::open(ctx.store.clone())?;
        let renderer = Renderer::new(RenderSettings {
            chrome_path: config.chrome_path.clone(),
            html: config.html.clone(),
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
        )?;
        if config.prewarm && !config.printers.is_empty() {
            let r = renderer.clone();
            ctx.tracker.spawn(async move {
                let (pdfium, browser) = tokio::join!(r.check_pdfium(), r.html.warm_up());
                if let Err(e) = pdfium {
                    tracing::warn!("PDF printing unavailable: {e}");
                }
                match browser {
                    // One throw-away receipt through the whole path: the first real one then
                    // finds fonts, the PDF printer and pdfium already warm.
                    Ok(()) => {
                        if let Err(e) = r.raster_html("<p>Pispas</p>", 576, 576).await {
                            tracing::warn!("HTML warm-up render failed: {e}");
                        }
                    }
                    Err(e) => tracing::warn!("HTML printing unavailable until fixed: {e}"),
                }
            });
        }
        let shutdown = ctx.shutdown.clone();
        ctx.tracker.spawn(async move {
            shutdown.cancelled().await;
            renderer.html.shut_down().await;
        });
        tracing::info!(printers = ?config.printers.keys().collect::<Vec<_>>(), default = ?config.default_printer, "PRINT ready");
        let system = transport::spooler::Installed::default();
        // Jobs left for an OS printer that is not configured resume once it is found again.
        let (q, sys) = (queue.clone(), system.clone());
        ctx.tracker.spawn(async move {
            for printer in q.orphaned_printers().await {
                if sys.has(&printer).await {
                    if let Ok(config) = printer::spooler_printer(&printer) {
                        q.ensure_slot(&config);
                    }
                }
            }
        });
        Ok(Print {
            queue,
            config,
            system,
        })
    }
}

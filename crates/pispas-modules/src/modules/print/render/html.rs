//! HTML → PDF with a warm headless Chromium-family browser over CDP (chromiumoxide).
//!
//! One browser and one page are kept warm; documents are written into that page (an about:blank
//! origin, which cannot read `file://`), and every request the page makes is intercepted:
//! only http(s) goes through, so `file://` and other local schemes are refused twice over. A
//! render that fails or times out throws the page away; a browser that died is relaunched on the
//! next render. The layout is `css_width` CSS pixels wide (default: one CSS pixel per dot) and the
//! PDF page is exactly as tall as the content, so pdfium gets one page per receipt.

use super::RenderError;
use chromiumoxide::cdp::browser_protocol::emulation::{
    SetDeviceMetricsOverrideParams, SetEmulatedMediaParams,
};
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, FailRequestParams, RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::cdp::browser_protocol::page::PrintToPdfParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures_util::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// Dots per inch of a thermal receipt printer (8 dots per mm).
const PRINTER_DPI: f64 = 203.2;
/// CSS pixels per inch.
const CSS_DPI: f64 = 96.0;
/// Tallest PDF page Chromium is asked for, in inches (PDF's own limit is 200).
const MAX_PAGE_INCHES: f64 = 199.0;

/// Resolves the content height once web fonts are in.
const HEIGHT_JS: &str = "document.fonts.ready.then(() => Math.ceil(Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)))";

/// The warm browser; a cheap clone.
#[derive(Clone)]
pub struct HtmlRenderer {
    inner: Arc<Inner>,
}

struct Inner {
    browser_path: Option<PathBuf>,
    warm: Mutex<Option<Warm>>,
}

struct Warm {
    browser: Browser,
    page: Option<Page>,
    handler: JoinHandle<()>,
    user_data_dir: PathBuf,
    pid: Option<u32>,
}

impl Drop for Warm {
    fn drop(&mut self) {
        self.handler.abort();
        // The browser process is killed when `browser` drops (kill_on_drop); its profile goes.
        let dir = self.user_data_dir.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            let _ = std::fs::remove_dir_all(dir);
        });
    }
}

impl HtmlRenderer {
    /// A renderer using `browser_path` (CHROME_PATH) or the first browser found. Starts nothing.
    pub fn new(browser_path: Option<PathBuf>) -> Self {
        HtmlRenderer {
            inner: Arc::new(Inner {
                browser_path,
                warm: Mutex::new(None),
            }),
        }
    }

    /// Starts the browser and its page now, so the first receipt does not wait for it.
    ///
    /// Fails when no browser is installed or it does not start.
    pub async fn warm_up(&self) -> Result<(), RenderError> {
        let mut warm = self.inner.warm.lock().await;
        self.ensure_page(&mut warm).await.map(|_| ())
    }

    /// The browser's process id, for memory reports.
    pub async fn browser_pid(&self) -> Option<u32> {
        self.inner.warm.lock().await.as_ref().and_then(|w| w.pid)
    }

    /// Stops the browser (it is started again on the next render).
    pub async fn shut_down(&self) {
        if let Some(mut w) = self.inner.warm.lock().await.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), w.browser.close()).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), w.browser.wait()).await;
        }
    }

    /// Lays `html` out `css_width` CSS pixels wide and prints it to a one-page PDF whose width is
    /// `dots` at 203 dpi.
    ///
    /// Fails when no browser is available, or loading and printing take longer than `timeout`
    /// (a resource that never arrives, a script that never ends).
    pub async fn render_pdf(
        &self,
        html: &str,
        css_width: u32,
        dots: u32,
        timeout: Duration,
    ) -> Result<Vec<u8>, RenderError> {
        let mut warm = self.inner.warm.lock().await;
        let page = self.ensure_page(&mut warm).await?;
        let result = tokio::time::timeout(timeout, print(&page, html, css_width, dots)).await;
        let outcome = match result {
            Ok(Ok(pdf)) => return Ok(pdf),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(RenderError::Timeout(timeout)),
        };
        // The page may still be loading or running a script: replace it.
        if let Some(w) = warm.as_mut() {
            if let Some(p) = w.page.take() {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(2), p.close()).await;
                });
            }
        }
        outcome
    }

    /// A ready page, launching the browser or opening a page as needed.
    async fn ensure_page(&self, warm: &mut Option<Warm>) -> Result<Page, RenderError> {
        if warm.as_ref().is_some_and(|w| w.handler.is_finished()) {
            tracing::warn!("the rendering browser stopped; starting it again");
            *warm = None;
        }
        if warm.is_none() {
            *warm = Some(self.launch().await?);
        }
        let Some(w) = warm.as_mut() else {
            return Err(RenderError::Browser("browser state lost".into()));
        };
        if let Some(p) = &w.page {
            return Ok(p.clone());
        }
        let page = open_page(&w.browser).await;
        match page {
            Ok(p) => {
                w.page = Some(p.clone());
                Ok(p)
            }
            Err(e) => {
                // A browser that cannot open a page is not worth keeping.
                *warm = None;
                Err(e)
            }
        }
    }

    async fn launch(&self) -> Result<Warm, RenderError> {
        let path = super::locate::find_browser(self.inner.browser_path.as_deref())
            .map_err(RenderError::BrowserMissing)?;
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let user_data_dir =
            std::env::temp_dir().join(format!("pispas-chromium-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&user_data_dir);
        let mut builder = BrowserConfig::builder()
            .chrome_executable(&path)
            .user_data_dir(&user_data_dir)
            .launch_timeout(Duration::from_secs(20))
            .request_timeout(Duration::from_secs(30))
            .viewport(None)
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--disable-component-update",
                "--disable-background-networking",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--font-render-hinting=none",
            ]);
        if needs_no_sandbox() {
            builder = builder.no_sandbox();
        }
        let config = builder.build().map_err(RenderError::Browser)?;
        let started = std::time::Instant::now();
        let (mut browser, mut handler) = Browser::launch(config)
            .await
            .map_err(|e| RenderError::Browser(format!("{} did not start: {e}", path.display())))?;
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    tracing::debug!(error = %e, "browser connection event");
                }
            }
        });
        let pid = browser.get_mut_child().and_then(|c| c.as_mut_inner().id());
        tracing::info!(browser = %path.display(), ?pid, elapsed_ms = started.elapsed().as_millis() as u64, "rendering browser started");
        Ok(Warm {
            browser,
            page: None,
            handler,
            user_data_dir,
            pid,
        })
    }
}

/// Opens a page that refuses every non-http(s) request and lays out with print media.
async fn open_page(browser: &Browser) -> Result<Page, RenderError> {
    let err = |what: &str, e: chromiumoxide::error::CdpError| {
        RenderError::Browser(format!("{what}: {e}"))
    };
    let page = browser
        .new_page("about:blank")
        .await
        .map_err(|e| err("new page", e))?;
    let mut paused = page
        .event_listener::<EventRequestPaused>()
        .await
        .map_err(|e| err("listen", e))?;
    let guard = page.clone();
    tokio::spawn(async move {
        while let Some(event) = paused.next().await {
            let url = event.request.url.to_ascii_lowercase();
            if url.starts_with("http://") || url.starts_with("https://") {
                let _ = guard
                    .execute(ContinueRequestParams::new(event.request_id.clone()))
                    .await;
            } else {
                tracing::warn!(url = %event.request.url, "HTML asked for a non-web resource; refused");
                let _ = guard
                    .execute(FailRequestParams::new(
                        event.request_id.clone(),
                        ErrorReason::AccessDenied,
                    ))
                    .await;
            }
        }
    });
    let all = RequestPattern {
        url_pattern: Some("*".into()),
        resource_type: None,
        request_stage: None,
    };
    page.execute(EnableParams {
        patterns: Some(vec![all]),
        handle_auth_requests: None,
    })
    .await
    .map_err(|e| err("intercept", e))?;
    page.execute(SetEmulatedMediaParams {
        media: Some("print".into()),
        features: None,
    })
    .await
    .map_err(|e| err("media", e))?;
    Ok(page)
}

/// Writes the document, measures it and prints it.
async fn print(page: &Page, html: &str, css_width: u32, dots: u32) -> Result<Vec<u8>, RenderError> {
    let err = |what: &str, e: chromiumoxide::error::CdpError| {
        RenderError::Browser(format!("{what}: {e}"))
    };
    // Chromium sizes PDF pages in whole points; a fractional width would be rounded up and the
    // content would no longer fill the page edge to edge.
    let paper_in = (dots as f64 * 72.0 / PRINTER_DPI).round().max(1.0) / 72.0;
    // Chromium accepts scales 0.1–2.
    let css_width = (css_width as f64).clamp(paper_in * CSS_DPI / 2.0, paper_in * CSS_DPI * 10.0);
    let scale = paper_in * CSS_DPI / css_width;
    page.execute(SetDeviceMetricsOverrideParams::new(
        css_width.round() as i64,
        600,
        1.0,
        false,
    ))
    .await
    .map_err(|e| err("viewport", e))?;
    page.set_content(html).await.map_err(|e| err("load", e))?;
    let height: f64 = page
        .evaluate(HEIGHT_JS)
        .await
        .map_err(|e| err("measure", e))?
        .into_value()
        .map_err(|e| RenderError::Browser(format!("measure: {e}")))?;
    let paper_h = (height.max(1.0) * scale / CSS_DPI + 0.01).min(MAX_PAGE_INCHES);
    let params = PrintToPdfParams {
        print_background: Some(true),
        scale: Some(scale),
        paper_width: Some(paper_in),
        paper_height: Some(paper_h),
        margin_top: Some(0.0),
        margin_bottom: Some(0.0),
        margin_left: Some(0.0),
        margin_right: Some(0.0),
        prefer_css_page_size: Some(false),
        // Accessibility tags and an outline cost time and nothing prints them.
        generate_tagged_pdf: Some(false),
        generate_document_outline: Some(false),
        ..Default::default()
    };
    page.pdf(params).await.map_err(|e| err("print", e))
}

/// Chromium's sandbox cannot start as root on Linux.
fn needs_no_sandbox() -> bool {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string("/proc/self/status")
            .map(|s| {
                s.lines()
                    .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
            })
            .unwrap_or(false)
    } else {
        false
    }
}

//! HTML → PDF with a warm headless Chromium-family browser over CDP (chromiumoxide).
//!
//! A receipt is a document, not a program. By default (`PRINT_HTML_SCRIPTS=off`) JavaScript
//! does not run, pop-ups are blocked, and each receipt is laid out in a fresh browser context
//! (its own cookies, storage and cache, thrown away after the receipt), so nothing of one
//! receipt reaches the next. Every request the page makes is intercepted: `file://` and other
//! local schemes are refused, and http(s) subresources are decided by `PRINT_HTML_FETCH`
//! (`fetch.rs`: public addresses only by default) and fetched by the engine from the address it
//! checked. The browser stays warm, and the next receipt's context is prepared while the printer
//! prints the last one, so the fresh context costs the POS nothing.
//!
//! A render that fails or times out throws its context away; a browser that died is relaunched
//! on the next render. The layout is `css_width` CSS pixels wide (default: one CSS pixel per dot)
//! and the PDF page is exactly as tall as the content, so pdfium gets one page per receipt.

use super::browser_guard as guard;
use super::fetch::{self, FetchPolicy};
use super::RenderError;
use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::emulation::{
    SetDeviceMetricsOverrideParams, SetEmulatedMediaParams, SetScriptExecutionDisabledParams,
};
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams, EventRequestPaused, FailRequestParams,
    FulfillRequestParams, HeaderEntry, RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::cdp::browser_protocol::page::{
    GetLayoutMetricsParams, PrintToPdfParams, SetDocumentContentParams,
};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
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
/// Where the browser's own connections go: nowhere (the discard port on loopback).
const DEAD_PROXY: &str = "http://127.0.0.1:9";
/// Longest a subresource fetch may take (the whole render has its own timeout too).
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

/// Resolves once web fonts are in (only when scripts run; otherwise the load event is enough).
const FONTS_JS: &str = "document.fonts.ready.then(() => true)";

/// What a receipt may do (PRINT_HTML_SCRIPTS, PRINT_HTML_FETCH).
#[derive(Debug, Clone)]
pub struct HtmlPolicy {
    /// Run the document's JavaScript (off by default).
    pub scripts: bool,
    /// Which subresources load.
    pub fetch: FetchPolicy,
}

impl Default for HtmlPolicy {
    fn default() -> Self {
        HtmlPolicy {
            scripts: false,
            fetch: FetchPolicy::Public,
        }
    }
}

/// The warm browser; a cheap clone.
#[derive(Clone)]
pub struct HtmlRenderer {
    inner: Arc<Inner>,
}

/// The switches the rendering browser runs with (chromiumoxide's defaults turn the pop-up blocker
/// off, so ours are listed whole).
const BROWSER_SWITCHES: &[&str] = &[
    "--disable-gpu",
    "--disable-quic",
    "--disable-component-update",
    "--disable-background-networking",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--disable-component-extensions-with-background-pages",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--disable-hang-monitor",
    "--disable-prompt-on-repost",
    "--disable-sync",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    "--force-color-profile=srgb",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--font-render-hinting=none",
    // window.open and target=_blank create nothing.
    "--block-new-web-contents",
    // The browser has no network of its own: the engine fetches what the policy
    // allows and hands it over, so speculative pre-connections and DNS look-ups
    // (which interception does not see) go nowhere.
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    // Frames stay in the page's own process, so every request a frame makes is
    // intercepted by the page's rules too.
    "--disable-site-isolation-trials",
    "--disable-features=TranslateUI,IsolateOrigins,site-per-process",
];

struct Inner {
    browser_path: Option<PathBuf>,
    policy: Arc<HtmlPolicy>,
    warm: Mutex<Option<Warm>>,
}

struct Warm {
    browser: Browser,
    /// A fresh context and page, ready for the next receipt.
    spare: Option<Fresh>,
    handler: JoinHandle<()>,
    user_data_dir: PathBuf,
    pid: Option<u32>,
}

/// A browser context used for one receipt only, and its page.
struct Fresh {
    context: BrowserContextId,
    page: Page,
}

impl Drop for Warm {
    fn drop(&mut self) {
        self.handler.abort();
        // The browser process is killed when `browser` drops (kill_on_drop; with the guard, the
        // guard is, and the browser with it); its profile goes.
        guard::kill_browser_of(&self.user_data_dir);
        let dir = self.user_data_dir.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            let _ = std::fs::remove_dir_all(dir);
        });
    }
}

impl HtmlRenderer {
    /// A renderer using `browser_path` (CHROME_PATH) or the first browser found, under `policy`.
    /// Starts nothing.
    pub fn new(browser_path: Option<PathBuf>, policy: HtmlPolicy) -> Self {
        HtmlRenderer {
            inner: Arc::new(Inner {
                browser_path,
                policy: Arc::new(policy),
                warm: Mutex::new(None),
            }),
        }
    }

    /// Starts the browser and the first receipt's context now, so the first receipt does not
    /// wait for them.
    ///
    /// Fails when no browser is installed or it does not start.
    pub async fn warm_up(&self) -> Result<(), RenderError> {
        let mut warm = self.inner.warm.lock().await;
        self.ensure_spare(&mut warm).await
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

    /// Lays `html` out `css_width` CSS pixels wide, in a context of its own, and prints it to a
    /// one-page PDF whose width is `dots` at 203 dpi.
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
        self.ensure_spare(&mut warm).await?;
        let Some(w) = warm.as_mut() else {
            return Err(RenderError::Browser("browser state lost".into()));
        };
        let Some(fresh) = w.spare.take() else {
            return Err(RenderError::Browser("no page to render in".into()));
        };
        let scripts = self.inner.policy.scripts;
        let result =
            tokio::time::timeout(timeout, print(&fresh.page, html, css_width, dots, scripts)).await;
        // This receipt's context is done with, whatever happened: nothing of it is reused.
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            w.browser.dispose_browser_context(fresh.context),
        )
        .await;
        drop(warm);
        // The next receipt's context is made while this one prints.
        let me = self.clone();
        tokio::spawn(async move {
            let mut warm = me.inner.warm.lock().await;
            if let Err(e) = me.ensure_spare(&mut warm).await {
                tracing::debug!(error = %e, "next rendering context not prepared");
            }
        });
        match result {
            Ok(r) => r,
            Err(_) => Err(RenderError::Timeout(timeout)),
        }
    }

    /// A browser with a spare context, launching or preparing what is missing.
    async fn ensure_spare(&self, warm: &mut Option<Warm>) -> Result<(), RenderError> {
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
        if w.spare.is_some() {
            return Ok(());
        }
        match open_fresh(&w.browser, &self.inner.policy).await {
            Ok(f) => {
                w.spare = Some(f);
                Ok(())
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
        if n == 0 {
            let cleaned = guard::clean_earlier_runs(&std::env::temp_dir());
            if cleaned > 0 {
                tracing::info!(
                    cleaned,
                    "removed rendering browsers and profiles left by an earlier run"
                );
            }
        }
        let user_data_dir = std::env::temp_dir().join(format!(
            "{}{}-{n}",
            guard::PROFILE_PREFIX,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&user_data_dir);
        // Through the guard where the binary allows it, so the browser dies with the service.
        #[cfg(unix)]
        let (program, guard_arg) = match guard::wrap(&path) {
            Some((exe, arg)) => (exe, Some(arg.trim_start_matches('-').to_string())),
            None => (path.clone(), None),
        };
        #[cfg(not(unix))]
        let (program, guard_arg): (PathBuf, Option<String>) = (path.clone(), None);
        let mut builder = BrowserConfig::builder()
            .disable_default_args()
            .chrome_executable(&program)
            .user_data_dir(&user_data_dir)
            .launch_timeout(Duration::from_secs(20))
            .request_timeout(Duration::from_secs(30))
            .viewport(None)
            // chromiumoxide adds the leading dashes itself: given `--x` it would pass `----x`,
            // which Chromium does not recognise (so every switch here would be ignored).
            .args(BROWSER_SWITCHES.iter().map(|s| s.trim_start_matches('-')));
        if let Some(arg) = guard_arg {
            builder = builder.arg(arg);
        }
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
        #[cfg(windows)]
        if let Some(pid) = pid {
            if !super::browser_guard_windows::contain(pid) {
                tracing::warn!(pid, "the rendering browser could not be tied to the service; a crash of the service may leave it running");
            }
        }
        tracing::info!(browser = %path.display(), ?pid, elapsed_ms = started.elapsed().as_millis() as u64, "rendering browser started");
        Ok(Warm {
            browser,
            spare: None,
            handler,
            user_data_dir,
            pid,
        })
    }
}

/// A new browser context and a page in it that decides every request by `policy`, lays out with
/// print media and runs scripts only when the policy says so.
async fn open_fresh(browser: &Browser, policy: &Arc<HtmlPolicy>) -> Result<Fresh, RenderError> {
    let err = |what: &str, e: chromiumoxide::error::CdpError| {
        RenderError::Browser(format!("{what}: {e}"))
    };
    // The context gets the same dead proxy as the browser: it has no network of its own.
    let context = browser
        .create_browser_context(CreateBrowserContextParams {
            proxy_server: Some(DEAD_PROXY.into()),
            proxy_bypass_list: Some("<-loopback>".into()),
            ..Default::default()
        })
        .await
        .map_err(|e| err("new context", e))?;
    let mut target = CreateTargetParams::new("about:blank");
    target.browser_context_id = Some(context.clone());
    let page = match browser.new_page(target).await {
        Ok(p) => p,
        Err(e) => {
            let _ = browser.dispose_browser_context(context).await;
            return Err(err("new page", e));
        }
    };
    let mut paused = page
        .event_listener::<EventRequestPaused>()
        .await
        .map_err(|e| err("listen", e))?;
    let guard = page.clone();
    let for_requests = policy.clone();
    tokio::spawn(async move {
        while let Some(event) = paused.next().await {
            let page = guard.clone();
            let policy = for_requests.clone();
            // Each request on its own: a slow image must not hold up the stylesheet.
            tokio::spawn(async move { decide(&page, &event, &policy.fetch).await });
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
    if !policy.scripts {
        page.execute(SetScriptExecutionDisabledParams::new(true))
            .await
            .map_err(|e| err("scripts", e))?;
    }
    Ok(Fresh { context, page })
}

/// Lets one intercepted request through, answers it with what the engine fetched, or refuses it.
async fn decide(page: &Page, event: &EventRequestPaused, policy: &FetchPolicy) {
    let url = &event.request.url;
    let id = event.request_id.clone();
    if url.starts_with("data:") {
        let _ = page.execute(ContinueRequestParams::new(id)).await;
        return;
    }
    let refuse = |why: String| async move {
        tracing::warn!("HTML receipt subresource refused: {why}");
        let _ = page
            .execute(FailRequestParams::new(id, ErrorReason::BlockedByClient))
            .await;
    };
    if event.request.method != "GET" {
        return refuse(format!("{url}: only GET is loaded")).await;
    }
    let (parsed, addrs) = match fetch::allowed_addrs(policy, url).await {
        Ok(ok) => ok,
        Err(why) => return refuse(why.to_string()).await,
    };
    match fetch::fetch_pinned(parsed, &addrs, FETCH_TIMEOUT).await {
        Ok(got) => {
            let mut answer =
                FulfillRequestParams::new(event.request_id.clone(), i64::from(got.status));
            answer.response_headers = Some(
                got.headers
                    .into_iter()
                    .map(|(k, v)| HeaderEntry::new(k, v))
                    .collect(),
            );
            answer.body = Some(
                base64::engine::general_purpose::STANDARD
                    .encode(&got.body)
                    .into(),
            );
            let _ = page.execute(answer).await;
        }
        Err(e) => {
            tracing::debug!(url = %url, error = %e, "HTML receipt subresource not loaded");
            let _ = page
                .execute(FailRequestParams::new(
                    event.request_id.clone(),
                    ErrorReason::ConnectionFailed,
                ))
                .await;
        }
    }
}

/// Writes the document, measures it and prints it.
async fn print(
    page: &Page,
    html: &str,
    css_width: u32,
    dots: u32,
    scripts: bool,
) -> Result<Vec<u8>, RenderError> {
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
    // Set through the protocol, not with document.write from a script: it works with scripts off.
    let frame = page
        .mainframe()
        .await
        .map_err(|e| err("frame", e))?
        .ok_or_else(|| RenderError::Browser("the page has no frame".into()))?;
    page.execute(SetDocumentContentParams::new(frame, html))
        .await
        .map_err(|e| err("load", e))?;
    page.wait_for_navigation()
        .await
        .map_err(|e| err("load", e))?;
    if scripts {
        let _: bool = page
            .evaluate(FONTS_JS)
            .await
            .map_err(|e| err("fonts", e))?
            .into_value()
            .unwrap_or(true);
    }
    let metrics = page
        .execute(GetLayoutMetricsParams::default())
        .await
        .map_err(|e| err("measure", e))?;
    let height = metrics.result.css_content_size.height.ceil();
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

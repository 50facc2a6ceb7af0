//! The app's windows: status, configurator, command log and kitchen display. Each shows a page from `ui/` (bundled
//! into the app) that talks to the engine over the WebSocket like any client.
//!
//! Windows are created on demand and destroyed on close: a hidden webview costs as much memory as
//! a visible one, so the app lives in the tray with no webview at all when nothing is open.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

/// One of the app's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Status,
    Config,
    Log,
    /// The kitchen display (`ui/kitchen.html`), the same page kitchen tablets open from the
    /// engine: a screen at the pass or on the till itself.
    Kitchen,
}

impl Page {
    /// Window label (also named in src-tauri/capabilities/default.json).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Page::Status => "status",
            Page::Config => "config",
            Page::Log => "log",
            Page::Kitchen => "kitchen",
        }
    }

    fn file(self) -> &'static str {
        match self {
            Page::Status => "status.html",
            Page::Config => "config.html",
            Page::Log => "log.html",
            Page::Kitchen => "kitchen.html",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Page::Status => "Pispas — Status",
            Page::Config => "Pispas — Configurator",
            Page::Log => "Pispas — Command log",
            Page::Kitchen => "Pispas — Kitchen display",
        }
    }

    fn size(self) -> (f64, f64) {
        match self {
            Page::Status => (560.0, 640.0),
            Page::Config => (760.0, 780.0),
            Page::Log => (1100.0, 720.0),
            Page::Kitchen => (1280.0, 800.0),
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Page> {
        match name.to_ascii_lowercase().as_str() {
            "status" => Some(Page::Status),
            "config" | "configurator" => Some(Page::Config),
            "log" | "commandlog" | "command-log" => Some(Page::Log),
            "kitchen" | "kds" => Some(Page::Kitchen),
            _ => None,
        }
    }
}

/// Destroys every window; the app lives on in the tray with no webview.
pub(crate) fn close_all(app: &AppHandle) {
    for page in [Page::Status, Page::Config, Page::Log, Page::Kitchen] {
        if let Some(w) = app.get_webview_window(page.label()) {
            let _ = w.destroy();
        }
    }
}

/// Shows `page`: focuses it when open, creates it otherwise.
pub(crate) fn open(app: &AppHandle, page: Page) {
    if let Some(w) = app.get_webview_window(page.label()) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let (width, height) = page.size();
    let built = WebviewWindowBuilder::new(app, page.label(), WebviewUrl::App(page.file().into()))
        .title(page.title())
        .inner_size(width, height)
        .min_inner_size(420.0, 360.0)
        .center()
        .focused(true)
        .build();
    if let Err(e) = built {
        tracing::error!(page = page.label(), error = %e, "cannot open window");
    }
}

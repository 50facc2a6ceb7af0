//! Commands the app's own pages may call (src-tauri/capabilities/default.json lists the windows).
//! They give a page what a browser page has to ask the user for — where the engine is and the
//! admin token — plus the things only the app can do: start at login, open another window, save
//! an export to the Downloads folder.

use crate::windows::{self, Page};
use crate::Shell;
use pispas_modules::HostState;
use serde_json::{json, Value};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_autostart::ManagerExt;

/// Where the engine is and the admin token, or why it is not running.
#[tauri::command]
pub(crate) fn endpoint(shell: State<'_, Shell>) -> Value {
    match &*shell.state.borrow() {
        HostState::Running(h) => json!({
            "STATE": "RUNNING",
            "PORT": h.local_addr().port(),
            "TOKEN": h.admin_token,
            "VIEWER": h.viewer_addr.map(|a| format!("http://{a}/")),
            "GENERATION": h.generation,
        }),
        HostState::Starting => json!({ "STATE": "STARTING" }),
        HostState::Failed {
            message,
            port_in_use,
        } => json!({ "STATE": "FAILED", "MESSAGE": message, "PORT_IN_USE": port_in_use }),
        HostState::Stopped => json!({ "STATE": "STOPPED" }),
    }
}

/// Whether the app starts at login.
#[tauri::command]
pub(crate) fn autostart_enabled(app: AppHandle) -> Result<bool, String> {
    app.autolaunch().is_enabled().map_err(|e| e.to_string())
}

/// Turns start at login on or off; returns the new state.
#[tauri::command]
pub(crate) fn set_autostart(app: AppHandle, enabled: bool) -> Result<bool, String> {
    crate::set_autostart(&app, enabled)
}

/// Opens (or focuses) another window: `status`, `config` or `log`.
#[tauri::command]
pub(crate) async fn open_page(app: AppHandle, page: String) -> Result<(), String> {
    let page = Page::from_name(&page).ok_or_else(|| format!("no page {page:?}"))?;
    windows::open(&app, page);
    Ok(())
}

/// Restarts the engine in place (the status page's "Retry" when the port was taken).
#[tauri::command]
pub(crate) fn restart_service(app: AppHandle) {
    crate::restart_service(&app);
}

/// Writes an export to the Downloads folder (a webview has no download manager); returns the
/// path. Only plain file names are accepted.
#[tauri::command]
pub(crate) fn save_export(app: AppHandle, name: String, text: String) -> Result<String, String> {
    let safe = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.');
    if !safe {
        return Err(format!("not a plain file name: {name:?}"));
    }
    let folder = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    let path = folder.join(name);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

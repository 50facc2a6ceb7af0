//! Default locations of the `.env` and the data folder, per platform.
//!
//! Windows: `%APPDATA%\Pispas\.env` and `%LOCALAPPDATA%\Pispas` (see `paths_windows.rs`).
//! Linux: `~/.config/pispas/.env` and `~/.local/share/pispas`. macOS: `~/Library/Application
//! Support/Pispas` for both.

use std::path::PathBuf;

#[cfg(windows)]
#[path = "paths_windows.rs"]
mod platform;

#[cfg(not(windows))]
mod platform {
    use std::path::PathBuf;

    pub(crate) const APP_DIR: &str = if cfg!(target_os = "macos") {
        "Pispas"
    } else {
        "pispas"
    };

    pub(crate) fn config_root() -> Option<PathBuf> {
        dirs::config_dir()
    }

    pub(crate) fn data_root() -> Option<PathBuf> {
        dirs::data_local_dir()
    }
}

/// The `.env` used when `--config` is not given.
pub fn default_config_path() -> PathBuf {
    base(platform::config_root()).join(".env")
}

/// The data folder used when neither `--data-dir` nor `DATA_DIR` is given.
pub fn default_data_dir() -> PathBuf {
    base(platform::data_root())
}

/// Falls back to the working directory when the platform folder is unknown (a service account
/// without a profile), so the service still starts.
fn base(root: Option<PathBuf>) -> PathBuf {
    root.unwrap_or_else(|| PathBuf::from("."))
        .join(platform::APP_DIR)
}

//! Windows folders: `%APPDATA%` (roaming) for the configuration a user edits, `%LOCALAPPDATA%`
//! for the database, logs and certificates, which are large or machine-bound and must not roam.
//! The environment variables win over the shell folders so a service account can be pointed
//! elsewhere without code.

use std::path::PathBuf;

pub(crate) const APP_DIR: &str = "Pispas";

pub(crate) fn config_root() -> Option<PathBuf> {
    from_env("APPDATA").or_else(dirs::config_dir)
}

pub(crate) fn data_root() -> Option<PathBuf> {
    from_env("LOCALAPPDATA").or_else(dirs::data_local_dir)
}

fn from_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

//! Writing the `.env`: validate first, write a temporary file beside it, keep the previous file as
//! `.env.bak`, then rename into place, so a crash mid-save leaves either the old or the new file.
//!
//! It does not merge or preserve comments of the old file: the configurator owns the whole file.

use super::{ConfigEnv, ConfigError};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Validates `values` and writes them to `path` atomically, keeping the previous file as
/// `<path>.bak`. Returns the validated configuration.
///
/// Fails without touching the file when a value is invalid (naming the key), or when the folder
/// cannot be written.
pub fn save_env(path: &Path, values: &BTreeMap<String, String>) -> Result<ConfigEnv, ConfigError> {
    let config = ConfigEnv::from_values(values.clone(), path)?;
    let werr = |e: std::io::Error| ConfigError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(werr)?;
    }
    let mut text =
        String::from("# Pispas local service configuration. Keys: docs/configuration.md\n");
    for (key, value) in values {
        if key.is_empty() || key.contains(['=', '\n', ' ']) {
            return Err(ConfigError::Invalid {
                key: key.clone(),
                message: "is not a valid key name".into(),
            });
        }
        text.push_str(&format!("{key}={}\n", quote(value)));
    }
    let tmp = path.with_extension("tmp");
    {
        // Owner-only: the file holds tokens and terminal keys.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(werr)?;
        f.write_all(text.as_bytes()).map_err(werr)?;
        f.sync_all().map_err(werr)?;
    }
    if path.exists() {
        let bak = path.with_extension("bak");
        std::fs::copy(path, &bak).map_err(werr)?;
        owner_only(&bak).map_err(werr)?;
    }
    std::fs::rename(&tmp, path).map_err(werr)?;
    Ok(config)
}

/// Double-quotes a value when it needs it, escaping what dotenvy unescapes.
fn quote(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.,:/\\*@+".contains(c))
        && !value.is_empty()
    {
        value.to_string()
    } else {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .replace('$', "\\$");
        format!("\"{escaped}\"")
    }
}

/// Makes a file readable by its owner only (Unix; on Windows the data and config folders are
/// the user's own profile folders, whose ACL already keeps other users out).
///
/// Fails when the permissions cannot be set.
pub fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_env_file_and_its_backup_are_owner_only() {
        let dir = std::env::temp_dir().join(format!("pispas-owner-only-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        let mut values = BTreeMap::new();
        values.insert("LOCAL_PORT".to_string(), "5005".to_string());
        save_env(&path, &values).unwrap();
        values.insert("LOCAL_PORT".to_string(), "5006".to_string());
        save_env(&path, &values).unwrap();
        for file in [path.clone(), path.with_extension("bak")] {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

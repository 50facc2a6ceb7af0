//! The browsers' `LocalNetworkAccessAllowedForUrls` policy. Since Chrome 147 every Chromium
//! browser asks the cashier before a public https page may open a WebSocket to loopback; one
//! click on "Block" and printing stops. This policy, for the POS origins, removes the question.
//!
//! Where it lives: Linux, a JSON file in each browser's managed-policy folder (written here);
//! Windows, the Chrome/Chromium/Edge policy keys in the registry (`policy_registry.rs` holds the
//! logic, `policy_windows.rs` the registry calls); macOS, a configuration profile only an
//! administrator can deploy (we say so). What this writes it can find and remove again, and it
//! never touches policy values others set.

use super::PlatformError;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The policy's name in every browser.
pub const POLICY: &str = "LocalNetworkAccessAllowedForUrls";

/// A Chromium-family browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Chrome,
    Chromium,
    Edge,
}

impl Browser {
    pub const ALL: [Browser; 3] = [Browser::Chrome, Browser::Chromium, Browser::Edge];

    pub fn name(self) -> &'static str {
        match self {
            Browser::Chrome => "Chrome",
            Browser::Chromium => "Chromium",
            Browser::Edge => "Edge",
        }
    }
}

/// The policy as one browser has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserPolicy {
    pub browser: Browser,
    /// The browser seems installed on this machine.
    pub installed: bool,
    /// The URLs our entry allows (empty: none of ours).
    pub urls: Vec<String>,
    /// Where it is (a file or a registry key), for the administrator.
    pub location: String,
}

impl BrowserPolicy {
    /// Whether every URL in `wanted` is allowed.
    pub fn in_force(&self, wanted: &[String]) -> bool {
        !wanted.is_empty() && wanted.iter().all(|w| self.urls.contains(w))
    }
}

/// Reads, writes and removes the policy where this OS keeps it.
pub trait PolicyStore: Send + Sync {
    /// The policy per known browser.
    fn status(&self) -> Vec<BrowserPolicy>;
    /// Allows `urls` (replacing what this program wrote before); returns how many browsers.
    ///
    /// Fails when it cannot be written (NeedsElevation without rights).
    fn set(&self, urls: &[String]) -> Result<usize, PlatformError>;
    /// Removes what this program wrote; returns how many browsers had it.
    ///
    /// Fails as [`PolicyStore::set`] does.
    fn remove(&self) -> Result<usize, PlatformError>;
}

/// The store of this machine.
pub fn system() -> Box<dyn PolicyStore> {
    #[cfg(windows)]
    {
        Box::new(super::policy_registry::RegistryPolicy::new(
            super::policy_windows::Registry,
        ))
    }
    #[cfg(target_os = "macos")]
    {
        Box::new(Unsupported)
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        Box::new(JsonDirs::new("/"))
    }
}

/// The browser URL patterns for ALLOWED_ORIGINS (`https://*.example.com` becomes
/// `https://[*.]example.com`); `*` and anything that is not an origin are left out (returned
/// second, to be said).
pub fn url_patterns(origins: &[String]) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for o in origins {
        let o = o.trim().trim_end_matches('/');
        match o.split_once("://") {
            Some((scheme, host)) if !scheme.is_empty() && !host.is_empty() && o != "*" => {
                let host = host
                    .strip_prefix("*.")
                    .map_or_else(|| host.to_string(), |h| format!("[*.]{h}"));
                out.push(format!("{scheme}://{host}"));
            }
            _ => skipped.push(o.to_string()),
        }
    }
    out.dedup();
    (out, skipped)
}

/// macOS: Chrome and Edge read policies from configuration profiles only.
#[cfg(target_os = "macos")]
struct Unsupported;

#[cfg(target_os = "macos")]
impl PolicyStore for Unsupported {
    fn status(&self) -> Vec<BrowserPolicy> {
        Vec::new()
    }
    fn set(&self, _: &[String]) -> Result<usize, PlatformError> {
        Err(PlatformError::Unsupported(MACOS.into()))
    }
    fn remove(&self) -> Result<usize, PlatformError> {
        Err(PlatformError::Unsupported(MACOS.into()))
    }
}

/// What to tell a macOS administrator.
pub const MACOS: &str = "On macOS the browser policy is set by a configuration profile: deploy one with LocalNetworkAccessAllowedForUrls (the POS origins) for com.google.Chrome and com.microsoft.Edge through your device management, or ask the cashier to click Allow once.";

/// Linux: one JSON file of ours in each browser's managed-policy folder under `root`.
pub struct JsonDirs {
    root: PathBuf,
}

/// Our file's name in each folder.
const FILE: &str = "pispas-local-network-access.json";

impl JsonDirs {
    /// Folders and binaries are looked up under `root` (`/` on a real machine).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        JsonDirs { root: root.into() }
    }

    /// The managed-policy folders each browser reads.
    fn dirs(browser: Browser) -> &'static [&'static str] {
        match browser {
            Browser::Chrome => &["etc/opt/chrome/policies/managed"],
            // Debian's package reads the first, Ubuntu's (and the snap) the second.
            Browser::Chromium => &[
                "etc/chromium/policies/managed",
                "etc/chromium-browser/policies/managed",
            ],
            Browser::Edge => &["etc/opt/edge/policies/managed"],
        }
    }

    fn binaries(browser: Browser) -> &'static [&'static str] {
        match browser {
            Browser::Chrome => &["opt/google/chrome/chrome", "usr/bin/google-chrome"],
            Browser::Chromium => &[
                "usr/bin/chromium",
                "usr/bin/chromium-browser",
                "snap/bin/chromium",
            ],
            Browser::Edge => &["opt/microsoft/msedge/msedge", "usr/bin/microsoft-edge"],
        }
    }

    fn installed(&self, browser: Browser) -> bool {
        Self::binaries(browser)
            .iter()
            .any(|b| self.root.join(b).exists())
    }

    fn files(&self, browser: Browser) -> Vec<PathBuf> {
        Self::dirs(browser)
            .iter()
            .map(|d| self.root.join(d).join(FILE))
            .collect()
    }
}

fn read_urls(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get(POLICY).cloned())
        .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok())
        .unwrap_or_default()
}

impl PolicyStore for JsonDirs {
    fn status(&self) -> Vec<BrowserPolicy> {
        Browser::ALL
            .into_iter()
            .map(|browser| {
                let files = self.files(browser);
                let found = files.iter().find(|f| f.exists());
                BrowserPolicy {
                    browser,
                    installed: self.installed(browser),
                    urls: found.map(|f| read_urls(f)).unwrap_or_default(),
                    location: found.unwrap_or(&files[0]).display().to_string(),
                }
            })
            .collect()
    }

    fn set(&self, urls: &[String]) -> Result<usize, PlatformError> {
        let body = serde_json::to_string_pretty(&json!({ POLICY: urls })).unwrap_or_default();
        let any_installed = Browser::ALL.iter().any(|b| self.installed(*b));
        let mut written = 0;
        for browser in Browser::ALL {
            // A browser installed later gets it too when none is found now.
            if any_installed && !self.installed(browser) {
                continue;
            }
            for file in self.files(browser) {
                let dir = file.parent().unwrap_or(&self.root);
                std::fs::create_dir_all(dir)
                    .map_err(|e| PlatformError::io(dir.display().to_string(), e))?;
                std::fs::write(&file, &body)
                    .map_err(|e| PlatformError::io(file.display().to_string(), e))?;
            }
            written += 1;
        }
        Ok(written)
    }

    fn remove(&self) -> Result<usize, PlatformError> {
        let mut removed = 0;
        for browser in Browser::ALL {
            let mut had = false;
            for file in self.files(browser) {
                match std::fs::remove_file(&file) {
                    Ok(()) => had = true,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(PlatformError::io(file.display().to_string(), e)),
                }
            }
            removed += usize::from(had);
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pispas-policy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn origins_become_url_patterns_and_wildcards_the_browser_form() {
        let (urls, skipped) = url_patterns(&[
            "https://app.unpispas.es".into(),
            "https://*.unpispas.es/".into(),
            "*".into(),
        ]);
        assert_eq!(urls, ["https://app.unpispas.es", "https://[*.]unpispas.es"]);
        assert_eq!(skipped, ["*"]);
    }

    #[test]
    fn the_linux_writer_writes_detects_and_removes_its_file_for_installed_browsers() {
        let dir = root("write");
        std::fs::create_dir_all(dir.join("usr/bin")).unwrap();
        std::fs::write(dir.join("usr/bin/chromium"), "").unwrap();
        let store = JsonDirs::new(&dir);
        let urls = vec!["https://app.unpispas.es".to_string()];
        assert_eq!(store.set(&urls).unwrap(), 1, "only the installed browser");
        let status = store.status();
        let chromium = status
            .iter()
            .find(|b| b.browser == Browser::Chromium)
            .unwrap();
        assert!(
            chromium.installed && chromium.in_force(&urls),
            "{chromium:?}"
        );
        let chrome = status
            .iter()
            .find(|b| b.browser == Browser::Chrome)
            .unwrap();
        assert!(!chrome.installed && !chrome.in_force(&urls));
        let file = dir.join("etc/chromium/policies/managed").join(FILE);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(v[POLICY], json!(["https://app.unpispas.es"]));
        // Another administrator's policy file in the same folder is never touched.
        let other = dir.join("etc/chromium/policies/managed/site.json");
        std::fs::write(&other, "{}").unwrap();
        assert_eq!(store.remove().unwrap(), 1);
        assert!(!file.exists() && other.exists());
        assert!(store.status().iter().all(|b| b.urls.is_empty()));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn with_no_browser_found_every_known_folder_gets_it() {
        let dir = root("none");
        let store = JsonDirs::new(&dir);
        assert_eq!(store.set(&["https://a.example".into()]).unwrap(), 3);
        assert!(dir
            .join("etc/opt/edge/policies/managed")
            .join(FILE)
            .exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}

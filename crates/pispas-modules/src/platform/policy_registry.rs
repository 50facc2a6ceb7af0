//! The Windows side of the policy, without the registry calls: which keys each browser reads,
//! machine scope first (HKLM, needs an administrator) and the user's (HKCU) when refused, and
//! how our URLs are merged into a list others may also have written to (`"1"`, `"2"`, …
//! string values). The registry itself is behind [`Registry`], so this is tested everywhere
//! and `policy_windows.rs` stays a thin FFI file.
#![cfg_attr(not(windows), allow(dead_code))]

use super::policy::{Browser, BrowserPolicy, PolicyStore, POLICY};
use super::PlatformError;

/// A registry root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hive {
    Machine,
    User,
}

impl Hive {
    fn name(self) -> &'static str {
        match self {
            Hive::Machine => "HKLM",
            Hive::User => "HKCU",
        }
    }
}

/// The registry calls the policy needs.
pub(crate) trait Registry: Send + Sync {
    /// The string values of `key` (name, data); empty when the key does not exist.
    fn values(&self, hive: Hive, key: &str) -> std::io::Result<Vec<(String, String)>>;
    /// Replaces every value of `key` with `values`, creating the key.
    fn replace(&self, hive: Hive, key: &str, values: &[(String, String)]) -> std::io::Result<()>;
    /// Whether a browser's executable is on this machine.
    fn installed(&self, browser: Browser) -> bool;
}

/// The policy key of a browser.
pub(crate) fn key(browser: Browser) -> String {
    let vendor = match browser {
        Browser::Chrome => "Google\\Chrome",
        Browser::Chromium => "Chromium",
        Browser::Edge => "Microsoft\\Edge",
    };
    format!("SOFTWARE\\Policies\\{vendor}\\{POLICY}")
}

/// `existing` with `ours_before` taken out and `urls` added, renumbered from 1.
pub(crate) fn merged(
    existing: &[(String, String)],
    ours_before: &[String],
    urls: &[String],
) -> Vec<(String, String)> {
    let mut list: Vec<String> = existing
        .iter()
        .map(|(_, v)| v.clone())
        .filter(|v| !ours_before.contains(v) && !urls.contains(v))
        .collect();
    list.extend(urls.iter().cloned());
    list.into_iter()
        .enumerate()
        .map(|(i, v)| ((i + 1).to_string(), v))
        .collect()
}

/// The policy in the registry.
pub(crate) struct RegistryPolicy<R: Registry> {
    registry: R,
}

impl<R: Registry> RegistryPolicy<R> {
    pub(crate) fn new(registry: R) -> Self {
        RegistryPolicy { registry }
    }

    /// Writes `urls` for `browser` in `hive`, keeping others' values.
    fn write(
        &self,
        hive: Hive,
        browser: Browser,
        urls: &[String],
        ours: &[String],
    ) -> std::io::Result<()> {
        let key = key(browser);
        let existing = self.registry.values(hive, &key)?;
        self.registry
            .replace(hive, &key, &merged(&existing, ours, urls))
    }
}

impl<R: Registry> PolicyStore for RegistryPolicy<R> {
    fn status(&self) -> Vec<BrowserPolicy> {
        Browser::ALL
            .into_iter()
            .map(|browser| {
                let key = key(browser);
                let (hive, urls) = [Hive::Machine, Hive::User]
                    .into_iter()
                    .map(|h| (h, self.registry.values(h, &key).unwrap_or_default()))
                    .find(|(_, v)| !v.is_empty())
                    .unwrap_or((Hive::Machine, Vec::new()));
                BrowserPolicy {
                    browser,
                    installed: self.registry.installed(browser),
                    urls: urls.into_iter().map(|(_, v)| v).collect(),
                    location: format!("{}\\{key}", hive.name()),
                }
            })
            .collect()
    }

    fn set(&self, urls: &[String]) -> Result<usize, PlatformError> {
        let before = self.status();
        let mut written = 0;
        for browser in Browser::ALL {
            if !self.registry.installed(browser) {
                continue;
            }
            let ours: Vec<String> = before
                .iter()
                .find(|b| b.browser == browser)
                .map(|b| b.urls.clone())
                .unwrap_or_default();
            // Machine-wide when allowed; the user's own policy otherwise (Chrome and Edge read
            // both).
            match self.write(Hive::Machine, browser, urls, &ours) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => self
                    .write(Hive::User, browser, urls, &ours)
                    .map_err(|e| PlatformError::io(format!("HKCU\\{}", key(browser)), e))?,
                Err(e) => return Err(PlatformError::io(format!("HKLM\\{}", key(browser)), e)),
            }
            written += 1;
        }
        Ok(written)
    }

    fn remove(&self) -> Result<usize, PlatformError> {
        let mut removed = 0;
        for policy in self.status() {
            if policy.urls.is_empty() {
                continue;
            }
            for hive in [Hive::Machine, Hive::User] {
                let key = key(policy.browser);
                let existing = self.registry.values(hive, &key).unwrap_or_default();
                if existing.is_empty() {
                    continue;
                }
                self.registry
                    .replace(hive, &key, &merged(&existing, &policy.urls, &[]))
                    .map_err(|e| PlatformError::io(format!("{}\\{key}", hive.name()), e))?;
            }
            removed += 1;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// (hive, key) → values.
    type Keys = HashMap<(String, String), Vec<(String, String)>>;

    /// A registry in memory; HKLM refuses writes when `admin` is false.
    #[derive(Default)]
    struct Fake {
        admin: bool,
        keys: Mutex<Keys>,
    }

    impl Registry for Fake {
        fn values(&self, hive: Hive, key: &str) -> std::io::Result<Vec<(String, String)>> {
            Ok(self
                .keys
                .lock()
                .unwrap()
                .get(&(hive.name().into(), key.into()))
                .cloned()
                .unwrap_or_default())
        }
        fn replace(
            &self,
            hive: Hive,
            key: &str,
            values: &[(String, String)],
        ) -> std::io::Result<()> {
            if hive == Hive::Machine && !self.admin {
                return Err(std::io::ErrorKind::PermissionDenied.into());
            }
            self.keys
                .lock()
                .unwrap()
                .insert((hive.name().into(), key.into()), values.to_vec());
            Ok(())
        }
        fn installed(&self, browser: Browser) -> bool {
            browser != Browser::Chromium
        }
    }

    #[test]
    fn our_urls_join_an_existing_list_and_leave_with_it_intact() {
        let existing = vec![("1".to_string(), "https://intranet.example".to_string())];
        let ours = vec!["https://app.unpispas.es".to_string()];
        let m = merged(&existing, &[], &ours);
        assert_eq!(
            m,
            [
                ("1".into(), "https://intranet.example".into()),
                ("2".into(), "https://app.unpispas.es".into())
            ]
        );
        assert_eq!(merged(&m, &ours, &[]), existing);
    }

    #[test]
    fn without_admin_rights_the_users_policy_is_written() {
        let policy = RegistryPolicy::new(Fake::default());
        let urls = vec!["https://app.unpispas.es".to_string()];
        assert_eq!(
            policy.set(&urls).unwrap(),
            2,
            "Chrome and Edge are installed"
        );
        let status = policy.status();
        let chrome = status
            .iter()
            .find(|b| b.browser == Browser::Chrome)
            .unwrap();
        assert!(
            chrome.in_force(&urls) && chrome.location.starts_with("HKCU"),
            "{chrome:?}"
        );
        assert_eq!(policy.remove().unwrap(), 2);
        assert!(policy.status().iter().all(|b| b.urls.is_empty()));
    }

    #[test]
    fn as_administrator_the_machine_policy_is_written() {
        let policy = RegistryPolicy::new(Fake {
            admin: true,
            ..Default::default()
        });
        policy.set(&["https://a.example".into()]).unwrap();
        let edge = policy
            .status()
            .into_iter()
            .find(|b| b.browser == Browser::Edge)
            .unwrap();
        assert!(edge.location.starts_with("HKLM"), "{edge:?}");
    }
}

//! Paytef pinpads as configured: `PAYTEF=http://<pinpad-ip>:8887` (the local pinpad API) or
//! `PAYTEF=https://cloud.api.paytef.es?pinpad=<terminal code>` (Paytef Cloud, with
//! `PAYTEF_ACCESS_KEY` and `PAYTEF_SECRET_KEY`) is the terminal DEFAULT; `PAYTEF_<NAME>=…` adds
//! named ones. `poll_ms` (default 1000, at least 50) sets the poll period. Errors start with
//! the key.

use crate::devices::DEFAULT_NAME;
use std::collections::BTreeMap;
use std::time::Duration;

/// Keys under the prefix that are not terminals.
const NOT_TERMINALS: &[&str] = &["PAYTEF_ACCESS_KEY", "PAYTEF_SECRET_KEY"];

/// Cloud credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(***)")
    }
}

/// One configured pinpad.
#[derive(Debug, Clone, PartialEq)]
pub struct PaytefConfig {
    pub name: String,
    pub key: String,
    /// `scheme://host[:port]` without query or trailing slash.
    pub base: String,
    /// `*` (the attached pinpad) locally; the terminal code in the cloud.
    pub pinpad: String,
    /// Present for the cloud.
    pub credentials: Option<Credentials>,
    pub poll: Duration,
}

impl PaytefConfig {
    pub fn is_cloud(&self) -> bool {
        self.credentials.is_some()
    }
}

/// Reads every `PAYTEF`/`PAYTEF_<NAME>` key.
pub fn pinpads_from(values: &BTreeMap<String, String>) -> Result<Vec<PaytefConfig>, String> {
    let get = |k: &str| {
        values
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let credentials =
        match (get("PAYTEF_ACCESS_KEY"), get("PAYTEF_SECRET_KEY")) {
            (Some(access), Some(secret)) => Some(Credentials { access, secret }),
            (None, None) => None,
            _ => return Err(
                "PAYTEF_ACCESS_KEY: the cloud needs both PAYTEF_ACCESS_KEY and PAYTEF_SECRET_KEY"
                    .into(),
            ),
        };
    let mut out = Vec::new();
    for (key, value) in values {
        if NOT_TERMINALS.contains(&key.as_str())
            || key.ends_with("_ACCESS_KEY")
            || key.ends_with("_SECRET_KEY")
        {
            continue;
        }
        let name = match key.as_str() {
            "PAYTEF" => DEFAULT_NAME.to_string(),
            k => match k.strip_prefix("PAYTEF_") {
                Some(n) if !n.is_empty() => n.to_ascii_uppercase(),
                _ => continue,
            },
        };
        if value.trim().is_empty() {
            continue;
        }
        out.push(
            parse_one(&name, key, value.trim(), credentials.as_ref())
                .map_err(|e| format!("{key}: {e}"))?,
        );
    }
    Ok(out)
}

fn parse_one(
    name: &str,
    key: &str,
    value: &str,
    credentials: Option<&Credentials>,
) -> Result<PaytefConfig, String> {
    let (scheme, rest) = value.split_once("://").ok_or(
        "expected http://<pinpad-ip>:8887 or https://cloud.api.paytef.es?pinpad=<terminal code>",
    )?;
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme {scheme}:// is not http:// or https://"));
    }
    let (place, query) = rest.split_once('?').unwrap_or((rest, ""));
    let place = place.trim_end_matches('/');
    if place.is_empty() || place.contains('/') {
        return Err(
            "the URL must be the API's root (http://<pinpad-ip>:8887), without a path".into(),
        );
    }
    let mut pinpad = None;
    let mut poll_ms = 1000u64;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "pinpad" => pinpad = Some(v.to_string()).filter(|v| !v.is_empty()),
            "poll_ms" => {
                poll_ms = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (50..=10_000).contains(n))
                    .ok_or_else(|| format!("poll_ms={v} is not a number from 50 to 10000"))?;
            }
            other => return Err(format!("unknown option {other:?} (known: pinpad, poll_ms)")),
        }
    }
    let cloud = pinpad.is_some();
    if cloud && credentials.is_none() {
        return Err(
            "a cloud pinpad (pinpad=…) needs PAYTEF_ACCESS_KEY and PAYTEF_SECRET_KEY".into(),
        );
    }
    Ok(PaytefConfig {
        name: name.into(),
        key: key.into(),
        base: format!("{scheme}://{place}"),
        pinpad: pinpad.unwrap_or_else(|| "*".into()),
        credentials: if cloud { credentials.cloned() } else { None },
        poll: Duration::from_millis(poll_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn local_and_cloud_pinpads_are_read_and_the_keys_are_not_terminals() {
        let list = pinpads_from(&values(&[
            ("PAYTEF", "http://10.0.0.8:8887"),
            (
                "PAYTEF_BAR",
                "https://cloud.api.paytef.es?pinpad=T123&poll_ms=500",
            ),
            ("PAYTEF_ACCESS_KEY", "a"),
            ("PAYTEF_SECRET_KEY", "s"),
        ]))
        .unwrap();
        assert_eq!(list.len(), 2);
        let bar = list.iter().find(|p| p.name == "BAR").unwrap();
        assert!(bar.is_cloud());
        assert_eq!((bar.pinpad.as_str(), bar.poll.as_millis()), ("T123", 500));
        let local = list.iter().find(|p| p.name == "DEFAULT").unwrap();
        assert_eq!(
            (local.base.as_str(), local.pinpad.as_str(), local.is_cloud()),
            ("http://10.0.0.8:8887", "*", false)
        );
        assert!(
            !format!("{bar:?}").contains("\"s\""),
            "secrets are not printed"
        );
    }

    #[test]
    fn a_cloud_pinpad_without_keys_and_bad_urls_name_the_key() {
        let e = pinpads_from(&values(&[(
            "PAYTEF",
            "https://cloud.api.paytef.es?pinpad=T1",
        )]))
        .unwrap_err();
        assert!(e.starts_with("PAYTEF:"), "{e}");
        let e = pinpads_from(&values(&[("PAYTEF_X", "ftp://x")])).unwrap_err();
        assert!(e.starts_with("PAYTEF_X"), "{e}");
        let e = pinpads_from(&values(&[("PAYTEF", "http://x:8887/transaction")])).unwrap_err();
        assert!(e.contains("root"), "{e}");
    }
}

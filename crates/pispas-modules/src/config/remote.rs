//! The remote gateway's keys → [`RemoteConfig`]: where the cloud is, how to reach it (TLS, an
//! extra CA, an HTTP CONNECT proxy), the token, the device id and what the cloud may reach.
//! Errors start with the key. Core, so BASE's "test connection" and the gateway read the same
//! settings. The token is never printed: [`RemoteConfig`]'s `Debug` redacts it.

use super::ConfigError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// TARGETs the cloud may reach when REMOTE_TARGETS is not set.
pub const DEFAULT_REMOTE_TARGETS: &str = "BASE,PRINT,CACHE,ORDER_KITCHEN";
/// The file in the data folder that keeps a generated device id.
pub const DEVICE_ID_FILE: &str = "remote-device-id";

/// An HTTP CONNECT proxy (`http://[user:password@]host:port`).
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    pub host: String,
    pub port: u16,
    /// `user:password` for `Proxy-Authorization: Basic`.
    pub credentials: Option<String>,
}

impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The gateway's settings, when REMOTE_HOST is set.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteConfig {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// An extra CA certificate (PEM file) trusted besides the system's roots.
    pub ca: Option<PathBuf>,
    pub path: String,
    /// Sent as `Authorization: Bearer`; never logged.
    pub token: Option<String>,
    /// REMOTE_DEVICE_ID when set; else the one kept in the data folder (see [`device_id`]).
    pub device_id: Option<String>,
    /// Upper-case TARGETs the cloud may reach.
    pub targets: Vec<String>,
    pub proxy: Option<ProxyConfig>,
    /// Most replies and events kept while the link is down.
    pub reply_buffer: usize,
    /// A WebSocket ping goes out this often; the link is dead after three without any answer.
    pub ping_every: Duration,
    /// Longest wait between two connection attempts (a refused token waits five times this).
    pub backoff_max: Duration,
}

impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("ca", &self.ca)
            .field("path", &self.path)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("device_id", &self.device_id)
            .field("targets", &self.targets)
            .field("proxy", &self.proxy)
            .field("reply_buffer", &self.reply_buffer)
            .field("ping_every", &self.ping_every)
            .finish()
    }
}

impl RemoteConfig {
    /// The dead-link limit: three pings without anything heard back.
    pub fn dead_after(&self) -> Duration {
        self.ping_every * 3
    }

    /// `host:port` as the handshake names it.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Reads the REMOTE_* keys; `Ok(None)` when REMOTE_HOST is empty (the gateway is off).
    /// Relative REMOTE_CA paths resolve in `base` (beside the `.env`).
    ///
    /// Fails naming the key of an invalid value.
    pub fn from_values(
        values: &BTreeMap<String, String>,
        base: &Path,
    ) -> Result<Option<RemoteConfig>, ConfigError> {
        let get = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let Some(host) = get("REMOTE_HOST") else {
            return Ok(None);
        };
        if host.contains(['/', ' ', '@']) {
            return Err(ConfigError::invalid(
                "REMOTE_HOST",
                format!("{host:?} must be a host name or address, without scheme or path (e.g. gw.unpispas.es)"),
            ));
        }
        let num = |key: &str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            key,
                            format!("{v:?} is not a whole number {min}–{max}"),
                        )
                    }),
            }
        };
        let port = num("REMOTE_PORT", 8765, 1, 65_535)? as u16;
        let tls = match get("REMOTE_TLS").map(str::to_ascii_lowercase).as_deref() {
            None | Some("on" | "1" | "true" | "yes") => true,
            Some("off" | "0" | "false" | "no") => false,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "REMOTE_TLS",
                    format!("{other:?} is not on or off"),
                ))
            }
        };
        let ca = get("REMOTE_CA").map(|p| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                base.join(p)
            }
        });
        let path = get("REMOTE_PATH").unwrap_or("/");
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            return Err(ConfigError::invalid(
                "REMOTE_PATH",
                format!("{path:?} must start with / and have no spaces"),
            ));
        }
        let token = match get("REMOTE_TOKEN") {
            Some(t) if t.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(ConfigError::invalid(
                    "REMOTE_TOKEN",
                    "must not contain spaces or control characters",
                ))
            }
            t => t.map(str::to_string),
        };
        let device_id = match get("REMOTE_DEVICE_ID") {
            Some(id) if !valid_device_id(id) => {
                return Err(ConfigError::invalid(
                    "REMOTE_DEVICE_ID",
                    "use 1–64 letters, digits, '-', '_' or '.'",
                ))
            }
            id => id.map(str::to_string),
        };
        let targets = parse_targets(get("REMOTE_TARGETS").unwrap_or(DEFAULT_REMOTE_TARGETS))?;
        let proxy = get("REMOTE_PROXY").map(parse_proxy).transpose()?;
        let reply_buffer = num("REMOTE_REPLY_BUFFER", 1000, 1, 100_000)? as usize;
        let ping_every = Duration::from_secs(num("REMOTE_PING_SECS", 15, 1, 3600)?);
        let backoff_max = Duration::from_secs(num("REMOTE_BACKOFF_MAX_SECS", 60, 1, 3600)?);
        Ok(Some(RemoteConfig {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            tls,
            ca,
            path: path.to_string(),
            token,
            device_id,
            targets,
            proxy,
            reply_buffer,
            ping_every,
            backoff_max,
        }))
    }
}

fn valid_device_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_targets(raw: &str) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for t in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let t = t.to_ascii_uppercase();
        if !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConfigError::invalid(
                "REMOTE_TARGETS",
                format!("{t:?} is not a TARGET (e.g. BASE,PRINT,CACHE)"),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

fn parse_proxy(raw: &str) -> Result<ProxyConfig, ConfigError> {
    let bad = |why: &str| ConfigError::invalid("REMOTE_PROXY", why.to_string());
    let rest = raw
        .strip_prefix("http://")
        .ok_or_else(|| bad("must be http://[user:password@]host:port (an HTTP CONNECT proxy)"))?
        .trim_end_matches('/');
    let (credentials, hostport) = match rest.rsplit_once('@') {
        Some((c, h)) => (Some(c.to_string()), h),
        None => (None, rest),
    };
    let (host, port) = hostport
        .rsplit_once(':')
        .ok_or_else(|| bad("needs a port (http://proxy.example:3128)"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| bad("the port is not a number 1–65535"))?;
    if host.is_empty() {
        return Err(bad("the host is empty"));
    }
    Ok(ProxyConfig {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port,
        credentials,
    })
}

/// The device id: REMOTE_DEVICE_ID when set, else the one kept in `data_dir`, else a new random
/// one written there (so it stays the same across restarts and upgrades).
///
/// Fails when the data folder cannot be read or written.
pub fn device_id(config: &RemoteConfig, data_dir: &Path) -> std::io::Result<String> {
    if let Some(id) = &config.device_id {
        return Ok(id.clone());
    }
    let path = data_dir.join(DEVICE_ID_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let id = text.trim();
        if valid_device_id(id) {
            return Ok(id.to_string());
        }
    }
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| std::io::Error::other("no random numbers from the OS"))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    std::fs::create_dir_all(data_dir)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &id)?;
    std::fs::rename(&tmp, &path)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<RemoteConfig>, ConfigError> {
        let values = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RemoteConfig::from_values(&values, Path::new("/etc/pispas"))
    }

    #[test]
    fn no_host_means_off_and_a_host_gets_the_documented_defaults() {
        assert_eq!(parse(&[]).unwrap(), None);
        let c = parse(&[("REMOTE_HOST", "gw.example")]).unwrap().unwrap();
        assert_eq!((c.port, c.tls, c.path.as_str()), (8765, true, "/"));
        assert_eq!(c.targets, ["BASE", "PRINT", "CACHE", "ORDER_KITCHEN"]);
        assert_eq!(c.dead_after(), Duration::from_secs(45));
        assert_eq!(c.backoff_max, Duration::from_secs(60));
    }

    #[test]
    fn a_proxy_with_credentials_parses_and_its_password_is_not_printed() {
        let c = parse(&[
            ("REMOTE_HOST", "gw.example"),
            ("REMOTE_PROXY", "http://u:secretpw@proxy.lan:3128"),
            ("REMOTE_TOKEN", "tok-123456789"),
        ])
        .unwrap()
        .unwrap();
        let p = c.proxy.clone().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.lan", 3128));
        assert_eq!(p.credentials.as_deref(), Some("u:secretpw"));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("secretpw") && !shown.contains("tok-123456789"),
            "{shown}"
        );
    }

    #[test]
    fn every_bad_value_names_its_key() {
        for (key, value) in [
            ("REMOTE_HOST", "https://gw.example/"),
            ("REMOTE_PORT", "0"),
            ("REMOTE_TLS", "maybe"),
            ("REMOTE_PATH", "tunnel"),
            ("REMOTE_TARGETS", "PRINT;BASE"),
            ("REMOTE_PROXY", "socks5://p:1080"),
            ("REMOTE_DEVICE_ID", "till one"),
            ("REMOTE_REPLY_BUFFER", "0"),
        ] {
            let mut pairs = vec![("REMOTE_HOST", "gw.example")];
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
            let e = parse(&pairs).unwrap_err();
            assert_eq!(e.key(), Some(key), "{e}");
        }
    }

    #[test]
    fn a_generated_device_id_is_kept_in_the_data_folder() {
        let dir = std::env::temp_dir().join(format!("pispas-devid-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let c = parse(&[("REMOTE_HOST", "gw.example")]).unwrap().unwrap();
        let first = device_id(&c, &dir).unwrap();
        assert_eq!(first.len(), 36);
        assert_eq!(device_id(&c, &dir).unwrap(), first);
    }
}

//! `ConfigEnv`: the typed, validated configuration, from a `.env` file overridden by the process
//! environment.
//!
//! Every error names the key. Device keys this file does not know (`PRINTER_<NAME>`, `SCALE…`) are
//! kept as raw strings in [`ConfigEnv::values`] for the modules to parse. Saving lives in
//! `save.rs`, platform folders in `paths.rs`.

mod keys;
mod modules;
mod origins;
mod paths;
pub mod remote;
mod save;

pub use keys::{is_config_key, is_secret_key, FILE_ONLY_KEYS, KEYS, PRINTER_OUTPUT_DIR};
pub use modules::ModuleKind;
pub use origins::OriginPattern;
pub use paths::{default_config_path, default_data_dir};
pub use remote::{ProxyConfig, RemoteConfig};
pub use save::{owner_only, save_env};

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration value that was refused, naming the key.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
    #[error("cannot read configuration file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write configuration file {path}: {message}")]
    Write { path: PathBuf, message: String },
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// The key at fault, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Where to load from.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The `.env` file; the platform default when `None`. A missing file is not an error.
    pub config_path: Option<PathBuf>,
    /// `--data-dir`, which beats `DATA_DIR` from the file or the environment.
    pub data_dir: Option<PathBuf>,
    /// Whether process environment variables override the file (true for the real service).
    pub use_process_env: bool,
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEnv {
    pub local_host: IpAddr,
    pub local_port: u16,
    pub modules: Vec<ModuleKind>,
    pub allowed_origins: Vec<String>,
    pub cert_dir: PathBuf,
    pub data_dir: PathBuf,
    pub log_level: String,
    pub admin_token: Option<String>,
    pub lan_token: Option<String>,
    /// `ADMIN_FROM_LAN`: the admin token counts from other computers.
    pub admin_from_lan: bool,
    /// `LAN_PLAIN_TOKENS`: LAN tokens accepted over plain ws://.
    pub lan_plain_tokens: bool,
    /// `LAN_IDLE_TIMEOUT_S`: silence after which a LAN connection is closed (`None`: never).
    pub lan_idle_timeout: Option<Duration>,
    /// `LAN_MAX_PENDING_PER_ADDRESS`.
    pub lan_max_pending_per_address: usize,
    pub max_connections: usize,
    pub max_frame_bytes: usize,
    pub max_in_flight: usize,
    /// Bytes of requests one connection may have running (`MAX_IN_FLIGHT_BYTES`).
    pub max_in_flight_bytes: usize,
    /// Bytes of requests all connections together may have running (`MAX_TOTAL_IN_FLIGHT_BYTES`).
    pub max_total_in_flight_bytes: usize,
    pub handshake_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Zero disables the periodic heartbeat event.
    pub heartbeat: Duration,
    /// Loopback port of the pages served to a browser; `Some(0)` picks a free one, `None` is off.
    pub viewer_port: Option<u16>,
    /// Whether requests, replies and events are recorded in the command log.
    pub command_log: bool,
    /// Command log entries older than this are deleted.
    pub command_log_max_age: Duration,
    /// The command log is trimmed, oldest first, to stay under this many bytes.
    pub command_log_max_bytes: u64,
    /// The `.env` this came from.
    pub config_path: PathBuf,
    /// Every key that was set (file and environment), including device keys.
    pub values: BTreeMap<String, String>,
}

impl ConfigEnv {
    /// Loads the `.env` (if it exists), applies environment overrides and validates.
    ///
    /// Fails when the file cannot be read or parsed, or when a value is invalid (naming the key).
    pub fn load(options: &LoadOptions) -> Result<ConfigEnv, ConfigError> {
        let path = options
            .config_path
            .clone()
            .unwrap_or_else(default_config_path);
        let mut values = read_env_file(&path)?;
        if options.use_process_env {
            for (k, v) in std::env::vars() {
                if keys::is_config_key(&k) {
                    values.insert(k, v);
                }
            }
        }
        if let Some(dir) = &options.data_dir {
            values.insert("DATA_DIR".into(), dir.to_string_lossy().into_owned());
        }
        ConfigEnv::from_values(values, &path)
    }

    /// Validates a set of raw values as if they came from the `.env` at `config_path`
    /// (relative paths resolve beside it). Used by `load` and by the configurator before saving.
    pub fn from_values(
        values: BTreeMap<String, String>,
        config_path: &Path,
    ) -> Result<ConfigEnv, ConfigError> {
        let base = config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let raw = Raw(&values);
        let get = |k: &str| raw.get(k);
        let local_host = match get("LOCAL_HOST") {
            None | Some("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(h) => h.parse().map_err(|_| {
                ConfigError::invalid(
                    "LOCAL_HOST",
                    format!("{h:?} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)"),
                )
            })?,
        };
        let local_port = parse_num::<u16>(
            &raw,
            "LOCAL_PORT",
            5005,
            0,
            u16::MAX as u64,
            "a port number",
        )?;
        let modules = parse_modules(get("MODULES").unwrap_or("base,print,scale,rfid"))?;
        let allowed_origins =
            parse_origins(get("ALLOWED_ORIGINS").unwrap_or(keys::DEFAULT_ORIGINS))?;
        let resolve = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                base.join(p)
            }
        };
        let cert_dir = get("CERT_DIR")
            .map(resolve)
            .unwrap_or_else(|| base.join("certs"));
        let data_dir = get("DATA_DIR")
            .map(resolve)
            .unwrap_or_else(default_data_dir);
        let log_level = get("LOG_LEVEL").unwrap_or("info").to_string();
        tracing_subscriber::EnvFilter::try_new(&log_level).map_err(|e| {
            ConfigError::invalid(
                "LOG_LEVEL",
                format!(
                    "{log_level:?} is not a level or filter (error, warn, info, debug, trace): {e}"
                ),
            )
        })?;
        let admin_token = parse_token(&raw, "ADMIN_TOKEN")?;
        let lan_token = parse_token(&raw, "LAN_TOKEN")?;
        let admin_from_lan = parse_switch(&raw, "ADMIN_FROM_LAN", false)?;
        let lan_plain_tokens = parse_switch(&raw, "LAN_PLAIN_TOKENS", false)?;
        let lan_idle_timeout =
            match parse_num(&raw, "LAN_IDLE_TIMEOUT_S", 120u64, 0, 86_400, "seconds")? {
                0 => None,
                s => Some(Duration::from_secs(s)),
            };
        let lan_max_pending_per_address = parse_num(
            &raw,
            "LAN_MAX_PENDING_PER_ADDRESS",
            16usize,
            1,
            65_536,
            "a number of connections",
        )?;
        let max_connections = parse_num(
            &raw,
            "MAX_CONNECTIONS",
            2048usize,
            1,
            100_000,
            "a number of connections",
        )?;
        let max_frame_bytes = parse_num(
            &raw,
            "MAX_FRAME_BYTES",
            32 * 1024 * 1024usize,
            1024,
            1 << 30,
            "a size in bytes",
        )?;
        let max_in_flight = parse_num(
            &raw,
            "MAX_IN_FLIGHT",
            256usize,
            1,
            65_536,
            "a number of requests",
        )?;
        let bytes = |key, default: usize| {
            parse_num(&raw, key, default, 64 * 1024, 1 << 40, "a size in bytes")
        };
        let max_in_flight_bytes = bytes("MAX_IN_FLIGHT_BYTES", 64 << 20)?;
        let max_total_in_flight_bytes = bytes("MAX_TOTAL_IN_FLIGHT_BYTES", 512 << 20)?;
        let ms = |key, default| {
            parse_num(&raw, key, default, 1, 3_600_000, "milliseconds").map(Duration::from_millis)
        };
        let handshake_timeout = ms("HANDSHAKE_TIMEOUT_MS", 10_000)?;
        let shutdown_grace = ms("SHUTDOWN_GRACE_MS", 5_000)?;
        let heartbeat = Duration::from_secs(parse_num(
            &raw,
            "HEARTBEAT_SECS",
            30u64,
            0,
            86_400,
            "seconds",
        )?);
        let viewer_port = match get("VIEWER_PORT") {
            Some(v)
                if ["off", "no", "false", "none"].contains(&v.to_ascii_lowercase().as_str()) =>
            {
                None
            }
            _ => Some(parse_num::<u16>(
                &raw,
                "VIEWER_PORT",
                8081,
                0,
                u16::MAX as u64,
                "a port number or off",
            )?),
        };
        let command_log = parse_switch(&raw, "COMMAND_LOG", true)?;
        let command_log_max_age = Duration::from_secs(
            86_400 * parse_num::<u64>(&raw, "COMMAND_LOG_DAYS", 14, 1, 3650, "a number of days")?,
        );
        let command_log_max_bytes = 1024
            * 1024
            * parse_num::<u64>(&raw, "COMMAND_LOG_MAX_MB", 200, 1, 100_000, "a size in MiB")?;
        // The gateway's keys are read where it starts; checked here so a bad one is refused
        // when the configuration is saved, naming the key.
        RemoteConfig::from_values(&values, &base)?;
        if viewer_port.is_some() && viewer_port == Some(local_port) && local_port != 0 {
            return Err(ConfigError::invalid(
                "VIEWER_PORT",
                format!("{local_port} is already LOCAL_PORT; pick another port or off"),
            ));
        }
        Ok(ConfigEnv {
            local_host,
            local_port,
            modules,
            allowed_origins,
            cert_dir,
            data_dir,
            log_level,
            admin_token,
            lan_token,
            admin_from_lan,
            lan_plain_tokens,
            lan_idle_timeout,
            lan_max_pending_per_address,
            max_connections,
            max_frame_bytes,
            max_in_flight,
            max_in_flight_bytes,
            max_total_in_flight_bytes,
            handshake_timeout,
            shutdown_grace,
            heartbeat,
            viewer_port,
            command_log,
            command_log_max_age,
            command_log_max_bytes,
            config_path: config_path.to_path_buf(),
            values,
        })
    }

    /// A configuration for tests: loopback, port 0, data in `data_dir`, no file, no environment.
    pub fn for_tests(data_dir: &Path) -> ConfigEnv {
        let mut values = BTreeMap::new();
        values.insert("LOCAL_PORT".to_string(), "0".to_string());
        values.insert(
            "DATA_DIR".to_string(),
            data_dir.to_string_lossy().into_owned(),
        );
        values.insert("HEARTBEAT_SECS".to_string(), "0".to_string());
        values.insert("VIEWER_PORT".to_string(), "0".to_string());
        ConfigEnv::from_values(values, &data_dir.join(".env"))
            .unwrap_or_else(|e| panic!("test config: {e}"))
    }

    /// Whether the server listens on loopback only (no token needed for local clients).
    pub fn is_loopback(&self) -> bool {
        self.local_host.is_loopback()
    }

    /// Every key with its effective value (defaults included), secrets replaced by `"***"`.
    pub fn redacted(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .values
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if is_secret_key(k) {
                        "***".to_string()
                    } else {
                        redact_uri_secrets(v)
                    },
                )
            })
            .collect();
        let modules: Vec<&str> = self.modules.iter().map(|m| m.name()).collect();
        let effective = [
            ("LOCAL_HOST", self.local_host.to_string()),
            ("LOCAL_PORT", self.local_port.to_string()),
            ("MODULES", modules.join(",")),
            ("ALLOWED_ORIGINS", self.allowed_origins.join(",")),
            ("CERT_DIR", self.cert_dir.display().to_string()),
            ("DATA_DIR", self.data_dir.display().to_string()),
            ("LOG_LEVEL", self.log_level.clone()),
            ("ADMIN_TOKEN", "***".to_string()),
            ("MAX_CONNECTIONS", self.max_connections.to_string()),
            ("MAX_FRAME_BYTES", self.max_frame_bytes.to_string()),
            ("MAX_IN_FLIGHT", self.max_in_flight.to_string()),
            (
                "HANDSHAKE_TIMEOUT_MS",
                self.handshake_timeout.as_millis().to_string(),
            ),
            (
                "SHUTDOWN_GRACE_MS",
                self.shutdown_grace.as_millis().to_string(),
            ),
            ("HEARTBEAT_SECS", self.heartbeat.as_secs().to_string()),
            (
                "VIEWER_PORT",
                self.viewer_port
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "off".into()),
            ),
            (
                "COMMAND_LOG",
                if self.command_log { "on" } else { "off" }.to_string(),
            ),
            (
                "COMMAND_LOG_DAYS",
                (self.command_log_max_age.as_secs() / 86_400).to_string(),
            ),
            (
                "COMMAND_LOG_MAX_MB",
                (self.command_log_max_bytes / (1024 * 1024)).to_string(),
            ),
        ];
        for (k, v) in effective {
            out.insert(k.to_string(), v);
        }
        if self.lan_token.is_some() {
            out.insert("LAN_TOKEN".into(), "***".into());
        }
        out
    }
}

/// The keys and values written in a `.env` file (no defaults, no environment); empty when the file
/// does not exist.
///
/// Fails when the file exists but cannot be read or parsed.
pub fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut values = BTreeMap::new();
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(values)
        }
        Err(e) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
        }
    };
    for item in iter {
        let (k, v) = item.map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        values.insert(k, v);
    }
    Ok(values)
}

/// Raw values with blanks treated as unset.
struct Raw<'a>(&'a BTreeMap<String, String>);

impl<'a> Raw<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

fn parse_num<T: TryFrom<u64> + Copy>(
    raw_values: &Raw,
    key: &str,
    default: T,
    min: u64,
    max: u64,
    what: &str,
) -> Result<T, ConfigError> {
    let Some(raw) = raw_values.get(key) else {
        return Ok(default);
    };
    let n: u64 = raw.parse().map_err(|_| {
        ConfigError::invalid(
            key,
            format!("{raw:?} is not {what} (a whole number {min}–{max})"),
        )
    })?;
    if n < min || n > max {
        return Err(ConfigError::invalid(
            key,
            format!("{n} is out of range ({min}–{max})"),
        ));
    }
    T::try_from(n).map_err(|_| ConfigError::invalid(key, format!("{n} is out of range")))
}

fn parse_switch(raw: &Raw, key: &str, default: bool) -> Result<bool, ConfigError> {
    match raw.get(key).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("on" | "1" | "true" | "yes") => Ok(true),
        Some("off" | "0" | "false" | "no") => Ok(false),
        Some(other) => Err(ConfigError::invalid(
            key,
            format!("{other:?} is not on or off"),
        )),
    }
}

fn parse_modules(raw: &str) -> Result<Vec<ModuleKind>, ConfigError> {
    let mut modules = vec![ModuleKind::Base];
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let kind = ModuleKind::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = ModuleKind::ALL.iter().map(|m| m.name()).collect();
            ConfigError::invalid(
                "MODULES",
                format!("unknown module {name:?} (known: {})", known.join(", ")),
            )
        })?;
        if !modules.contains(&kind) {
            modules.push(kind);
        }
    }
    Ok(modules)
}

fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        OriginPattern::parse(origin)
            .map_err(|why| ConfigError::invalid("ALLOWED_ORIGINS", format!("{origin:?}: {why}")))?;
        out.push(origin.trim_end_matches('/').to_string());
    }
    Ok(out)
}

/// A value with the credentials a URI may carry masked: `user:password@` and query parameters
/// with a secret-looking name (`?token=…`, `&key=…`). Other text is returned as it is.
pub fn redact_uri_secrets(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_string();
    };
    let (place, query) = rest
        .split_once('?')
        .map_or((rest, None), |(p, q)| (p, Some(q)));
    let place = match place.split_once('@') {
        Some((_, host)) if !place[..place.find('@').unwrap_or(0)].contains('/') => {
            format!("***@{host}")
        }
        _ => place.to_string(),
    };
    let mut out = format!("{scheme}://{place}");
    if let Some(q) = query {
        let items: Vec<String> = q
            .split('&')
            .map(|item| match item.split_once('=') {
                Some((k, _)) if is_secret_key(k) => format!("{k}=***"),
                _ => item.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&items.join("&"));
    }
    out
}

fn parse_token(raw: &Raw, key: &str) -> Result<Option<String>, ConfigError> {
    match raw.get(key) {
        None => Ok(None),
        // 32 characters of a random alphabet: too many to guess against a LAN listener.
        Some(t) if t.chars().count() < 32 => {
            Err(ConfigError::invalid(key, "must be at least 32 characters"))
        }
        Some(t) if t.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(
            ConfigError::invalid(key, "must not contain spaces or control characters"),
        ),
        Some(t) => Ok(Some(t.to_string())),
    }
}

#[cfg(test)]
mod tests;

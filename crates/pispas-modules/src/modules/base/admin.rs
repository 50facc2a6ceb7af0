//! BASE's configuration actions (admin token required), used by the configurator window:
//! `CONFIG_SCHEMA` (every key with help, default, the file's value and the effective one, the TLS
//! certificate, the modules), `CONFIG_SAVE` (validate, write the `.env` atomically keeping a
//! `.bak`, then restart the engine in place) and `RESTART`.
//!
//! Validation is `ConfigEnv::from_values`, the same code that loads the file at start; nothing is
//! written when any value is refused, and the refusal names the key so the page can show it next
//! to the field.

use super::BaseContext;
use crate::config::{
    is_config_key, is_secret_key, read_env_file, save_env, ConfigEnv, ConfigError, ModuleKind,
    FILE_ONLY_KEYS, KEYS, PRINTER_OUTPUT_DIR,
};
use crate::protocol::{ErrorCode, Failure};
use crate::router::{Outcome, RequestContext};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a secret's value is shown as, and what the configurator sends back to keep it.
const KEEP_SECRET: &str = "***";
/// Time for the CONFIG_SAVE reply to reach the page before the engine stops.
const RESTART_DELAY: Duration = Duration::from_millis(200);

/// `CONFIG_SCHEMA`: everything the configurator needs to draw its form.
pub(super) fn schema(info: &BaseContext) -> Outcome {
    let config = &info.config;
    let file = read_env_file(&config.config_path).map_err(config_failure)?;
    let effective = config.redacted();
    let keys: Vec<Value> = KEYS
        .iter()
        .map(|(key, default, help)| {
            let secret = is_secret_key(key);
            let value = file.get(*key).map(|v| {
                if secret && !v.is_empty() {
                    KEEP_SECRET.to_string()
                } else {
                    v.clone()
                }
            });
            json!({
                "KEY": key,
                "DEFAULT": default,
                "HELP": help,
                "FILE_ONLY": FILE_ONLY_KEYS.contains(key),
                "VALUE": value,
                "EFFECTIVE": effective.get(*key),
                "SECRET": secret,
                "FROM_ENV": std::env::var_os(key).is_some(),
            })
        })
        .collect();
    let extra: Map<String, Value> = file
        .iter()
        .filter(|(k, _)| !KEYS.iter().any(|(known, _, _)| known == k))
        .map(|(k, v)| {
            let shown = if is_secret_key(k) {
                KEEP_SECRET
            } else {
                v.as_str()
            };
            (k.clone(), json!(shown))
        })
        .collect();
    let modules: Vec<Value> = ModuleKind::ALL
        .iter()
        .map(|m| {
            json!({ "NAME": m.name(), "TARGET": m.target(), "ENABLED": config.modules.contains(m),
                    "ALWAYS_ON": *m == ModuleKind::Base })
        })
        .collect();
    let facts = &info.server.tls;
    let mut tls = facts.details.clone();
    if let Value::Object(m) = &mut tls {
        m.insert("SOURCE".into(), json!(facts.source()));
        m.insert("DIR".into(), json!(facts.dir.display().to_string()));
    }
    Ok(json!({
        "PATH": config.config_path.display().to_string(),
        "DATA_DIR": config.data_dir.display().to_string(),
        "KEYS": keys,
        "EXTRA": extra,
        "MODULES": modules,
        "ALLOWED_ORIGINS": config.allowed_origins,
        "TLS": tls,
        "RESTART_SUPPORTED": info.control.is_some(),
    }))
}

/// `CONFIG_SAVE {VALUES: {KEY: value, …}, DRY_RUN?}`: the whole file as the configurator wants
/// it. A blank value removes the key; `***` for a secret keeps the saved one.
pub(super) fn save(
    info: &BaseContext,
    given: Map<String, Value>,
    dry_run: bool,
    ctx: &RequestContext,
) -> Outcome {
    let path = info.config.config_path.clone();
    let previous = read_env_file(&path).map_err(config_failure)?;
    let mut values = BTreeMap::new();
    for (key, value) in &given {
        let key = key.trim().to_ascii_uppercase();
        let value = match value {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "on" } else { "off" }.to_string(),
            Value::Null => continue,
            _ => {
                return Err(invalid(&key, "must be a text value"));
            }
        };
        if value.is_empty() {
            continue;
        }
        if value == KEEP_SECRET && is_secret_key(&key) {
            if let Some(old) = previous.get(&key) {
                values.insert(key, old.clone());
            }
            continue;
        }
        values.insert(key, value);
    }
    check_file_only(&previous, &values, &info.config.data_dir, &path)?;
    let candidate = ConfigEnv::from_values(values.clone(), &path).map_err(config_failure)?;
    check_ports(info, &candidate)?;
    let overridden: Vec<&str> = values
        .keys()
        .filter(|k| is_config_key(k) && std::env::var_os(k.as_str()).is_some())
        .map(String::as_str)
        .collect();
    if dry_run {
        return Ok(json!({ "VALID": true, "SAVED": false, "ENV_OVERRIDES": overridden }));
    }
    save_env(&path, &values).map_err(config_failure)?;
    tracing::info!(path = %path.display(), by = ctx.origin.as_deref().unwrap_or("native client"), "configuration saved");
    let restarting = schedule_restart(info, "configuration saved");
    Ok(json!({
        "VALID": true,
        "SAVED": true,
        "PATH": path.display().to_string(),
        "BACKUP": path.with_extension("bak").display().to_string(),
        "RESTARTING": restarting,
        "LOCAL_PORT": candidate.local_port,
        "VIEWER_PORT": candidate.viewer_port,
        "ENV_OVERRIDES": overridden,
    }))
}

/// `RESTART`: restarts the engine in place (the reply goes out first).
pub(super) fn restart(info: &BaseContext) -> Outcome {
    if !schedule_restart(info, "RESTART requested") {
        return Err(Failure::new(
            ErrorCode::ModuleUnavailable,
            "this engine runs without a host and cannot restart itself",
        ));
    }
    Ok(json!({ "RESTARTING": true }))
}

fn schedule_restart(info: &BaseContext, reason: &'static str) -> bool {
    let Some(control) = info.control.clone() else {
        return false;
    };
    tokio::spawn(async move {
        tokio::time::sleep(RESTART_DELAY).await;
        control.restart(reason);
    });
    true
}

/// The admin token is not code execution: keys that name a program the service runs keep the
/// file's value, and a `file://` printer may only write under DATA_DIR/printer-output (a file
/// printer anywhere else would let RAW prints append to, say, a Startup folder).
fn check_file_only(
    previous: &BTreeMap<String, String>,
    values: &BTreeMap<String, String>,
    data_dir: &std::path::Path,
    file: &std::path::Path,
) -> Result<(), Failure> {
    for key in FILE_ONLY_KEYS {
        if values.get(*key) != previous.get(*key) {
            return Err(invalid(
                key,
                &format!(
                    "names a program the service runs, so it is only changed by editing {} by hand",
                    file.display()
                ),
            ));
        }
    }
    let allowed = data_dir.join(PRINTER_OUTPUT_DIR);
    for (key, value) in values {
        if !key.starts_with("PRINTER_") || previous.get(key) == Some(value) {
            continue;
        }
        let Some(rest) = value.trim().strip_prefix("file://") else {
            continue;
        };
        let target = std::path::Path::new(rest.split('?').next().unwrap_or(""));
        let inside = target.is_absolute()
            && !target
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
            && target.starts_with(&allowed);
        if !inside {
            return Err(invalid(
                key,
                &format!(
                    "a file printer set from the configurator writes only under {} (other paths are set by editing {} by hand)",
                    allowed.display(),
                    file.display()
                ),
            ));
        }
    }
    Ok(())
}

/// A new LOCAL_PORT or VIEWER_PORT must be free now, or the restart would fail.
fn check_ports(info: &BaseContext, candidate: &ConfigEnv) -> Result<(), Failure> {
    let current = &info.config;
    let same_listener =
        candidate.local_port == current.local_port && candidate.local_host == current.local_host;
    if candidate.local_port != 0 && !same_listener {
        let addr = std::net::SocketAddr::new(candidate.local_host, candidate.local_port);
        if let Err(e) = std::net::TcpListener::bind(addr) {
            return Err(invalid(
                "LOCAL_PORT",
                &format!(
                    "port {} cannot be used ({}): another program has it; pick another",
                    candidate.local_port,
                    short_io(&e)
                ),
            ));
        }
    }
    let viewer_now = info.server.viewer_addr.map(|a| a.port());
    if let Some(port) = candidate.viewer_port.filter(|p| *p != 0) {
        if Some(port) != viewer_now && current.viewer_port != Some(port) {
            if let Err(e) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                return Err(invalid(
                    "VIEWER_PORT",
                    &format!(
                        "port {port} cannot be used ({}): another program has it; pick another",
                        short_io(&e)
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn short_io(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        "in use".into()
    } else {
        e.to_string()
    }
}

fn invalid(key: &str, message: &str) -> Failure {
    Failure::new(ErrorCode::InvalidConfig, format!("{key}: {message}"))
        .with_details(json!({ "KEY": key, "REASON": message }))
}

fn config_failure(e: ConfigError) -> Failure {
    match &e {
        ConfigError::Invalid { key, message } => invalid(key, message),
        ConfigError::Read { .. } | ConfigError::Write { .. } => {
            Failure::new(ErrorCode::InvalidConfig, e.to_string())
        }
    }
}

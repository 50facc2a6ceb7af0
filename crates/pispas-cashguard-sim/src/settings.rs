//! The simulator's own options, read from `initCG`'s `initSettings` (free text: keys it does not
//! know, such as the vendor's own, are ignored) and from the `CGSIM_CONTROL` environment
//! variable. Format: `key=value;key=value`. `CGSIM_CONTROL` may also be a bare address
//! (`127.0.0.1:0`), meaning `control=127.0.0.1:0`. Where both name a key, `initSettings` wins.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::scenario::Scenario;

pub const ENV_VAR: &str = "CGSIM_CONTROL";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// Loopback address of the control listener (port 0 = any free port).
    pub control: Option<SocketAddr>,
    /// Where to write `{"control":"127.0.0.1:PORT",…}` once listening.
    pub state: Option<PathBuf>,
    /// Initial counts, `denom:count,…` (on top of the default stock).
    pub stock: Vec<(u32, u32)>,
    pub limit: Option<i64>,
    pub scenario: Option<Scenario>,
}

/// Why the options were refused (initCG answers INPUT_PARAM_ERROR, or PORT_ERROR for control).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("control={0}: expected a loopback address such as 127.0.0.1:0")]
    Control(String),
    #[error("{key}={value}: {why}")]
    Value {
        key: &'static str,
        value: String,
        why: String,
    },
}

impl Settings {
    /// Options from the environment, then `init_settings` over them.
    ///
    /// Fails naming the first bad value.
    pub fn resolve(init_settings: &str, env: Option<&str>) -> Result<Settings, SettingsError> {
        let mut s = Settings::default();
        if let Some(env) = env.map(str::trim).filter(|e| !e.is_empty()) {
            if env.contains('=') {
                s.apply(env)?;
            } else {
                s.apply(&format!("control={env}"))?;
            }
        }
        s.apply(init_settings)?;
        Ok(s)
    }

    fn apply(&mut self, text: &str) -> Result<(), SettingsError> {
        for pair in text.split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            match key.to_ascii_lowercase().as_str() {
                "control" => self.control = Some(parse_control(value)?),
                "state" => self.state = Some(PathBuf::from(value)),
                "stock" => {
                    self.stock = parse_levels(value).map_err(|why| SettingsError::Value {
                        key: "stock",
                        value: value.into(),
                        why,
                    })?;
                }
                "limit" => {
                    self.limit = parse_limit(value).map_err(|why| SettingsError::Value {
                        key: "limit",
                        value: value.into(),
                        why,
                    })?;
                }
                "scenario" => {
                    self.scenario = Some(value.parse().map_err(|why| SettingsError::Value {
                        key: "scenario",
                        value: value.into(),
                        why,
                    })?);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Only loopback: a control port reachable from the LAN would let anyone "insert cash".
fn parse_control(value: &str) -> Result<SocketAddr, SettingsError> {
    let addr: SocketAddr = value
        .parse()
        .map_err(|_| SettingsError::Control(value.into()))?;
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(SettingsError::Control(value.into()))
    }
}

/// `500:10,1000:8` (also `;`-free because the option list uses `;`).
pub fn parse_levels(text: &str) -> Result<Vec<(u32, u32)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (d, n) = p
                .split_once(':')
                .ok_or_else(|| format!("{p}: expected denomination:count"))?;
            let d = d
                .trim()
                .parse()
                .map_err(|_| format!("{p}: bad denomination"))?;
            let n = n.trim().parse().map_err(|_| format!("{p}: bad count"))?;
            Ok((d, n))
        })
        .collect()
}

/// `5000` cents, or `off`/`none`/`0` for no limit.
pub fn parse_limit(text: &str) -> Result<Option<i64>, String> {
    match text {
        "off" | "none" | "0" => Ok(None),
        t => t
            .parse::<i64>()
            .ok()
            .filter(|&v| v > 0)
            .map(Some)
            .ok_or_else(|| format!("{t}: expected cents > 0 or off")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_settings_override_the_environment_and_unknown_keys_are_ignored() {
        let s = Settings::resolve(
            "vendorKey=1;control=127.0.0.1:4000;stock=500:3",
            Some("control=127.0.0.1:0;limit=900"),
        )
        .unwrap();
        assert_eq!(s.control, Some("127.0.0.1:4000".parse().unwrap()));
        assert_eq!(s.limit, Some(900));
        assert_eq!(s.stock, vec![(500, 3)]);
    }

    #[test]
    fn a_bare_address_in_the_environment_is_the_control_endpoint() {
        let s = Settings::resolve("", Some("127.0.0.1:0")).unwrap();
        assert_eq!(s.control, Some("127.0.0.1:0".parse().unwrap()));
    }

    #[test]
    fn a_non_loopback_control_address_is_refused() {
        assert!(matches!(
            Settings::resolve("control=0.0.0.0:1", None),
            Err(SettingsError::Control(_))
        ));
    }

    #[test]
    fn bad_levels_name_the_piece() {
        assert_eq!(parse_levels("500:x").unwrap_err(), "500:x: bad count");
        assert_eq!(
            parse_levels("500:1, 1000:2").unwrap(),
            vec![(500, 1), (1000, 2)]
        );
    }
}

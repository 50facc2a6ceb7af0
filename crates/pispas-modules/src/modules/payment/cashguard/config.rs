//! The cash machine as configured: `CASHGUARD=lib://<path to cglogics.dll>?port=COM1`
//! (`register=` and `cashier=` name the session, default `1`; `settings=` is handed to `initCG`
//! as its initSettings). One machine: the vendor library is one machine per process. The key
//! loads a library into the service, so it is set in the `.env` file only, never over the
//! protocol (config::FILE_ONLY_KEYS).

use crate::devices::DEFAULT_NAME;
use crate::transport::uri::percent_decode;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashGuardConfig {
    pub name: String,
    pub library: PathBuf,
    pub port: String,
    pub register: String,
    pub cashier: String,
    pub settings: String,
}

/// Reads `CASHGUARD`; `None` when it is not set.
pub fn machine_from(values: &BTreeMap<String, String>) -> Result<Option<CashGuardConfig>, String> {
    let Some(value) = values
        .get("CASHGUARD")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let err = |why: String| format!("CASHGUARD: {why}");
    let rest = value
        .strip_prefix("lib://")
        .ok_or_else(|| err("expected lib://<path to cglogics.dll>?port=COM1".into()))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(err("the library path is empty".into()));
    }
    let mut config = CashGuardConfig {
        name: DEFAULT_NAME.into(),
        library: PathBuf::from(percent_decode(path)),
        port: String::new(),
        register: "1".into(),
        cashier: "1".into(),
        settings: String::new(),
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k {
            "port" => config.port = v,
            "register" => config.register = v,
            "cashier" => config.cashier = v,
            "settings" => config.settings = v,
            other => {
                return Err(err(format!(
                    "unknown option {other:?} (known: port, register, cashier, settings)"
                )))
            }
        }
    }
    if config.port.is_empty() {
        return Err(err(
            "port= is required (the machine's COM port, e.g. port=COM1)".into(),
        ));
    }
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_path_and_its_port_are_read() {
        let values: BTreeMap<String, String> = [(
            "CASHGUARD".to_string(),
            r"lib://C:\CashGuard\cglogics.dll?port=COM3&register=2".to_string(),
        )]
        .into();
        let c = machine_from(&values).unwrap().unwrap();
        assert_eq!(c.library, PathBuf::from(r"C:\CashGuard\cglogics.dll"));
        assert_eq!((c.port.as_str(), c.register.as_str()), ("COM3", "2"));
        let bad: BTreeMap<String, String> =
            [("CASHGUARD".to_string(), "lib:///x.so".to_string())].into();
        assert!(machine_from(&bad).unwrap_err().starts_with("CASHGUARD"));
        assert_eq!(machine_from(&BTreeMap::new()), Ok(None));
    }
}

//! myPOS terminals as configured: `MYPOS=tcp://<terminal-ip>:<port>` (ECR mode over Wi-Fi) or
//! `MYPOS=serial://<port>?baud=115200` (USB-CDC / RS-232) is the terminal named DEFAULT;
//! `MYPOS_<NAME>=…` adds named ones. Errors start with the key.

use crate::devices::DEFAULT_NAME;
use crate::transport::serial::SerialSettings;
use crate::transport::uri::{DeviceUri, UriError};
use crate::transport::Endpoint;
use std::collections::BTreeMap;

/// One configured terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct MyposConfig {
    pub name: String,
    pub key: String,
    pub endpoint: Endpoint,
    /// 115200 8N1 unless the URI says otherwise (public clients use it; a pty ignores it).
    pub serial: SerialSettings,
}

/// Reads every `MYPOS`/`MYPOS_<NAME>` key.
pub fn terminals_from(values: &BTreeMap<String, String>) -> Result<Vec<MyposConfig>, String> {
    let mut out = Vec::new();
    for (key, value) in values {
        let name = match key.as_str() {
            "MYPOS" => DEFAULT_NAME.to_string(),
            k => match k.strip_prefix("MYPOS_") {
                Some(n) if !n.is_empty() => n.to_ascii_uppercase(),
                _ => continue,
            },
        };
        if value.trim().is_empty() {
            continue;
        }
        out.push(parse_one(&name, key, value.trim()).map_err(|e| format!("{key}: {e}"))?);
    }
    Ok(out)
}

fn parse_one(name: &str, key: &str, value: &str) -> Result<MyposConfig, UriError> {
    let uri = DeviceUri::parse(value)?;
    let endpoint = Endpoint::from_uri(&uri)?;
    let base = SerialSettings {
        baud: 115_200,
        ..SerialSettings::DEFAULT
    };
    Ok(MyposConfig {
        name: name.into(),
        key: key.into(),
        endpoint,
        serial: base.with_overrides(&uri)?,
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
    fn tcp_and_serial_terminals_are_read_by_name() {
        let list = terminals_from(&values(&[
            ("MYPOS", "tcp://10.0.0.9:4000"),
            ("MYPOS_BAR", "serial:///dev/ttyACM0?baud=115200"),
        ]))
        .unwrap();
        assert_eq!(list[0].name, "DEFAULT");
        assert_eq!(list[0].endpoint.describe(), "tcp://10.0.0.9:4000");
        assert_eq!(list[1].name, "BAR");
        assert_eq!(list[1].serial.describe(), "115200 8N1");
    }

    #[test]
    fn a_bad_uri_names_its_key() {
        let e = terminals_from(&values(&[("MYPOS_X", "tcp://10.0.0.9")])).unwrap_err();
        assert!(e.starts_with("MYPOS_X"), "{e}");
    }
}

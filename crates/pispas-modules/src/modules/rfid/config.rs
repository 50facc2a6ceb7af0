//! Readers as configured: `RFID=serial:///dev/ttyACM0?protocol=em4100` is the default reader,
//! `RFID_<NAME>=…` adds named ones. `dedup_ms` sets how long a tag must be gone before it counts
//! as presented again (default 1000 ms).

use crate::transport::serial::SerialSettings;
use crate::transport::uri::{DeviceUri, UriError};
use crate::transport::Endpoint;
use std::collections::BTreeMap;
use std::time::Duration;

/// Name of the reader configured as plain `RFID`.
pub use crate::devices::DEFAULT_NAME;

/// How the reader talks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderProtocol {
    /// EM4100 ASCII frames, RDM6300 (14 bytes) and ID-12/ID-20 (16 bytes) alike.
    Em4100,
}

impl ReaderProtocol {
    pub fn name(self) -> &'static str {
        match self {
            ReaderProtocol::Em4100 => "em4100",
        }
    }
}

/// One configured reader.
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderConfig {
    pub name: String,
    pub endpoint: Endpoint,
    pub protocol: ReaderProtocol,
    pub settings: SerialSettings,
    pub dedup: Duration,
}

/// Reads every `RFID`/`RFID_<NAME>` key; fails naming the key whose URI is invalid.
pub fn readers_from(values: &BTreeMap<String, String>) -> Result<Vec<ReaderConfig>, String> {
    let mut out = Vec::new();
    for (key, value) in values {
        let name = match key.as_str() {
            "RFID" => DEFAULT_NAME.to_string(),
            k => match k.strip_prefix("RFID_") {
                Some(n) if !n.is_empty() => n.to_ascii_uppercase(),
                _ => continue,
            },
        };
        if value.trim().is_empty() {
            continue;
        }
        out.push(parse_one(&name, value).map_err(|e| format!("{key}: {e}"))?);
    }
    Ok(out)
}

fn parse_one(name: &str, value: &str) -> Result<ReaderConfig, UriError> {
    let uri = DeviceUri::parse(value)?;
    let protocol = match uri.query.get("protocol").map(|p| p.to_ascii_lowercase()).as_deref() {
        None | Some("em4100") | Some("rdm6300") | Some("id12") | Some("id20") => ReaderProtocol::Em4100,
        Some("pcsc") => {
            return Err(uri.bad_value(
                "protocol",
                "PC/SC readers are not built into this version (build with the `pcsc` feature); use em4100",
            ))
        }
        Some(_) => return Err(uri.bad_value("protocol", "expected em4100")),
    };
    let endpoint = Endpoint::from_uri(&uri)?;
    let settings = SerialSettings::DEFAULT.with_overrides(&uri)?;
    let dedup = Duration::from_millis(uri.get("dedup_ms", "milliseconds")?.unwrap_or(1000));
    Ok(ReaderConfig {
        name: name.to_string(),
        endpoint,
        protocol,
        settings,
        dedup,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_are_read_with_9600_8n1_and_a_one_second_window() {
        let values: BTreeMap<String, String> = [
            (
                "RFID".to_string(),
                "serial:///dev/ttyACM0?protocol=em4100".to_string(),
            ),
            (
                "RFID_DOOR".to_string(),
                "serial://COM5?dedup_ms=2500".to_string(),
            ),
        ]
        .into();
        let list = readers_from(&values).unwrap();
        assert_eq!(list[0].name, DEFAULT_NAME);
        assert_eq!(list[0].settings.describe(), "9600 8N1");
        assert_eq!(list[0].dedup, Duration::from_secs(1));
        assert_eq!(list[1].name, "DOOR");
        assert_eq!(list[1].dedup, Duration::from_millis(2500));
    }

    #[test]
    fn an_unknown_protocol_is_refused_naming_the_key() {
        let values: BTreeMap<String, String> = [(
            "RFID".to_string(),
            "serial://COM5?protocol=mifare".to_string(),
        )]
        .into();
        let e = readers_from(&values).unwrap_err();
        assert!(e.starts_with("RFID:") && e.contains("mifare"), "{e}");
    }
}

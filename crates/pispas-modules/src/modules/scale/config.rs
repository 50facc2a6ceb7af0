//! Scales as configured: `SCALE=serial://COM3?protocol=toledo8217` is the default scale,
//! `SCALE_<NAME>=…` adds named ones. Each protocol brings its line settings; `baud`, `parity`,
//! `databits`, `stopbits` override them; `poll_ms`, `hold_ms` tune the driver.

use super::codec::{DataBits, Parity as CodecParity, ScaleProtocol, StopBits};
use crate::transport::serial::{Parity, SerialSettings};
use crate::transport::uri::{DeviceUri, UriError};
use crate::transport::Endpoint;
use std::collections::BTreeMap;
use std::time::Duration;

/// Name of the scale configured as plain `SCALE`.
pub use crate::devices::DEFAULT_NAME;

/// One configured scale.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleConfig {
    pub name: String,
    /// The configuration key, for messages.
    pub key: String,
    pub endpoint: Endpoint,
    /// `None` means `protocol=auto`.
    pub protocol: Option<ScaleProtocol>,
    /// The URI's line overrides, applied over each protocol's defaults.
    pub uri: DeviceUri,
    /// How often to ask for the weight while someone subscribed (polled protocols only).
    pub poll: Duration,
    /// How long a silent Adam/Dibal scale's last weight is still reported as current.
    pub hold: Duration,
}

impl ScaleConfig {
    /// Line settings for `protocol` with this scale's overrides.
    pub fn settings(&self, protocol: ScaleProtocol) -> Result<SerialSettings, UriError> {
        let line = protocol.line();
        let defaults = SerialSettings {
            baud: line.baud,
            data_bits: if line.data_bits == DataBits::Seven {
                7
            } else {
                8
            },
            parity: match line.parity {
                CodecParity::None => Parity::None,
                CodecParity::Even => Parity::Even,
                CodecParity::Odd => Parity::Odd,
            },
            stop_bits: if line.stop_bits == StopBits::Two {
                2
            } else {
                1
            },
        };
        defaults.with_overrides(&self.uri)
    }
}

/// Reads every `SCALE`/`SCALE_<NAME>` key; fails naming the key whose URI is invalid.
pub fn scales_from(values: &BTreeMap<String, String>) -> Result<Vec<ScaleConfig>, String> {
    let mut out = Vec::new();
    for (key, value) in values {
        let name = match key.as_str() {
            "SCALE" => DEFAULT_NAME.to_string(),
            k => match k.strip_prefix("SCALE_") {
                Some(n) if !n.is_empty() => n.to_ascii_uppercase(),
                _ => continue,
            },
        };
        if value.trim().is_empty() {
            continue;
        }
        out.push(parse_one(&name, key, value).map_err(|e| format!("{key}: {e}"))?);
    }
    Ok(out)
}

fn parse_one(name: &str, key: &str, value: &str) -> Result<ScaleConfig, UriError> {
    let uri = DeviceUri::parse(value)?;
    let endpoint = Endpoint::from_uri(&uri)?;
    let protocol = match uri.query.get("protocol").map(|p| p.to_ascii_lowercase()) {
        None => None,
        Some(p) if p == "auto" => None,
        Some(p) => Some(ScaleProtocol::from_name(&p).ok_or_else(|| {
            let known: Vec<&str> = ScaleProtocol::ALL.iter().map(|p| p.name()).collect();
            uri.bad_value(
                "protocol",
                format!("unknown protocol (known: auto, {})", known.join(", ")),
            )
        })?),
    };
    let default_poll = if protocol == Some(ScaleProtocol::Adam) {
        2000
    } else {
        300
    };
    let poll = Duration::from_millis(
        uri.get("poll_ms", "milliseconds")?
            .unwrap_or(default_poll)
            .max(50),
    );
    let hold = Duration::from_millis(uri.get("hold_ms", "milliseconds")?.unwrap_or(10_000));
    let config = ScaleConfig {
        name: name.to_string(),
        key: key.to_string(),
        endpoint,
        protocol,
        uri,
        poll,
        hold,
    };
    // Validate the line overrides now, so a typo stops startup instead of failing every open.
    config.settings(protocol.unwrap_or(ScaleProtocol::Toledo8217))?;
    Ok(config)
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
    fn the_default_and_named_scales_are_read_with_protocol_line_defaults() {
        let list = scales_from(&values(&[
            ("SCALE", "serial:///dev/ttyUSB0?protocol=toledo8217"),
            ("SCALE_DELI", "serial://COM4?protocol=dialog02&baud=4800"),
            ("SCALES_ARE_GREAT", "x"),
        ]))
        .unwrap();
        assert_eq!(list.len(), 2);
        let toledo = &list[0];
        assert_eq!(toledo.name, DEFAULT_NAME);
        assert_eq!(
            toledo
                .settings(ScaleProtocol::Toledo8217)
                .unwrap()
                .describe(),
            "9600 7E1"
        );
        let deli = &list[1];
        assert_eq!(deli.name, "DELI");
        assert_eq!(
            deli.settings(ScaleProtocol::Dialog02).unwrap().describe(),
            "4800 7O1"
        );
    }

    #[test]
    fn a_missing_protocol_means_auto_and_an_unknown_one_is_refused_naming_the_key() {
        let list = scales_from(&values(&[("SCALE", "serial://COM3")])).unwrap();
        assert_eq!(list[0].protocol, None);
        let e = scales_from(&values(&[("SCALE_X", "serial://COM3?protocol=acme")])).unwrap_err();
        assert!(e.starts_with("SCALE_X") && e.contains("acme"), "{e}");
        let e = scales_from(&values(&[("SCALE", "usb://1234:5678")])).unwrap_err();
        assert!(e.contains("serial://"), "{e}");
    }
}

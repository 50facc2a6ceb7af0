//! Device URIs as written in the configuration: `scheme://path?key=value&…`.
//!
//! `serial:///dev/ttyUSB0?baud=9600` (path `/dev/ttyUSB0`), `serial://COM3`, `serial://\\.\COM10`,
//! `tcp://192.168.1.50:9100?width=576`, `spooler://EPSON TM-T20III`. Deliberately lenient about
//! the path (printer queue names have spaces) and strict about the scheme and the query.

use std::collections::BTreeMap;
use std::fmt;

/// A parsed device URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceUri {
    /// Lower-case scheme (`serial`, `tcp`…).
    pub scheme: String,
    /// Everything between `://` and `?`, percent-decoded.
    pub path: String,
    /// Query parameters with lower-case keys.
    pub query: BTreeMap<String, String>,
}

/// Why a URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("{0:?} is not a device URI (expected scheme://path, e.g. serial://COM3)")]
    NoScheme(String),
    #[error("{0:?} has an empty device path")]
    EmptyPath(String),
    #[error("{uri:?}: query parameter {param:?} has no value (expected key=value)")]
    BadQuery { uri: String, param: String },
    #[error("{uri:?}: {key}={value:?} is invalid: {why}")]
    BadValue {
        uri: String,
        key: String,
        value: String,
        why: String,
    },
}

impl DeviceUri {
    /// Parses `raw`; fails when there is no `scheme://`, the path is empty or a query item has no
    /// `=`.
    pub fn parse(raw: &str) -> Result<DeviceUri, UriError> {
        let raw = raw.trim();
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| UriError::NoScheme(raw.to_string()))?;
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
        {
            return Err(UriError::NoScheme(raw.to_string()));
        }
        let (path, query_text) = rest.split_once('?').unwrap_or((rest, ""));
        let path = percent_decode(path);
        if path.trim().is_empty() {
            return Err(UriError::EmptyPath(raw.to_string()));
        }
        let mut query = BTreeMap::new();
        for item in query_text.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = item.split_once('=').ok_or_else(|| UriError::BadQuery {
                uri: raw.to_string(),
                param: item.to_string(),
            })?;
            query.insert(k.trim().to_ascii_lowercase(), percent_decode(v.trim()));
        }
        Ok(DeviceUri {
            scheme: scheme.to_ascii_lowercase(),
            path,
            query,
        })
    }

    /// A query value parsed as `T`, `Ok(None)` when absent; fails naming the key.
    pub fn get<T: std::str::FromStr>(&self, key: &str, what: &str) -> Result<Option<T>, UriError> {
        match self.query.get(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| UriError::BadValue {
                uri: self.to_string(),
                key: key.to_string(),
                value: v.clone(),
                why: format!("expected {what}"),
            }),
        }
    }

    /// A refusal of `key`'s value, for checks beyond parsing.
    pub fn bad_value(&self, key: &str, why: impl Into<String>) -> UriError {
        UriError::BadValue {
            uri: self.to_string(),
            key: key.to_string(),
            value: self.query.get(key).cloned().unwrap_or_default(),
            why: why.into(),
        }
    }
}

impl fmt::Display for DeviceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.path)?;
        for (i, (k, v)) in self.query.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// Decodes `%XX` escapes (RFC 3986). `+` stays `+`: tokens and device names may contain it,
/// and JavaScript's `encodeURIComponent` writes a space as `%20`. The one decoder of the engine.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_and_windows_serial_paths_parse() {
        let u = DeviceUri::parse("serial:///dev/ttyUSB0?protocol=toledo8217&BAUD=9600").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.path.as_str()),
            ("serial", "/dev/ttyUSB0")
        );
        assert_eq!(u.query["baud"], "9600");
        assert_eq!(u.get::<u32>("baud", "a number").unwrap(), Some(9600));
        assert_eq!(DeviceUri::parse("serial://COM3").unwrap().path, "COM3");
        assert_eq!(
            DeviceUri::parse(r"serial://\\.\COM10?baud=19200")
                .unwrap()
                .path,
            r"\\.\COM10"
        );
    }

    #[test]
    fn queue_names_with_spaces_and_escapes_survive() {
        let u = DeviceUri::parse("spooler://EPSON TM-T20III%20Receipt").unwrap();
        assert_eq!(u.path, "EPSON TM-T20III Receipt");
    }

    #[test]
    fn malformed_uris_are_refused_with_the_reason() {
        assert!(matches!(
            DeviceUri::parse("/dev/ttyUSB0"),
            Err(UriError::NoScheme(_))
        ));
        assert!(matches!(
            DeviceUri::parse("serial://"),
            Err(UriError::EmptyPath(_))
        ));
        assert!(matches!(
            DeviceUri::parse("serial://COM1?baud"),
            Err(UriError::BadQuery { .. })
        ));
        let u = DeviceUri::parse("serial://COM1?baud=fast").unwrap();
        let e = u.get::<u32>("baud", "a number").unwrap_err().to_string();
        assert!(e.contains("baud") && e.contains("fast"), "{e}");
    }
}

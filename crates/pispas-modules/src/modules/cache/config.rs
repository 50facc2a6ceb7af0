//! CACHE's keys → [`CacheConfig`]. Errors start with the key. Defaults are in `config/keys.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

/// The longest KEY, in characters (not configurable: it is part of the protocol).
pub const MAX_KEY_CHARS: usize = 256;

/// CACHE's limits and timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Largest VALUE (its JSON text, in bytes) one key may hold.
    pub max_value_bytes: usize,
    /// Largest total of every key and value stored, in bytes.
    pub max_bytes: u64,
    /// How often expired keys are removed from the disk (readers never see them anyway).
    pub sweep_every: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_value_bytes: 1024 * 1024,
            max_bytes: 256 * 1024 * 1024,
            sweep_every: Duration::from_secs(60),
        }
    }
}

impl CacheConfig {
    /// Reads `CACHE_MAX_VALUE_BYTES`, `CACHE_MAX_BYTES` and `CACHE_SWEEP_SECS`.
    ///
    /// Fails naming the key of a value that is not a number in range.
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<CacheConfig, String> {
        let d = CacheConfig::default();
        let num = |key: &str, default: u64, min: u64, max: u64| -> Result<u64, String> {
            match values.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "{key}: {v:?} is not a whole number from {min} to {max}"
                    )),
                },
            }
        };
        let max_value_bytes = num(
            "CACHE_MAX_VALUE_BYTES",
            d.max_value_bytes as u64,
            16,
            64 * 1024 * 1024,
        )? as usize;
        let max_bytes = num("CACHE_MAX_BYTES", d.max_bytes, 1024, 1 << 40)?;
        if (max_value_bytes as u64) > max_bytes {
            return Err(format!(
                "CACHE_MAX_VALUE_BYTES: {max_value_bytes} is more than CACHE_MAX_BYTES ({max_bytes})"
            ));
        }
        let sweep_every =
            Duration::from_secs(num("CACHE_SWEEP_SECS", d.sweep_every.as_secs(), 1, 86_400)?);
        Ok(CacheConfig {
            max_value_bytes,
            max_bytes,
            sweep_every,
        })
    }
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
    fn the_defaults_are_one_mib_per_value_and_256_mib_in_all() {
        let c = CacheConfig::from_values(&values(&[])).unwrap();
        assert_eq!(c.max_value_bytes, 1 << 20);
        assert_eq!(c.max_bytes, 256 << 20);
    }

    #[test]
    fn a_bad_number_names_its_key() {
        let e = CacheConfig::from_values(&values(&[("CACHE_MAX_BYTES", "lots")])).unwrap_err();
        assert!(e.starts_with("CACHE_MAX_BYTES:"), "{e}");
        let e = CacheConfig::from_values(&values(&[
            ("CACHE_MAX_BYTES", "2048"),
            ("CACHE_MAX_VALUE_BYTES", "4096"),
        ]))
        .unwrap_err();
        assert!(e.starts_with("CACHE_MAX_VALUE_BYTES:"), "{e}");
    }
}

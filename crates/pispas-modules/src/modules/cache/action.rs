//! CACHE's actions parsed once from a request (names declared once with [`crate::actions!`]).
//! Pure and unit-tested; `mod.rs` runs them. Limits on KEY and VALUE are checked here, so a
//! refused write never reaches the database.

use super::config::MAX_KEY_CHARS;
use super::error::CacheError;
use crate::protocol::{Failure, Request};
use serde_json::Value;
use std::time::Duration;

/// LIST's page size when LIMIT is not given.
const DEFAULT_LIMIT: usize = 100;
/// The largest LIST page.
const MAX_LIMIT: usize = 1000;
/// The longest TTL_S accepted (ten years).
const MAX_TTL_S: u64 = 10 * 365 * 86_400;

crate::actions! {
    pub(super) enum Name {
        Set = "SET",
        Get = "GET",
        Delete = "DELETE",
        List = "LIST",
        Clear = "CLEAR",
        Stats = "STATS",
        Subscribe = "SUBSCRIBE",
        Unsubscribe = "UNSUBSCRIBE",
    }
}

/// A CACHE request with its parameters read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    Set {
        key: String,
        /// VALUE as JSON text (what is stored and measured).
        value: String,
        ttl: Option<Duration>,
        if_version: Option<u64>,
    },
    Get {
        key: String,
    },
    Delete {
        key: String,
        if_version: Option<u64>,
    },
    List {
        prefix: String,
        limit: usize,
        after: Option<String>,
        values: bool,
    },
    Clear {
        prefix: String,
    },
    Stats,
    Subscribe {
        prefix: String,
    },
    Unsubscribe {
        prefix: String,
    },
}

/// An action and whether it addresses the shared namespace (`SHARED: true`) rather than the
/// client's own.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Parsed {
    pub action: Action,
    pub shared: bool,
}

impl Action {
    /// Reads the request's action and parameters; `max_value_bytes` is CACHE_MAX_VALUE_BYTES.
    ///
    /// Fails with UNKNOWN_ACTION for an action CACHE does not have, BAD_PARAMS naming the
    /// parameter (a KEY over 256 characters included), or VALUE_TOO_LARGE.
    pub(super) fn parse(request: &Request, max_value_bytes: usize) -> Result<Parsed, Failure> {
        let name = Name::from_wire(&request.action)
            .ok_or_else(|| Failure::unknown_action("CACHE", &request.raw_action, Name::NAMES))?;
        let shared = bool_param(request, "SHARED")?.unwrap_or(false);
        let action = match name {
            Name::Set => {
                let key = key(request)?;
                let value = match request.param("VALUE") {
                    None => return Err(Failure::bad_params("VALUE is missing (any JSON)")),
                    Some(v) => v.to_string(),
                };
                if value.len() > max_value_bytes {
                    return Err(CacheError::ValueTooLarge {
                        size: value.len(),
                        max: max_value_bytes,
                    }
                    .into());
                }
                let ttl =
                    match request.u64_param("TTL_S")? {
                        None => None,
                        Some(0) => return Err(Failure::bad_params(
                            "TTL_S must be at least 1 (leave it out to keep the key until deleted)",
                        )),
                        Some(s) if s > MAX_TTL_S => {
                            return Err(Failure::bad_params(format!(
                                "TTL_S must be at most {MAX_TTL_S} (ten years)"
                            )))
                        }
                        Some(s) => Some(Duration::from_secs(s)),
                    };
                Action::Set {
                    key,
                    value,
                    ttl,
                    if_version: request.u64_param("IF_VERSION")?,
                }
            }
            Name::Get => Action::Get { key: key(request)? },
            Name::Delete => Action::Delete {
                key: key(request)?,
                if_version: request.u64_param("IF_VERSION")?,
            },
            Name::List => {
                let limit = match request.u64_param("LIMIT")? {
                    None => DEFAULT_LIMIT,
                    Some(n) if (1..=MAX_LIMIT as u64).contains(&n) => n as usize,
                    Some(_) => {
                        return Err(Failure::bad_params(format!(
                            "LIMIT must be from 1 to {MAX_LIMIT}"
                        )))
                    }
                };
                Action::List {
                    prefix: prefix(request)?,
                    limit,
                    after: request.str_param("AFTER")?.map(str::to_string),
                    values: bool_param(request, "VALUES")?.unwrap_or(false),
                }
            }
            Name::Clear => Action::Clear {
                prefix: prefix(request)?,
            },
            Name::Stats => Action::Stats,
            Name::Subscribe => Action::Subscribe {
                prefix: prefix(request)?,
            },
            Name::Unsubscribe => Action::Unsubscribe {
                prefix: prefix(request)?,
            },
        };
        Ok(Parsed { action, shared })
    }
}

/// KEY: required, not empty, at most [`MAX_KEY_CHARS`] characters.
fn key(request: &Request) -> Result<String, Failure> {
    let key = request
        .str_param("KEY")?
        .ok_or_else(|| Failure::bad_params("KEY is missing"))?;
    if key.is_empty() {
        return Err(Failure::bad_params("KEY is empty"));
    }
    let chars = key.chars().count();
    if chars > MAX_KEY_CHARS {
        return Err(CacheError::KeyTooLong { chars }.into());
    }
    Ok(key.to_string())
}

/// PREFIX: optional (empty = every key), at most [`MAX_KEY_CHARS`] characters.
fn prefix(request: &Request) -> Result<String, Failure> {
    let prefix = request.str_param("PREFIX")?.unwrap_or("");
    if prefix.chars().count() > MAX_KEY_CHARS {
        return Err(Failure::bad_params(format!(
            "PREFIX must be at most {MAX_KEY_CHARS} characters"
        )));
    }
    Ok(prefix.to_string())
}

fn bool_param(request: &Request, name: &str) -> Result<Option<bool>, Failure> {
    match request.param(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Failure::bad_params(format!("{name} must be true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{parse_request, ErrorCode};
    use serde_json::json;

    fn parse(extra: Value) -> Result<Parsed, Failure> {
        let mut v = json!({"UUIDV4": "1", "TARGET": "CACHE"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        Action::parse(&parse_request(&v.to_string()).unwrap(), 64)
    }

    #[test]
    fn set_keeps_the_value_as_json_text_with_its_ttl_and_version() {
        let p = parse(json!({"ACTION": "set", "KEY": "cart", "VALUE": {"a": [1]}, "TTL_S": 5, "IF_VERSION": 3, "SHARED": true})).unwrap();
        assert!(p.shared);
        assert_eq!(
            p.action,
            Action::Set {
                key: "cart".into(),
                value: r#"{"a":[1]}"#.into(),
                ttl: Some(Duration::from_secs(5)),
                if_version: Some(3)
            }
        );
    }

    #[test]
    fn a_null_value_is_a_value_and_a_missing_one_names_value() {
        assert!(parse(json!({"ACTION": "SET", "KEY": "k", "VALUE": null})).is_ok());
        let f = parse(json!({"ACTION": "SET", "KEY": "k"})).unwrap_err();
        assert!(f.message.starts_with("VALUE"), "{}", f.message);
    }

    #[test]
    fn a_key_of_257_characters_is_refused_and_256_is_accepted() {
        let ok = "é".repeat(256);
        assert!(parse(json!({"ACTION": "GET", "KEY": ok})).is_ok());
        let f = parse(json!({"ACTION": "GET", "KEY": "k".repeat(257)})).unwrap_err();
        assert_eq!(f.code, ErrorCode::BadParams);
        assert!(f.message.starts_with("KEY"), "{}", f.message);
    }

    #[test]
    fn a_value_over_the_limit_is_value_too_large() {
        let f = parse(json!({"ACTION": "SET", "KEY": "k", "VALUE": "x".repeat(100)})).unwrap_err();
        assert_eq!(f.code, ErrorCode::ValueTooLarge);
    }

    #[test]
    fn ttl_zero_limit_zero_and_a_string_shared_are_bad_params() {
        for bad in [
            json!({"ACTION": "SET", "KEY": "k", "VALUE": 1, "TTL_S": 0}),
            json!({"ACTION": "LIST", "LIMIT": 0}),
            json!({"ACTION": "LIST", "LIMIT": 1001}),
            json!({"ACTION": "GET", "KEY": "k", "SHARED": "yes"}),
            json!({"ACTION": "GET", "KEY": ""}),
        ] {
            assert_eq!(
                parse(bad.clone()).unwrap_err().code,
                ErrorCode::BadParams,
                "{bad}"
            );
        }
    }

    #[test]
    fn list_pages_by_100_from_the_start_by_default() {
        let p = parse(json!({"ACTION": "LIST", "PREFIX": "order/"})).unwrap();
        assert_eq!(
            p.action,
            Action::List {
                prefix: "order/".into(),
                limit: 100,
                after: None,
                values: false
            }
        );
    }

    #[test]
    fn an_unknown_action_lists_the_caches_actions() {
        let f = parse(json!({"ACTION": "INCR"})).unwrap_err();
        assert_eq!(f.code, ErrorCode::UnknownAction);
    }
}

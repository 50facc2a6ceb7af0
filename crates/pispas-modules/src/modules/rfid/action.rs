//! RFID's actions parsed once from a request (names declared once with [`crate::actions!`]).
//! Pure and unit-tested; `mod.rs` runs them.

use crate::protocol::{Failure, Request};
use std::time::Duration;

/// READ's default wait for a tag.
const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// The longest TIMEOUT accepted.
const MAX_TIMEOUT_MS: u64 = 300_000;

crate::actions! {
    pub(super) enum Name {
        Read = "READ",
        Last = "LAST",
        Status = "STATUS",
        Subscribe = "SUBSCRIBE",
        Unsubscribe = "UNSUBSCRIBE",
        Ports = "PORTS",
    }
}

/// An RFID request with its parameters read. `reader` is the `READER` parameter, upper-cased
/// (`None`: the default or only reader; for STATUS: every reader).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    Read {
        reader: Option<String>,
        timeout: Duration,
    },
    Last {
        reader: Option<String>,
    },
    Status {
        reader: Option<String>,
    },
    Subscribe {
        reader: Option<String>,
    },
    Unsubscribe {
        reader: Option<String>,
    },
    Ports,
}

impl Action {
    /// Reads the request's action and parameters.
    ///
    /// Fails with UNKNOWN_ACTION for an action RFID does not have, or BAD_PARAMS naming the
    /// parameter.
    pub(super) fn parse(request: &Request) -> Result<Action, Failure> {
        let name = Name::from_wire(&request.action)
            .ok_or_else(|| Failure::unknown_action("RFID", &request.raw_action, Name::NAMES))?;
        let reader = request.str_param("READER")?.map(str::to_ascii_uppercase);
        Ok(match name {
            Name::Read => {
                let timeout = request.u64_param("TIMEOUT")?.unwrap_or(DEFAULT_TIMEOUT_MS);
                if timeout > MAX_TIMEOUT_MS {
                    return Err(Failure::bad_params(format!(
                        "TIMEOUT must be at most {MAX_TIMEOUT_MS} ms"
                    )));
                }
                Action::Read {
                    reader,
                    timeout: Duration::from_millis(timeout),
                }
            }
            Name::Last => Action::Last { reader },
            Name::Status => Action::Status { reader },
            Name::Subscribe => Action::Subscribe { reader },
            Name::Unsubscribe => Action::Unsubscribe { reader },
            Name::Ports => Action::Ports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{parse_request, ErrorCode};

    fn parse(text: &str) -> Result<Action, Failure> {
        Action::parse(&parse_request(text).unwrap())
    }

    #[test]
    fn read_waits_ten_seconds_by_default_and_at_most_five_minutes() {
        let a = parse(r#"{"UUIDV4":"1","TARGET":"RFID","ACTION":"READ","READER":"door"}"#);
        assert_eq!(
            a.unwrap(),
            Action::Read {
                reader: Some("DOOR".into()),
                timeout: Duration::from_secs(10)
            }
        );
        let f = parse(r#"{"UUIDV4":"1","TARGET":"RFID","ACTION":"READ","TIMEOUT":300001}"#)
            .unwrap_err();
        assert_eq!(f.code, ErrorCode::BadParams);
    }

    #[test]
    fn a_timeout_that_is_not_a_number_names_timeout() {
        let f = parse(r#"{"UUIDV4":"1","TARGET":"RFID","ACTION":"READ","TIMEOUT":"soon"}"#)
            .unwrap_err();
        assert!(f.message.starts_with("TIMEOUT"), "{}", f.message);
    }

    #[test]
    fn an_unknown_action_lists_the_readers_actions() {
        let f = parse(r#"{"UUIDV4":"1","TARGET":"RFID","ACTION":"WRITE"}"#).unwrap_err();
        assert_eq!(f.code, ErrorCode::UnknownAction);
    }
}

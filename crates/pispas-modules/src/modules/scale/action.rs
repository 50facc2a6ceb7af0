//! SCALE's actions parsed once from a request (names declared once with [`crate::actions!`]).
//! Pure and unit-tested; `mod.rs` runs them.

use super::codec::ScaleCommand;
use crate::protocol::{Failure, Request};
use std::time::Duration;

/// READ's default wait for a stable weight.
const DEFAULT_TIMEOUT_MS: u64 = 3000;
/// The longest TIMEOUT accepted.
const MAX_TIMEOUT_MS: u64 = 60_000;

crate::actions! {
    pub(super) enum Name {
        Read = "READ",
        Tare = "TARE",
        Zero = "ZERO",
        ClearTare = "CLEARTARE",
        Status = "STATUS",
        Subscribe = "SUBSCRIBE",
        Unsubscribe = "UNSUBSCRIBE",
        Ports = "PORTS",
    }
}

/// A SCALE request with its parameters read. `scale` is the `SCALE` parameter, upper-cased
/// (`None`: the default or only scale; for STATUS: every scale).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    Read {
        scale: Option<String>,
        timeout: Duration,
    },
    /// TARE, ZERO or CLEAR_TARE.
    Command {
        scale: Option<String>,
        command: ScaleCommand,
    },
    Status {
        scale: Option<String>,
    },
    Subscribe {
        scale: Option<String>,
    },
    Unsubscribe {
        scale: Option<String>,
    },
    Ports,
}

impl Action {
    /// Reads the request's action and parameters.
    ///
    /// Fails with UNKNOWN_ACTION for an action SCALE does not have, or BAD_PARAMS naming the
    /// parameter.
    pub(super) fn parse(request: &Request) -> Result<Action, Failure> {
        let name = Name::from_wire(&request.action)
            .ok_or_else(|| Failure::unknown_action("SCALE", &request.raw_action, Name::NAMES))?;
        let scale = request.str_param("SCALE")?.map(str::to_ascii_uppercase);
        let command = |command| Action::Command {
            scale: scale.clone(),
            command,
        };
        Ok(match name {
            Name::Read => {
                let timeout = request.u64_param("TIMEOUT")?.unwrap_or(DEFAULT_TIMEOUT_MS);
                if timeout > MAX_TIMEOUT_MS {
                    return Err(Failure::bad_params(format!(
                        "TIMEOUT must be at most {MAX_TIMEOUT_MS} ms"
                    )));
                }
                Action::Read {
                    scale,
                    timeout: Duration::from_millis(timeout),
                }
            }
            Name::Tare => command(ScaleCommand::Tare),
            Name::Zero => command(ScaleCommand::Zero),
            Name::ClearTare => command(ScaleCommand::ClearTare),
            Name::Status => Action::Status { scale },
            Name::Subscribe => Action::Subscribe { scale },
            Name::Unsubscribe => Action::Unsubscribe { scale },
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
    fn read_takes_the_named_scale_and_its_timeout() {
        let a = parse(
            r#"{"UUIDV4":"1","TARGET":"SCALE","ACTION":"read","SCALE":"back","TIMEOUT":500}"#,
        );
        assert_eq!(
            a.unwrap(),
            Action::Read {
                scale: Some("BACK".into()),
                timeout: Duration::from_millis(500)
            }
        );
    }

    #[test]
    fn read_waits_three_seconds_by_default_and_at_most_a_minute() {
        let a = parse(r#"{"UUIDV4":"1","TARGET":"SCALE","ACTION":"READ"}"#).unwrap();
        assert!(matches!(a, Action::Read { timeout, .. } if timeout == Duration::from_secs(3)));
        let f = parse(r#"{"UUIDV4":"1","TARGET":"SCALE","ACTION":"READ","TIMEOUT":60001}"#)
            .unwrap_err();
        assert!(f.message.starts_with("TIMEOUT"), "{}", f.message);
    }

    #[test]
    fn clear_tare_is_a_scale_command() {
        let a = parse(r#"{"UUIDV4":"1","TARGET":"SCALE","ACTION":"CLEAR_TARE"}"#).unwrap();
        assert_eq!(
            a,
            Action::Command {
                scale: None,
                command: ScaleCommand::ClearTare
            }
        );
    }

    #[test]
    fn a_scale_name_that_is_not_text_names_the_parameter() {
        let f =
            parse(r#"{"UUIDV4":"1","TARGET":"SCALE","ACTION":"STATUS","SCALE":3}"#).unwrap_err();
        assert_eq!(f.code, ErrorCode::BadParams);
        assert!(f.message.starts_with("SCALE"), "{}", f.message);
    }

    #[test]
    fn an_unknown_action_lists_the_scales_actions() {
        let f = parse(r#"{"UUIDV4":"1","TARGET":"SCALE","ACTION":"WEIGH"}"#).unwrap_err();
        assert_eq!(f.code, ErrorCode::UnknownAction);
        assert_eq!(f.details.unwrap()["ACTIONS"][0], "READ");
    }
}

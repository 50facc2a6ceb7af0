//! BASE's actions, parsed once from a request: the names (declared once with
//! [`crate::actions!`]) and the parameters each carries. Pure and unit-tested; `mod.rs` runs them.

use super::log::LogAction;
use super::platform::Change;
use crate::protocol::{Failure, Request};
use serde_json::{Map, Value};
use std::time::Duration;

/// Longest `ECHO` delay accepted.
const MAX_ECHO_DELAY_MS: u64 = 60_000;

crate::actions! {
    pub(super) enum Name {
        Check = "CHECK",
        Ping = "PING",
        Version = "VERSION",
        Config = "CONFIG",
        Status = "STATUS",
        Heartbeat = "HEARTBEAT",
        Subscribe = "SUBSCRIBE",
        Unsubscribe = "UNSUBSCRIBE",
        Echo = "ECHO",
        ListPorts = "LISTPORTS",
        ConfigSchema = "CONFIGSCHEMA",
        ConfigSave = "CONFIGSAVE",
        Restart = "RESTART",
        LogQuery = "LOGQUERY",
        LogGet = "LOGGET",
        LogExport = "LOGEXPORT",
        LogSubscribe = "LOGSUBSCRIBE",
        LogUnsubscribe = "LOGUNSUBSCRIBE",
        PlatformStatus = "PLATFORMSTATUS",
        HostsAdd = "HOSTSADD",
        HostsRemove = "HOSTSREMOVE",
        BrowserPolicySet = "BROWSERPOLICYSET",
        BrowserPolicyRemove = "BROWSERPOLICYREMOVE",
        RemoteTest = "REMOTETEST",
    }
}

impl Name {
    /// Actions that need the admin token (checked before their parameters are read).
    pub(super) fn admin_only(self) -> bool {
        match self {
            Name::ConfigSchema
            | Name::ConfigSave
            | Name::Restart
            | Name::PlatformStatus
            | Name::HostsAdd
            | Name::HostsRemove
            | Name::BrowserPolicySet
            | Name::BrowserPolicyRemove
            | Name::RemoteTest => true,
            _ => self.is_log(),
        }
    }

    /// The command log's actions.
    pub(super) fn is_log(self) -> bool {
        matches!(
            self,
            Name::LogQuery
                | Name::LogGet
                | Name::LogExport
                | Name::LogSubscribe
                | Name::LogUnsubscribe
        )
    }
}

/// A BASE request with its parameters read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    Check,
    Ping,
    Version,
    Config,
    Status,
    Heartbeat,
    Subscribe,
    Unsubscribe,
    Echo {
        delay: Duration,
        data: Value,
    },
    ListPorts,
    ConfigSchema,
    /// The whole file as the configurator wants it, and whether only to validate it.
    ConfigSave {
        values: Map<String, Value>,
        dry_run: bool,
    },
    Restart,
    Log(LogAction),
    PlatformStatus,
    /// A change to the OS: the hosts entry or the browser policy.
    Platform(Change),
    /// One connection attempt to the remote gateway with the saved REMOTE_* keys, or with
    /// `values` (the configurator's unsaved form) over them.
    RemoteTest {
        values: Map<String, Value>,
    },
}

impl Action {
    /// Reads `name`'s parameters from `request`.
    ///
    /// Fails with BAD_PARAMS naming the parameter that is missing or of the wrong type.
    pub(super) fn parse(name: Name, request: &Request) -> Result<Action, Failure> {
        Ok(match name {
            Name::Check => Action::Check,
            Name::Ping => Action::Ping,
            Name::Version => Action::Version,
            Name::Config => Action::Config,
            Name::Status => Action::Status,
            Name::Heartbeat => Action::Heartbeat,
            Name::Subscribe => Action::Subscribe,
            Name::Unsubscribe => Action::Unsubscribe,
            Name::Echo => {
                let delay = request.u64_param("DELAY_MS")?.unwrap_or(0);
                if delay > MAX_ECHO_DELAY_MS {
                    return Err(Failure::bad_params(format!(
                        "DELAY_MS must be at most {MAX_ECHO_DELAY_MS}"
                    )));
                }
                Action::Echo {
                    delay: Duration::from_millis(delay),
                    data: request.param("DATA").cloned().unwrap_or(Value::Null),
                }
            }
            Name::ListPorts => Action::ListPorts,
            Name::ConfigSchema => Action::ConfigSchema,
            Name::ConfigSave => {
                let Some(Value::Object(values)) = request.param("VALUES") else {
                    return Err(Failure::bad_params(
                        "VALUES must be an object of KEY: value strings",
                    ));
                };
                Action::ConfigSave {
                    values: values.clone(),
                    dry_run: matches!(request.param("DRY_RUN"), Some(Value::Bool(true))),
                }
            }
            Name::Restart => Action::Restart,
            Name::LogQuery => Action::Log(LogAction::query(request)?),
            Name::LogGet => Action::Log(LogAction::get(request)?),
            Name::LogExport => Action::Log(LogAction::export(request)?),
            Name::LogSubscribe => Action::Log(LogAction::Subscribe),
            Name::LogUnsubscribe => Action::Log(LogAction::Unsubscribe),
            Name::PlatformStatus => Action::PlatformStatus,
            Name::HostsAdd => Action::Platform(Change::HostsAdd),
            Name::HostsRemove => Action::Platform(Change::HostsRemove),
            Name::BrowserPolicySet => Action::Platform(Change::PolicySet),
            Name::BrowserPolicyRemove => Action::Platform(Change::PolicyRemove),
            Name::RemoteTest => Action::RemoteTest {
                values: match request.param("VALUES") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(v)) => v.clone(),
                    Some(_) => {
                        return Err(Failure::bad_params(
                            "VALUES must be an object of REMOTE_* KEY: value strings",
                        ))
                    }
                },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{parse_request, ErrorCode};

    fn parse(text: &str) -> Result<Action, Failure> {
        let request = parse_request(text).unwrap();
        let name = Name::from_wire(&request.action).expect("a BASE action");
        Action::parse(name, &request)
    }

    #[test]
    fn echo_reads_its_delay_and_data() {
        let a = parse(
            r#"{"UUIDV4":"1","TARGET":"BASE","ACTION":"ECHO","DELAY_MS":"250","DATA":{"x":1}}"#,
        );
        assert_eq!(
            a.unwrap(),
            Action::Echo {
                delay: Duration::from_millis(250),
                data: serde_json::json!({"x": 1})
            }
        );
    }

    #[test]
    fn an_echo_delay_over_a_minute_names_delay_ms() {
        let f = parse(r#"{"UUIDV4":"1","TARGET":"BASE","ACTION":"ECHO","DELAY_MS":60001}"#)
            .unwrap_err();
        assert_eq!(f.code, ErrorCode::BadParams);
        assert!(f.message.contains("DELAY_MS"), "{}", f.message);
    }

    #[test]
    fn config_save_needs_an_object_of_values() {
        let f = parse(r#"{"UUIDV4":"1","TARGET":"BASE","ACTION":"CONFIG_SAVE","VALUES":"x"}"#)
            .unwrap_err();
        assert!(f.message.contains("VALUES"), "{}", f.message);
        let ok = parse(
            r#"{"UUIDV4":"1","TARGET":"BASE","ACTION":"CONFIG_SAVE","VALUES":{},"DRY_RUN":true}"#,
        );
        assert!(matches!(ok, Ok(Action::ConfigSave { dry_run: true, .. })));
    }

    #[test]
    fn log_get_names_its_missing_id() {
        let f = parse(r#"{"UUIDV4":"1","TARGET":"BASE","ACTION":"LOG_GET"}"#).unwrap_err();
        assert_eq!(f.message, "ID is required");
    }

    #[test]
    fn only_configuration_and_log_actions_need_the_admin_token() {
        let admin: Vec<&str> = Name::NAMES
            .iter()
            .filter(|n| Name::from_wire(n).unwrap().admin_only())
            .copied()
            .collect();
        assert_eq!(
            admin,
            [
                "CONFIGSCHEMA",
                "CONFIGSAVE",
                "RESTART",
                "LOGQUERY",
                "LOGGET",
                "LOGEXPORT",
                "LOGSUBSCRIBE",
                "LOGUNSUBSCRIBE",
                "PLATFORMSTATUS",
                "HOSTSADD",
                "HOSTSREMOVE",
                "BROWSERPOLICYSET",
                "BROWSERPOLICYREMOVE",
                "REMOTETEST"
            ]
        );
    }
}

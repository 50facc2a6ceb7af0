//! Parsing one text frame into a [`Request`], with a best-effort UUIDV4 for the FAILURE reply
//! when the frame is not a valid request.
//!
//! It does not know which TARGETs or ACTIONs exist; the router decides that.

use super::{ErrorCode, Failure};
use serde_json::{Map, Value};

/// Longest UUIDV4 accepted. Real ones are 36 characters; existing clients send other ids too.
const MAX_UUID_LEN: usize = 128;
/// Longest TARGET or ACTION accepted.
const MAX_NAME_LEN: usize = 64;

/// A well-formed request: the three envelope fields plus the action's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The client's `UUIDV4`, echoed as `MESSAGE_UUID` and used as the idempotency key.
    pub uuid: String,
    /// `TARGET` in upper case (`PRINT`, `SCALE`…).
    pub target: String,
    /// `ACTION` normalised by [`normalize_action`] (`getPrinters` → `GETPRINTERS`).
    pub action: String,
    /// `ACTION` exactly as the client sent it, for logs and messages.
    pub raw_action: String,
    /// Every other top-level field.
    pub params: Map<String, Value>,
}

impl Request {
    /// A parameter by name (parameters are UPPER_SNAKE on the wire; lookup is exact first, then
    /// case-insensitive so `printer` finds `PRINTER`).
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name).or_else(|| {
            self.params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    /// A string parameter; `Ok(None)` when absent, a BAD_PARAMS failure when of another type.
    pub fn str_param(&self, name: &str) -> Result<Option<&str>, Failure> {
        match self.param(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(Failure::bad_params(format!(
                "{name} must be a string, got {}",
                type_name(other)
            ))),
        }
    }

    /// An unsigned integer parameter (JSON number or numeric string); BAD_PARAMS otherwise.
    pub fn u64_param(&self, name: &str) -> Result<Option<u64>, Failure> {
        match self.param(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| Failure::bad_params(format!("{name} must be a whole number ≥ 0"))),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Failure::bad_params(format!("{name} must be a whole number ≥ 0"))),
            Some(other) => Err(Failure::bad_params(format!(
                "{name} must be a number, got {}",
                type_name(other)
            ))),
        }
    }
}

/// Why a frame is not a request, with whatever could still be read for the FAILURE reply.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRequest {
    /// The UUIDV4 to echo (`Value::Null` when none could be read).
    pub uuid: Value,
    /// The TARGET to name as `SERVICE_NAME`, when it could be read.
    pub target: Option<String>,
    pub failure: Failure,
}

/// Upper-cases and drops `_`, `-` and spaces, so `getPrinters`, `GET_PRINTERS` and
/// `get-printers` are one action.
pub fn normalize_action(action: &str) -> String {
    action
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Parses a text frame. Fails when it is not JSON, not an object, or when UUIDV4, TARGET or
/// ACTION is missing, empty, too long or not a string.
pub fn parse_request(text: &str) -> Result<Request, BadRequest> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Err(BadRequest {
                uuid: scan_uuid(text).map(Value::String).unwrap_or(Value::Null),
                target: None,
                failure: Failure::new(
                    ErrorCode::BadJson,
                    format!("the message is not valid JSON: {e}"),
                ),
            })
        }
    };
    let Value::Object(mut map) = value else {
        return Err(BadRequest {
            uuid: Value::Null,
            target: None,
            failure: Failure::new(
                ErrorCode::BadRequest,
                format!("a request must be a JSON object, got {}", type_name(&value)),
            ),
        });
    };
    let raw_uuid = map.remove("UUIDV4");
    let raw_target = map.remove("TARGET");
    let raw_action = map.remove("ACTION");
    let echo_uuid = match &raw_uuid {
        Some(v @ (Value::String(_) | Value::Number(_))) => v.clone(),
        _ => Value::Null,
    };
    let target = match &raw_target {
        Some(Value::String(t)) if !t.is_empty() && t.len() <= MAX_NAME_LEN => {
            Some(t.to_ascii_uppercase())
        }
        _ => None,
    };
    let fail = |message: String| BadRequest {
        uuid: echo_uuid.clone(),
        target: target.clone(),
        failure: Failure::new(ErrorCode::BadRequest, message),
    };
    let uuid = field_string("UUIDV4", raw_uuid, MAX_UUID_LEN).map_err(fail)?;
    let target_name = field_string("TARGET", raw_target, MAX_NAME_LEN).map_err(fail)?;
    let raw_action = field_string("ACTION", raw_action, MAX_NAME_LEN).map_err(fail)?;
    Ok(Request {
        uuid,
        target: target_name.to_ascii_uppercase(),
        action: normalize_action(&raw_action),
        raw_action,
        params: map,
    })
}

fn field_string(name: &str, value: Option<Value>, max_len: usize) -> Result<String, String> {
    match value {
        None => Err(format!("{name} is missing")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{name} is empty")),
        Some(Value::String(s)) if s.len() > max_len => {
            Err(format!("{name} is longer than {max_len} characters"))
        }
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "{name} must be a string, got {}",
            type_name(&other)
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Finds `"UUIDV4": "<id>"` in text that is not valid JSON, so even a truncated or mangled request
/// gets a FAILURE the client can match. Only plain ids (no escapes) are recovered.
fn scan_uuid(text: &str) -> Option<String> {
    let after_key = &text[text.find("\"UUIDV4\"")? + "\"UUIDV4\"".len()..];
    let after_colon = after_key.trim_start().strip_prefix(':')?.trim_start();
    let body = after_colon.strip_prefix('"')?;
    let end = body.find('"')?;
    let id = &body[..end];
    let plain = !id.is_empty() && id.len() <= MAX_UUID_LEN && !id.contains('\\');
    plain.then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_full_request_parses_with_its_parameters() {
        let r = parse_request(r#"{"UUIDV4":"a","TARGET":"print","ACTION":"get_Printers","X":1}"#)
            .unwrap();
        assert_eq!(r.uuid, "a");
        assert_eq!(r.target, "PRINT");
        assert_eq!(r.action, "GETPRINTERS");
        assert_eq!(r.raw_action, "get_Printers");
        assert_eq!(r.params.get("X"), Some(&json!(1)));
        assert!(!r.params.contains_key("UUIDV4"));
    }

    #[test]
    fn action_matching_ignores_case_and_underscores() {
        assert_eq!(normalize_action("getPrinters"), "GETPRINTERS");
        assert_eq!(normalize_action("GET_PRINTERS"), "GETPRINTERS");
        assert_eq!(normalize_action("get-printers"), "GETPRINTERS");
    }

    #[test]
    fn non_json_is_bad_json_and_keeps_a_readable_uuid() {
        let e = parse_request(r#"{"UUIDV4": "abc-1", "TARGET": "BASE", "ACTION": "#).unwrap_err();
        assert_eq!(e.failure.code, ErrorCode::BadJson);
        assert_eq!(e.uuid, json!("abc-1"));
    }

    #[test]
    fn plain_text_is_bad_json_without_uuid() {
        let e = parse_request("hello").unwrap_err();
        assert_eq!(e.failure.code, ErrorCode::BadJson);
        assert_eq!(e.uuid, Value::Null);
    }

    #[test]
    fn json_that_is_not_an_object_is_a_bad_request() {
        for text in ["[1,2]", "42", "\"PING\"", "null"] {
            let e = parse_request(text).unwrap_err();
            assert_eq!(e.failure.code, ErrorCode::BadRequest, "{text}");
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        let e = parse_request(r#"{"UUIDV4":"u","TARGET":"BASE"}"#).unwrap_err();
        assert_eq!(e.failure.code, ErrorCode::BadRequest);
        assert!(
            e.failure.message.contains("ACTION"),
            "{}",
            e.failure.message
        );
        assert_eq!(e.uuid, json!("u"));
        assert_eq!(e.target.as_deref(), Some("BASE"));
    }

    #[test]
    fn a_non_string_field_is_named_and_a_numeric_uuid_is_still_echoed() {
        let e = parse_request(r#"{"UUIDV4":7,"TARGET":"BASE","ACTION":"PING"}"#).unwrap_err();
        assert!(e.failure.message.contains("UUIDV4 must be a string"));
        assert_eq!(e.uuid, json!(7));
        let e = parse_request(r#"{"UUIDV4":"u","TARGET":["BASE"],"ACTION":"PING"}"#).unwrap_err();
        assert!(e.failure.message.contains("TARGET must be a string"));
    }

    #[test]
    fn typed_parameter_access_reports_wrong_types() {
        let r =
            parse_request(r#"{"UUIDV4":"a","TARGET":"B","ACTION":"C","N":"12","S":5}"#).unwrap();
        assert_eq!(r.u64_param("N").unwrap(), Some(12));
        assert_eq!(r.str_param("S").unwrap_err().code, ErrorCode::BadParams);
        assert_eq!(r.str_param("missing").unwrap(), None);
        assert_eq!(
            r.u64_param("n").unwrap(),
            Some(12),
            "lookup falls back to any case"
        );
    }

    proptest! {
        #[test]
        fn random_text_never_panics_the_parser(text in ".{0,300}") {
            let _ = parse_request(&text);
        }

        #[test]
        fn mutated_requests_never_panic_and_keep_their_uuid_when_it_survives(
            cut in 0usize..80, byte in any::<u8>(), pos in 0usize..80
        ) {
            let good = r#"{"UUIDV4":"0f8fad5b-d9cb-469f-a165-70867728950e","TARGET":"BASE","ACTION":"PING"}"#;
            let mut bytes = good.as_bytes().to_vec();
            let p = pos % bytes.len();
            bytes[p] = byte;
            bytes.truncate(cut.max(1).min(bytes.len()));
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) = parse_request(&text) {
                if let Value::String(u) = e.uuid {
                    prop_assert!(!u.is_empty());
                }
            }
        }
    }
}

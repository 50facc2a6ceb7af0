//! The wire envelope shared by every TARGET: parsing requests, building replies and events.
//!
//! Requests are JSON objects with `UUIDV4`, `TARGET`, `ACTION` and the action's parameters as
//! further top-level fields. Replies and events use the `SERVICE_NAME`/`MESSAGE_*` envelope.
//! This file knows nothing of modules or sockets; it only turns text into [`Request`] values and
//! values into text.

mod error;
mod request;

pub use error::{ErrorCode, Failure};
pub use request::{normalize_action, parse_request, BadRequest, Request};

use serde::Serialize;
use serde_json::Value;

/// The version every envelope reports in `SERVICE_VERS`.
pub const SERVICE_VERS: &str = env!("CARGO_PKG_VERSION");

/// `MESSAGE_TYPE` of a reply to a request.
pub const RESPONSE: &str = "RESPONSE";
/// `MESSAGE_TYPE` of an unsolicited event.
pub const EVENT: &str = "EVENT";

/// One outgoing envelope, borrowed so building a reply copies nothing before serialisation.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "SERVICE_NAME")]
    service_name: &'a str,
    #[serde(rename = "SERVICE_VERS")]
    service_vers: &'static str,
    #[serde(rename = "MESSAGE_TYPE")]
    message_type: &'static str,
    #[serde(rename = "MESSAGE_EXEC")]
    message_exec: &'static str,
    #[serde(rename = "MESSAGE_UUID")]
    message_uuid: &'a Value,
    #[serde(rename = "MESSAGE_DATA")]
    message_data: &'a Value,
}

/// Serialises a reply envelope for `service` answering the request whose UUIDV4 was `uuid`.
pub fn encode_reply(service: &str, uuid: &Value, outcome: &Result<Value, Failure>) -> String {
    match outcome {
        Ok(data) => encode(service, RESPONSE, "SUCCESS", uuid, data),
        Err(failure) => encode(service, RESPONSE, "FAILURE", uuid, &failure.to_data()),
    }
}

/// Serialises an event envelope. `uuid` is the request that subscribed or started the work.
pub fn encode_event(service: &str, uuid: &Value, data: &Value) -> String {
    encode(service, EVENT, "SUCCESS", uuid, data)
}

fn encode(
    service: &str,
    kind: &'static str,
    exec: &'static str,
    uuid: &Value,
    data: &Value,
) -> String {
    let envelope = Envelope {
        service_name: service,
        service_vers: SERVICE_VERS,
        message_type: kind,
        message_exec: exec,
        message_uuid: uuid,
        message_data: data,
    };
    // Serialising a struct of strings and `Value`s cannot fail: no maps with non-string keys.
    serde_json::to_string(&envelope).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_success_reply_carries_every_envelope_field() {
        let text = encode_reply("BASE", &json!("u-1"), &Ok(json!("PONG")));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["SERVICE_NAME"], "BASE");
        assert_eq!(v["SERVICE_VERS"], SERVICE_VERS);
        assert_eq!(v["MESSAGE_TYPE"], "RESPONSE");
        assert_eq!(v["MESSAGE_EXEC"], "SUCCESS");
        assert_eq!(v["MESSAGE_UUID"], "u-1");
        assert_eq!(v["MESSAGE_DATA"], "PONG");
    }

    #[test]
    fn a_failure_reply_carries_a_stable_code_and_a_message() {
        let failure = Failure::new(ErrorCode::UnknownTarget, "no such target: FOO");
        let text = encode_reply("FOO", &json!("u-2"), &Err(failure));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["MESSAGE_EXEC"], "FAILURE");
        assert_eq!(v["MESSAGE_DATA"]["CODE"], "UNKNOWN_TARGET");
        assert_eq!(v["MESSAGE_DATA"]["MESSAGE"], "no such target: FOO");
    }

    #[test]
    fn an_event_is_marked_as_such() {
        let text = encode_event("BASE", &Value::Null, &json!({"EVENT": "HEARTBEAT"}));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["MESSAGE_TYPE"], "EVENT");
        assert_eq!(v["MESSAGE_UUID"], Value::Null);
    }
}

//! The Paytef pinpad API's JSON (device-protocols.md §1, peers-wave2.md §2), pure: request
//! bodies, and replies read into what they mean — Paytef's own errors
//! (`{error:{code,description}}`, often with HTTP 403; an expired token among them) told apart
//! from the API gateway's (`{"message":"Missing Authentication Token"}`: a wrong URL), both shapes
//! of a start reply (with and without `info.sessionID`), poll states and finished results.
//! Never panics on any bytes; the `version` replies carry is returned for the log.

use super::super::model::{CardData, Stage};
use serde_json::{json, Value};

/// What a reply body says, before its endpoint's meaning.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Ok {
        body: Value,
        version: Option<String>,
    },
    /// Paytef's own error.
    Paytef {
        http: u16,
        code: String,
        description: String,
        token_expired: bool,
    },
    /// The API gateway answered, not Paytef: the URL is wrong.
    Gateway { http: u16, message: String },
    /// Not JSON, or JSON of no known shape.
    Unreadable { http: u16, why: String },
}

/// Reads a reply body with its HTTP status.
pub fn reply(http: u16, body: &[u8]) -> Reply {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Reply::Unreadable {
                http,
                why: format!("not JSON ({e})"),
            }
        }
    };
    if let Some(err) = value.get("error").filter(|e| e.is_object()) {
        let text = |n: &str| err.get(n).and_then(Value::as_str).unwrap_or("").to_string();
        let (code, description) = (text("code"), text("description"));
        let lower = format!("{code} {description}").to_ascii_lowercase();
        let token_expired = lower.contains("expiredtoken")
            || (lower.contains("authorization token") && lower.contains("expired"));
        return Reply::Paytef {
            http,
            code,
            description,
            token_expired,
        };
    }
    if let Some(message) = value.get("message").and_then(Value::as_str) {
        if value.get("info").is_none() && value.get("result").is_none() {
            return Reply::Gateway {
                http,
                message: message.to_string(),
            };
        }
    }
    if !value.is_object() || !(200..300).contains(&http) {
        return Reply::Unreadable {
            http,
            why: format!("HTTP {http} with a body of no known shape"),
        };
    }
    let version = value
        .get("version")
        .and_then(Value::as_str)
        .map(String::from);
    Reply::Ok {
        body: value,
        version,
    }
}

/// `/transaction/start`'s body.
pub fn start_body(pinpad: &str, refund: bool, cents: u64, reference: &str) -> Value {
    json!({
        "pinpad": pinpad,
        "opType": if refund { "refund" } else { "sale" },
        "requestedAmount": cents,
        "transactionReference": reference,
        "executeOptions": { "method": "polling" },
        "language": "es",
        "createReceipt": true,
        "requireConfirmation": false,
        "showResultSeconds": 5,
    })
}

/// A body naming only the pinpad (poll, cancel, status, getLastResult), and the session when
/// there is one.
pub fn pinpad_body(pinpad: &str, session: Option<&str>) -> Value {
    match session {
        Some(s) => json!({ "pinpad": pinpad, "sessionID": s }),
        None => json!({ "pinpad": pinpad }),
    }
}

/// `/authorize/`'s body.
pub fn authorize_body(access: &str, secret: &str) -> Value {
    json!({ "accessKey": access, "secretKey": secret })
}

/// The token of an authorize reply.
pub fn token(body: &Value) -> Option<String> {
    body.pointer("/result/token")
        .and_then(Value::as_str)
        .map(String::from)
}

/// A start reply: started (with the cloud's session id when there is one), or not.
pub fn started(body: &Value) -> Option<Option<String>> {
    let info = body.get("info")?;
    let session = info
        .get("sessionID")
        .and_then(Value::as_str)
        .map(String::from);
    let ok = info
        .get("started")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || session.is_some();
    ok.then_some(session)
}

/// A finished transaction's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxResult {
    pub approved: bool,
    pub reference: Option<String>,
    pub text: String,
    pub card: CardData,
}

/// What a poll says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// No transaction (never started, or forgotten in a restart).
    Idle,
    Running {
        stage: Stage,
        card_status: String,
    },
    Finished(TxResult),
}

/// The POS stage for a `cardStatus`.
pub fn stage_of(card_status: &str) -> Stage {
    match card_status {
        "waitingCard" => Stage::PresentCard,
        "readingCard" => Stage::ReadingCard,
        "waitingPin" => Stage::Pin,
        _ => Stage::Processing,
    }
}

/// Reads a poll (or `/transaction/result`) reply.
pub fn poll(body: &Value) -> Option<Poll> {
    let info = body.get("info")?;
    let status = info
        .get("transactionStatus")
        .and_then(Value::as_str)
        .unwrap_or("");
    let card_status = info
        .get("cardStatus")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match status {
        "finished" => body.get("result").and_then(result).map(Poll::Finished),
        "idle" => Some(Poll::Idle),
        _ => Some(Poll::Running {
            stage: stage_of(&card_status),
            card_status,
        }),
    }
}

/// `/pinpad/getLastResult`: the last finished transaction, if any.
pub fn last_result(body: &Value) -> Option<TxResult> {
    body.pointer("/result/result").and_then(result)
}

/// A `result` object.
pub fn result(r: &Value) -> Option<TxResult> {
    let approved = r.get("approved")?.as_bool()?;
    let text = |p: &str| {
        r.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let receipt = r
        .pointer("/receipt/cardholder")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let card = CardData {
        card: None,
        brand: text("/cardInformation/cardBrand")
            .or_else(|| text("/cardInformation/emvApplicationLabel")),
        auth_code: text("/authorisationCode"),
        rrn: text("/paytefOperationNumber"),
        entry_mode: text("/cardInformation/dataEntryLetter"),
        receipt,
    }
    .with_card(
        r.pointer("/cardInformation/hiddenCardNumber")
            .and_then(Value::as_str),
    );
    Some(TxResult {
        approved,
        reference: text("/transactionReference"),
        text: text("/resultText").unwrap_or_default(),
        card,
    })
}

/// `/pinpad/cancel`: `info.success`.
pub fn cancel_success(body: &Value) -> bool {
    body.pointer("/info/success")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paytef_errors_and_gateway_errors_are_told_apart() {
        let e = reply(403, br#"{"error":{"code":"expiredToken","description":"The authorization token has expired"},"version":"1"}"#);
        assert!(
            matches!(
                e,
                Reply::Paytef {
                    token_expired: true,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = reply(
            403,
            br#"{"error":{"code":"unhandledError","description":"NullPointerException opType"}}"#,
        );
        assert!(matches!(
            e,
            Reply::Paytef {
                token_expired: false,
                ..
            }
        ));
        let g = reply(403, br#"{"message":"Missing Authentication Token"}"#);
        assert!(matches!(g, Reply::Gateway { .. }));
        assert!(matches!(reply(200, b"<html>"), Reply::Unreadable { .. }));
        let ok = reply(
            200,
            br#"{"info":{"started":true},"version":"2025.08.072222"}"#,
        );
        assert!(matches!(
            ok,
            Reply::Ok {
                version: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn both_shapes_of_a_start_reply_are_accepted() {
        let local: Value =
            serde_json::from_str(r#"{"info":{"started":true,"message":"Transacción en proceso"}}"#)
                .unwrap();
        assert_eq!(started(&local), Some(None));
        let cloud: Value = serde_json::from_str(r#"{"info":{"sessionID":"S-1"}}"#).unwrap();
        assert_eq!(started(&cloud), Some(Some("S-1".into())));
        assert_eq!(started(&json!({"info":{"started":false}})), None);
    }

    #[test]
    fn a_finished_poll_carries_the_masked_card_and_the_reference() {
        let body = json!({"info":{"transactionStatus":"finished"},"result":{"approved":true,"authorisationCode":"A1","transactionReference":"R1","resultText":"Operación aprobada","paytefOperationNumber":"7","cardInformation":{"hiddenCardNumber":"************0010","cardBrand":"VISA","dataEntryLetter":"C"},"receipt":{"cardholder":["A","B"]}}});
        let Some(Poll::Finished(r)) = poll(&body) else {
            panic!()
        };
        assert!(r.approved);
        assert_eq!(r.reference.as_deref(), Some("R1"));
        assert_eq!(r.card.card.as_deref(), Some("************0010"));
        assert_eq!(r.card.receipt, ["A", "B"]);
        let running = json!({"info":{"transactionStatus":"processing","cardStatus":"waitingPin"}});
        assert!(matches!(
            poll(&running),
            Some(Poll::Running {
                stage: Stage::Pin,
                ..
            })
        ));
        assert_eq!(
            poll(&json!({"info":{"transactionStatus":"idle"}})),
            Some(Poll::Idle)
        );
        assert_eq!(last_result(&json!({"result":{"result":null}})), None);
    }
}

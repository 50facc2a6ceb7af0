//! The JSON bodies the simulated Paytef API sends, built from the terminal's state: pure
//! functions, no HTTP. Field names follow the protocol notes (device-protocols.md §1 and
//! peers-wave2.md §2); receipt and card fields follow what tocBackend prints. Every body carries
//! `version`. Masked card numbers only: the full PAN never leaves here.

use super::terminal::{OpType, Outcome, Phase, Transaction};
use serde_json::{json, Value};

/// The `version` string of every reply (the one seen in a public cloud log).
pub const VERSION: &str = "2025.08.072222";

/// What the commerce is called on receipts.
pub(crate) const COMMERCE: &str = "PISPAS SIM COMERCIO";

fn with_version(mut body: Value) -> Value {
    if let Some(map) = body.as_object_mut() {
        map.insert("version".into(), VERSION.into());
    }
    body
}

/// Paytef's own error body, `{"error":{"code","description"}}` (sent with HTTP 403, or 500
/// for a busy pinpad).
pub(crate) fn error(code: &str, description: &str) -> Value {
    with_version(json!({"error": {"code": code, "description": description}}))
}

/// The API gateway's answer to a path it does not know (cloud), HTTP 403. No `version`: it is
/// not Paytef's server that answers.
pub(crate) fn gateway_missing_token() -> Value {
    json!({"message": "Missing Authentication Token"})
}

/// A request field missing or of the wrong type: Paytef answers with a Java exception text.
pub(crate) fn unhandled(field: &str) -> Value {
    error(
        "unhandledError",
        &format!(
            "java.lang.NullPointerException: Cannot invoke method on null value of field '{field}'"
        ),
    )
}

/// `/authorize/`: `result.token`.
pub(crate) fn authorized(token: &str) -> Value {
    with_version(json!({"result": {"token": token}}))
}

/// `/pinpad/status`: `result.tcod`.
pub(crate) fn status(tcod: &str, busy: bool) -> Value {
    with_version(json!({
        "info": {"message": if busy { "Transacción en proceso" } else { "Terminal disponible" }},
        "result": {"tcod": tcod, "busy": busy},
    }))
}

/// `/transaction/start` accepted. The session id goes in only when there is one (cloud).
pub(crate) fn started(tx: &Transaction) -> Value {
    let mut info = json!({
        "message": "Transacción en proceso",
        "opType": tx.op.name(),
        "started": true,
    });
    if let (Some(session), Some(map)) = (&tx.session_id, info.as_object_mut()) {
        map.insert("sessionID".into(), session.clone().into());
    }
    with_version(json!({"info": info}))
}

/// `/transaction/poll` and `/transaction/result`: the status of `tx`, or idle when the terminal
/// has no transaction (never started, or forgotten in a restart).
pub(crate) fn poll(tx: Option<&Transaction>) -> Value {
    let Some(tx) = tx.filter(|t| t.phase != Phase::Forgotten) else {
        return with_version(json!({"info": {
            "transactionStatus": "idle",
            "cardStatus": "idle",
            "transactionConfirmed": false,
            "message": "No hay ninguna transacción en curso",
        }}));
    };
    match tx.phase {
        Phase::Running(status) => with_version(json!({"info": {
            "transactionStatus": "processing",
            "cardStatus": status.name(),
            "transactionConfirmed": false,
            "message": status.message(),
        }})),
        Phase::Finished(outcome) => with_version(json!({
            "info": {
                "transactionStatus": "finished",
                "cardStatus": "finished",
                "transactionConfirmed": outcome.approved(),
                "message": outcome.result_text(),
            },
            "result": result(tx, outcome),
        })),
        Phase::Forgotten => Value::Null,
    }
}

/// `/pinpad/cancel`: `info.success`.
pub(crate) fn cancelled(success: bool) -> Value {
    with_version(json!({"info": {"success": success}}))
}

/// `/pinpad/getLastResult`: `result.result` is the last finished transaction, or null.
pub(crate) fn last_result(tx: Option<&Transaction>) -> Value {
    let inner = match tx.and_then(|t| t.outcome().map(|o| (t, o))) {
        Some((tx, outcome)) => result(tx, outcome),
        None => Value::Null,
    };
    with_version(json!({"result": {"result": inner}}))
}

/// The `result` object of a finished transaction.
pub(crate) fn result(tx: &Transaction, outcome: Outcome) -> Value {
    let amount = format!("{},{:02}", tx.amount_cents / 100, tx.amount_cents % 100);
    let signed = match tx.op {
        OpType::Sale => amount,
        OpType::Refund => format!("-{amount}"),
    };
    let issued = tx.issued.as_ref();
    let t = tx.started_at;
    let mut result = json!({
        "approved": outcome.approved(),
        "authorisationCode": issued.map_or("", |i| i.auth_code.as_str()),
        "resultText": outcome.result_text(),
        "transactionReference": tx.reference,
        "opType": tx.op.name(),
        "requestedAmount": tx.amount_cents,
        "amountWithSign": signed,
        "operationTypeName": match tx.op { OpType::Sale => "VENTA", OpType::Refund => "DEVOLUCION" },
        "paytefOperationNumber": issued.map(|i| i.operation.clone()),
        "commerceText": COMMERCE,
        "bankName": "BANCO SIMULADO",
        "needsSignature": false,
        "timestamp": {"day": t.day, "month": t.month, "year": t.year, "hour": t.hour, "minute": t.minute},
    });
    if let Some(map) = result.as_object_mut() {
        if tx.card_read {
            map.insert(
                "cardInformation".into(),
                json!({
                    "emvApplicationID": tx.card.aid,
                    "emvApplicationLabel": tx.card.aid_name,
                    "hiddenCardNumber": tx.card.last_four_masked(),
                    "dataEntryLetter": tx.card.entry.paytef_letter(),
                    "cardBrand": tx.card.brand,
                }),
            );
            map.insert("issuerNameAndCountry".into(), tx.card.issuer.into());
        }
        if tx.create_receipt {
            map.insert(
                "receipt".into(),
                json!({
                    "cardholder": receipt_lines(tx, outcome, "COPIA PARA EL CLIENTE"),
                    "merchant": receipt_lines(tx, outcome, "COPIA PARA EL COMERCIO"),
                }),
            );
        }
    }
    result
}

/// The printed receipt, one string per line.
fn receipt_lines(tx: &Transaction, outcome: Outcome, copy: &str) -> Vec<String> {
    let amount = format!("{},{:02} EUR", tx.amount_cents / 100, tx.amount_cents % 100);
    let mut lines = vec![
        COMMERCE.to_string(),
        tx.started_at.printed(),
        match tx.op {
            OpType::Sale => "VENTA".into(),
            OpType::Refund => "DEVOLUCION".into(),
        },
    ];
    if tx.card_read {
        lines.push(format!(
            "{} {}",
            tx.card.aid_name,
            tx.card.last_four_masked()
        ));
        lines.push(format!(
            "AID {}  MODO {}",
            tx.card.aid,
            tx.card.entry.paytef_letter()
        ));
    }
    if let Some(issued) = &tx.issued {
        lines.push(format!("AUT {}  OP {}", issued.auth_code, issued.operation));
    }
    lines.push(format!("IMPORTE {amount}"));
    lines.push(outcome.result_text().to_uppercase());
    lines.push(copy.into());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paytef::terminal::{StartRequest, Terminal};
    use crate::paytef::PaytefScenario;

    fn finished(scenario: PaytefScenario) -> Transaction {
        let mut t = Terminal::new(scenario, true);
        let i = t
            .start(StartRequest {
                op: OpType::Sale,
                amount_cents: 1250,
                reference: Some("T-1".into()),
                create_receipt: true,
            })
            .expect("idle");
        while t.transactions[i].outcome().is_none() {
            let from = t.transactions[i].step_index();
            assert!(t.advance(i, from));
        }
        t.transactions[i].clone()
    }

    #[test]
    fn an_approved_poll_carries_the_result_with_masked_card_and_receipt() {
        let tx = finished(PaytefScenario::Approved);
        let body = poll(Some(&tx));
        assert_eq!(body["info"]["transactionStatus"], "finished");
        assert_eq!(body["result"]["approved"], true);
        assert_eq!(body["result"]["transactionReference"], "T-1");
        assert_eq!(body["result"]["amountWithSign"], "12,50");
        assert_eq!(
            body["result"]["cardInformation"]["hiddenCardNumber"],
            "************0010"
        );
        assert!(body["result"]["receipt"]["cardholder"].is_array());
        assert_eq!(body["version"], VERSION);
        let text = body.to_string();
        for pan in crate::payment::TEST_PANS {
            assert!(!text.contains(pan), "full PAN in {text}");
        }
    }

    #[test]
    fn a_declined_result_has_no_authorisation_code() {
        let tx = finished(PaytefScenario::Declined);
        let body = poll(Some(&tx));
        assert_eq!(body["result"]["approved"], false);
        assert_eq!(body["result"]["authorisationCode"], "");
    }

    #[test]
    fn idle_polls_and_empty_last_results_say_so() {
        assert_eq!(poll(None)["info"]["transactionStatus"], "idle");
        assert!(last_result(None)["result"]["result"].is_null());
    }

    #[test]
    fn the_start_reply_has_a_session_only_when_the_transaction_has_one() {
        let mut tx = finished(PaytefScenario::Approved);
        assert!(started(&tx)["info"]["sessionID"].is_string());
        tx.session_id = None;
        assert!(started(&tx)["info"].get("sessionID").is_none());
        assert_eq!(started(&tx)["info"]["started"], true);
    }
}

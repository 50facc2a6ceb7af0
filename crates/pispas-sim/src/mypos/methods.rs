//! The IPP methods that need no customer (PING, COMPLETE_TX, CANCEL_TX, REVERSAL, GET_STATUS,
//! REPRINT_RECEIPT, and the ones the simulator does not support), and the parsing of a
//! PURCHASE/REFUND request: pure functions of a request and the terminal, returning the frames
//! to send. Every request is answered STAGE=1 then, when STATUS=0, STAGE=5, following the
//! documented flow.

use super::frames;
use super::message::Message;
use super::scenario::MyposScenario;
use super::status::Status;
use super::terminal::{Terminal, TxKind, TxRequest};

/// Methods in the documented list that the simulator answers with UNSUPPORTED METHOD.
pub const UNSUPPORTED: &[&str] = &[
    "COMPLETE_PREAUTH",
    "CANCEL_PREAUTH",
    "PRINT_EXT",
    "ACTIVATE",
    "UPDATE",
    "DEACTIVATE",
    "GET_CERTIFICATE",
    "INIT",
    "END INIT",
    "PROCESS",
];

/// The frames answering a method other than PURCHASE/REFUND, applied to `terminal`.
/// `timeout` is the TIMEOUT of the STAGE=1 frame.
pub(crate) fn answer(
    terminal: &mut Terminal,
    request: &Message,
    sid: &str,
    timeout: u32,
) -> Vec<Message> {
    let method = request.method();
    let refuse = |status| vec![frames::refusal(method, sid, status)];
    if terminal.is_busy() {
        return refuse(Status::TerminalBusy);
    }
    let fails = terminal.scenario == MyposScenario::CancelFails;
    let accepted = frames::progress(method, sid, 1, Status::Ok, timeout);
    let original = request.get("SID_ORIGINAL").filter(|s| !s.is_empty());
    match method {
        "PING" => vec![accepted, frames::done(method, sid)],
        "COMPLETE_TX" | "CANCEL_TX" => {
            let Some(original) = original else {
                return refuse(Status::SyntaxError);
            };
            let status = if method == "COMPLETE_TX" {
                terminal.complete(original)
            } else {
                terminal.cancel_tx(original, fails)
            };
            match status {
                Status::Ok => vec![accepted, frames::done(method, sid)],
                Status::CommunicationError => vec![
                    accepted,
                    frames::progress(method, sid, 5, Status::CommunicationError, 0),
                ],
                other => refuse(other),
            }
        }
        "REVERSAL" => match terminal.reversal(fails) {
            Ok(i) => vec![
                accepted,
                frames::reversed(method, sid, &terminal.transactions[i]),
            ],
            Err(Status::CommunicationError) => vec![
                accepted,
                frames::progress(method, sid, 5, Status::CommunicationError, 0),
            ],
            Err(other) => refuse(other),
        },
        "GET_STATUS" => match terminal.status_of(original) {
            Ok(tx) => vec![accepted, frames::status_report(method, sid, tx)],
            Err(status) => refuse(status),
        },
        "REPRINT_RECEIPT" => match terminal.last() {
            Some(tx) => {
                let lines = frames::receipt(tx).join("|");
                vec![
                    accepted,
                    frames::done(method, sid).with("RECEIPT_DATA", lines),
                ]
            }
            None => refuse(Status::TransactionNotFound),
        },
        _ => refuse(Status::UnsupportedMethod),
    }
}

/// Reads a PURCHASE or REFUND. Fails with INVALID AMOUNT for a missing, zero, negative or
/// over-precise AMOUNT, SYNTAX ERROR without CURRENCY, UNSUPPORTED PARAM for a CURRENCY that
/// is neither 3 digits (978) nor 3 letters (EUR).
pub(crate) fn tx_request(request: &Message, sid: &str, kind: TxKind) -> Result<TxRequest, Status> {
    let amount_cents = request
        .get("AMOUNT")
        .and_then(parse_amount)
        .ok_or(Status::InvalidAmount)?;
    let currency = request.get("CURRENCY").ok_or(Status::SyntaxError)?;
    let numeric = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_digit());
    let alpha = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase());
    if !numeric && !alpha {
        return Err(Status::UnsupportedParam);
    }
    Ok(TxRequest {
        sid: sid.into(),
        kind,
        amount_cents,
        currency: currency.into(),
        reference: request.get("REFERENCE").map(String::from),
    })
}

/// Cents from a decimal amount (`0.01`, `12`, `12.5`); None unless positive with at most two
/// decimals.
pub fn parse_amount(text: &str) -> Option<u64> {
    let (units, decimals) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || !digits(units) || !digits(decimals) || decimals.len() > 2 {
        return None;
    }
    if text.ends_with('.') {
        return None;
    }
    let units: u64 = units.parse().ok()?;
    let cents: u64 = format!("{decimals:0<2}").parse().ok()?;
    let total = units.checked_mul(100)?.checked_add(cents)?;
    (total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mypos::scenario::Ending;

    fn request(method: &str, fields: &[(&str, &str)]) -> Message {
        let mut m = Message::new(method).with("SID", "Q1");
        for (n, v) in fields {
            m.set(n, *v);
        }
        m
    }

    #[test]
    fn amounts_are_decimal_with_at_most_two_places() {
        assert_eq!(parse_amount("0.01"), Some(1));
        assert_eq!(parse_amount("12"), Some(1200));
        assert_eq!(parse_amount("12.5"), Some(1250));
        for bad in [
            "",
            "0",
            "0.00",
            "-1",
            "1.234",
            "1,50",
            "abc",
            "1.",
            ".5",
            "99999999999999999999",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_purchase_needs_a_valid_amount_and_currency() {
        let ok = request("PURCHASE", &[("AMOUNT", "1.00"), ("CURRENCY", "978")]);
        assert!(tx_request(&ok, "Q1", TxKind::Purchase).is_ok());
        let bad = request("PURCHASE", &[("AMOUNT", "x"), ("CURRENCY", "978")]);
        assert_eq!(
            tx_request(&bad, "Q1", TxKind::Purchase),
            Err(Status::InvalidAmount)
        );
        let none = request("PURCHASE", &[("AMOUNT", "1")]);
        assert_eq!(
            tx_request(&none, "Q1", TxKind::Purchase),
            Err(Status::SyntaxError)
        );
        let odd = request("PURCHASE", &[("AMOUNT", "1"), ("CURRENCY", "euro")]);
        assert_eq!(
            tx_request(&odd, "Q1", TxKind::Purchase),
            Err(Status::UnsupportedParam)
        );
    }

    #[test]
    fn ping_answers_stage_1_then_stage_5() {
        let mut t = Terminal::new(MyposScenario::Approved);
        let frames = answer(&mut t, &request("PING", &[]), "Q1", 5);
        let stages: Vec<_> = frames.iter().map(|f| f.get("STAGE")).collect();
        assert_eq!(stages, [Some("1"), Some("5")]);
    }

    #[test]
    fn everything_is_busy_while_a_transaction_runs() {
        let mut t = Terminal::new(MyposScenario::Busy);
        for method in ["PING", "GET_STATUS", "COMPLETE_TX"] {
            let frames = answer(&mut t, &request(method, &[]), "Q1", 5);
            assert_eq!(frames[0].get("STATUS"), Some("1"), "{method}");
        }
    }

    #[test]
    fn get_status_reports_the_stuck_sid_tx_status_and_rrn() {
        let mut t = Terminal::new(MyposScenario::Stuck);
        let frames = answer(&mut t, &request("GET_STATUS", &[]), "Q1", 5);
        let report = &frames[1];
        assert!(report
            .get("SID_ORIGINAL")
            .is_some_and(|s| s.starts_with("STUCK-")));
        assert_eq!(report.get("TX_STATUS"), Some("0"));
        assert!(report.get("RRN").is_some());
    }

    #[test]
    fn complete_tx_without_sid_original_is_a_syntax_error() {
        let mut t = Terminal::new(MyposScenario::Approved);
        let frames = answer(&mut t, &request("COMPLETE_TX", &[]), "Q1", 5);
        assert_eq!(frames[0].get("STATUS"), Some("2"));
    }

    #[test]
    fn cancel_fails_answers_15_and_keeps_the_purchase() {
        let mut t = Terminal::new(MyposScenario::CancelFails);
        let i = t
            .begin(TxRequest {
                sid: "P1".into(),
                kind: TxKind::Purchase,
                amount_cents: 100,
                currency: "978".into(),
                reference: None,
            })
            .expect("idle");
        t.end(i, Ending::Approved);
        let frames = answer(
            &mut t,
            &request("CANCEL_TX", &[("SID_ORIGINAL", "P1")]),
            "Q1",
            5,
        );
        assert_eq!(frames[1].get("STATUS"), Some("15"));
        assert!(t.pending().is_some());
    }

    #[test]
    fn documented_methods_the_sim_lacks_are_unsupported() {
        let mut t = Terminal::new(MyposScenario::Approved);
        for method in UNSUPPORTED.iter().chain(&["NOPE"]) {
            let frames = answer(&mut t, &request(method, &[]), "Q1", 5);
            assert_eq!(frames[0].get("STATUS"), Some("4"), "{method}");
        }
    }
}

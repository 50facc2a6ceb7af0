//! The messages the simulated myPOS terminal sends, built from its state: progress frames,
//! refusals, the final frame with the card and host fields, GET_STATUS records and the slave
//! mode PROCESS request. Pure. Every reply echoes PROTOCOL, METHOD and SID and carries STAGE,
//! STATUS and TIMEOUT. Card numbers appear masked only.

use super::message::Message;
use super::scenario::Ending;
use super::status::Status;
use super::terminal::{MyposTransaction, TxOutcome};

pub const TERMINAL_ID: &str = "SIM10001";
pub const MERCHANT_ID: &str = "000000000000001";
/// Where a slave-mode terminal asks the caller to relay (the notes' example).
pub const SLAVE_HOST: (&str, &str) = ("pos1.mypos.com", "3012");

fn reply(method: &str, sid: &str, stage: u8, status: Status, timeout: u32) -> Message {
    Message::new(method)
        .with("SID", sid)
        .with("STAGE", stage.to_string())
        .with("STATUS", status.code().to_string())
        .with("TIMEOUT", timeout.to_string())
}

/// An in-progress frame: wait up to `timeout` seconds for the next one.
pub fn progress(method: &str, sid: &str, stage: u8, status: Status, timeout: u32) -> Message {
    reply(method, sid, stage, status, timeout)
}

/// A request refused at STAGE=1 (busy, syntax, not completed, not found, …).
pub fn refusal(method: &str, sid: &str, status: Status) -> Message {
    reply(method, sid, 1, status, 0)
}

/// The STAGE=5 STATUS=0 end of a request that carries nothing else (PING, COMPLETE_TX, …).
pub fn done(method: &str, sid: &str) -> Message {
    reply(method, sid, 5, Status::Ok, 0)
}

/// `12.34` from 1234 cents.
pub fn amount(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The final frame of a PURCHASE or REFUND that ended as `ending`.
pub fn final_frame(method: &str, sid: &str, tx: &MyposTransaction, ending: Ending) -> Message {
    match ending {
        Ending::Approved | Ending::Declined => outcome_frame(method, sid, tx),
        Ending::UserCancel => reply(method, sid, tx.stage, Status::UserCancel, 0),
        Ending::HostError => reply(method, sid, 5, Status::HostReceiveError, 0),
        Ending::CommError | Ending::RelayFailed => {
            reply(method, sid, 5, Status::CommunicationError, 0)
        }
    }
}

/// STAGE=5 STATUS=0 with TX_STATUS and the card and host fields.
fn outcome_frame(method: &str, sid: &str, tx: &MyposTransaction) -> Message {
    let mut m = reply(method, sid, 5, Status::Ok, 0);
    add_record(&mut m, tx);
    m.set("SIGNATURE_NOT_REQ", "1");
    m.set("TERMINAL_ID", TERMINAL_ID);
    m.set("MERCHANT_ID", MERCHANT_ID);
    m.set("RECEIPT_DATA", receipt(tx).join("|"));
    m
}

/// The transaction fields shared by final frames and GET_STATUS.
fn add_record(m: &mut Message, tx: &MyposTransaction) {
    if let Some(code) = tx.outcome.tx_status() {
        m.set("TX_STATUS", code.to_string());
    }
    let approved = matches!(tx.outcome, TxOutcome::Approved | TxOutcome::Reversed);
    m.set("APPROVAL", if approved { "00" } else { "05" });
    if let Some(issued) = &tx.issued {
        if approved {
            m.set("AUTH_CODE", issued.auth_code.clone());
        }
        m.set("RRN", issued.rrn.clone());
        m.set("STAN", issued.stan.clone());
    }
    m.set("AMOUNT", amount(tx.amount_cents));
    m.set("CURRENCY", tx.currency.clone());
    if tx.card_read {
        m.set("PAN_MASKED", tx.card.bin_masked());
        m.set("ENTRY_MODE", tx.card.entry.mypos_name());
        m.set("AID", tx.card.aid);
        m.set("AID_NAME", tx.card.aid_name);
    }
    m.set("TX_DATE_LOCAL", tx.at.yymmdd());
    m.set("TX_TIME_LOCAL", tx.at.hhmmss());
    if let Some(reference) = &tx.reference {
        m.set("REFERENCE", reference.clone());
    }
}

/// GET_STATUS's final frame: the record of `tx` (SID_ORIGINAL, TX_STATUS, RRN, …), or just
/// STATUS=0 when the terminal has no transaction to report.
pub fn status_report(method: &str, sid: &str, tx: Option<&MyposTransaction>) -> Message {
    let mut m = reply(method, sid, 5, Status::Ok, 0);
    if let Some(tx) = tx {
        m.set("SID_ORIGINAL", tx.sid.clone());
        add_record(&mut m, tx);
        m.set("TERMINAL_ID", TERMINAL_ID);
    }
    m
}

/// REVERSAL's final frame: TX_STATUS=0 for the reversal itself, with the original's RRN.
pub fn reversed(method: &str, sid: &str, original: &MyposTransaction) -> Message {
    let mut m = reply(method, sid, 5, Status::Ok, 0)
        .with("TX_STATUS", "0")
        .with("SID_ORIGINAL", original.sid.clone())
        .with("AMOUNT", amount(original.amount_cents))
        .with("TERMINAL_ID", TERMINAL_ID);
    if let Some(issued) = &original.issued {
        m.set("RRN", issued.rrn.clone());
    }
    m
}

/// Slave mode: the terminal asks the caller to carry this to the acquirer.
pub fn process(sid: &str, timeout: u32) -> Message {
    reply("PROCESS", sid, 4, Status::Ok, timeout)
        .with("IP", SLAVE_HOST.0)
        .with("PORT", SLAVE_HOST.1)
        .with("CHAIN", "1")
        .with("DATA", "160301002A0100002603035349")
}

/// The printed receipt, one string per line (joined with `|` in RECEIPT_DATA).
pub fn receipt(tx: &MyposTransaction) -> Vec<String> {
    let mut lines = vec![
        "PISPAS SIM SHOP".to_string(),
        format!("TID {TERMINAL_ID}"),
        format!("{} {}", tx.at.printed(), tx.kind.method()),
    ];
    if tx.card_read {
        lines.push(format!("{} {}", tx.card.aid_name, tx.card.bin_masked()));
    }
    if let Some(issued) = &tx.issued {
        lines.push(format!("RRN {} STAN {}", issued.rrn, issued.stan));
    }
    lines.push(format!(
        "AMOUNT {} {}",
        amount(tx.amount_cents),
        tx.currency
    ));
    lines.push(match tx.outcome {
        TxOutcome::Approved => "APPROVED".into(),
        _ => "DECLINED".into(),
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mypos::scenario::MyposScenario;
    use crate::mypos::terminal::{Terminal, TxKind, TxRequest};

    fn approved() -> MyposTransaction {
        let mut t = Terminal::new(MyposScenario::Approved);
        let i = t
            .begin(TxRequest {
                sid: "S1".into(),
                kind: TxKind::Purchase,
                amount_cents: 1234,
                currency: "978".into(),
                reference: Some("ORDER-7".into()),
            })
            .expect("idle");
        t.stage_sent(i, 2);
        t.end(i, Ending::Approved);
        t.transactions[i].clone()
    }

    #[test]
    fn the_final_frame_carries_the_host_and_card_fields_masked() {
        let tx = approved();
        let m = final_frame("PURCHASE", "S1", &tx, Ending::Approved);
        assert_eq!(m.get("STAGE"), Some("5"));
        assert_eq!(m.get("STATUS"), Some("0"));
        assert_eq!(m.get("TX_STATUS"), Some("0"));
        assert_eq!(m.get("APPROVAL"), Some("00"));
        assert_eq!(m.get("AMOUNT"), Some("12.34"));
        assert_eq!(m.get("PAN_MASKED"), Some("476173******0010"));
        for name in [
            "AUTH_CODE",
            "RRN",
            "STAN",
            "ENTRY_MODE",
            "AID",
            "AID_NAME",
            "TERMINAL_ID",
        ] {
            assert!(m.get(name).is_some(), "{name}");
        }
        let bytes = m.to_body();
        let text = String::from_utf8_lossy(&bytes);
        for pan in crate::payment::TEST_PANS {
            assert!(!text.contains(pan));
        }
    }

    #[test]
    fn replies_echo_protocol_method_and_sid_first() {
        let m = refusal("PURCHASE", "S9", Status::TerminalBusy);
        let names: Vec<&str> = m.fields().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["PROTOCOL", "METHOD", "SID", "STAGE", "STATUS", "TIMEOUT"]
        );
        assert_eq!(m.get("STATUS"), Some("1"));
    }

    #[test]
    fn a_user_cancel_reports_the_stage_it_happened_at() {
        let mut tx = approved();
        tx.stage = 2;
        let m = final_frame("PURCHASE", "S1", &tx, Ending::UserCancel);
        assert_eq!((m.get("STAGE"), m.get("STATUS")), (Some("2"), Some("13")));
    }
}

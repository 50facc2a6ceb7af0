//! The myPOS IPP codec, pure (no I/O): framing (`frame.rs`), messages (`message.rs`), the
//! STATUS table (`status.rs`), and here what a frame means for a payment: keep reading, the
//! end, or a terminal in slave mode; and what a final frame or a GET_STATUS record says about
//! the money. Stages are read in the order they come (a real Ultra sends 1, 11, 2, 5).

pub mod frame;
pub mod message;
pub mod status;

pub use message::Message;

use super::super::model::{CardData, Stage};
use status::Meaning;

/// What one frame of a running transaction means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// More frames follow: wait up to `timeout_s` (the frame's TIMEOUT) for the next.
    Continue { stage: Stage, timeout_s: u32 },
    /// The transaction's last frame.
    Final,
    /// The terminal asks us to relay its traffic to the acquirer (slave mode).
    Slave,
}

/// The POS stage for an IPP STAGE (1 CHECK REQUEST DATA → the terminal asks for the card;
/// 2 CARD HANDLE; 3 PIN HANDLE; 4 PROCESSING; 5 OUTCOME; undocumented ones such as 11 are
/// reported as PROCESSING, never as progress they may not be).
pub fn stage_of(stage: u32) -> Stage {
    match stage {
        1 => Stage::PresentCard,
        2 => Stage::ReadingCard,
        3 => Stage::Pin,
        5 => Stage::Finished,
        _ => Stage::Processing,
    }
}

/// Reads one frame of a PURCHASE, REFUND or REVERSAL.
pub fn step(frame: &Message) -> Step {
    let stage = frame.number("STAGE").unwrap_or(0);
    let code = frame.number("STATUS").unwrap_or(u32::MAX);
    let timeout = frame.number("TIMEOUT").unwrap_or(0);
    if frame.method() == "PROCESS" || stage == 4 {
        return Step::Slave;
    }
    let (_, meaning, _) = status::status(code);
    let ok = matches!(meaning, Meaning::Ok | Meaning::Info);
    if stage == 5 || (stage == 1 && !ok) || meaning == Meaning::UserCancel || (!ok && timeout == 0)
    {
        return Step::Final;
    }
    Step::Continue {
        stage: stage_of(stage),
        timeout_s: timeout,
    }
}

/// What a transaction's final frame (or a GET_STATUS record) says about the money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Approved(CardData),
    /// The bank or the card said no; the sentence says why.
    Declined(CardData, String),
    Cancelled(String),
    /// The terminal refused to start it (busy, bad request, needs activation): not charged.
    NotStarted {
        busy: bool,
        invalid_amount: bool,
        why: String,
    },
    /// The previous purchase waits for COMPLETE_TX (STATUS=20): not started.
    NotCompleted,
    /// The card may have been charged: ask GET_STATUS, never report a decline.
    Reconcile(String),
    /// No record of it (GET_STATUS, REVERSAL).
    NotFound(String),
}

/// The card and host data of a frame, masked PAN only.
pub fn card_data(frame: &Message) -> CardData {
    let text = |n: &str| frame.get(n).filter(|v| !v.is_empty()).map(String::from);
    CardData {
        card: None,
        brand: text("AID_NAME"),
        auth_code: text("AUTH_CODE"),
        rrn: text("RRN"),
        entry_mode: text("ENTRY_MODE"),
        receipt: frame
            .get("RECEIPT_DATA")
            .map(|r| r.split('|').map(String::from).collect())
            .unwrap_or_default(),
    }
    .with_card(frame.get("PAN_MASKED"))
}

/// The verdict of a final frame. `accepted`: an earlier frame had STAGE=1 STATUS=0 (from then
/// on an error may have come after the card was charged).
pub fn verdict(frame: &Message, accepted: bool) -> Verdict {
    let stage = frame.number("STAGE").unwrap_or(0);
    let code = frame.number("STATUS").unwrap_or(u32::MAX);
    let (name, meaning, sentence) = status::status(code);
    let said = format!("{sentence} (myPOS STATUS {code} {name})");
    let refused_at_start = stage == 1 && !accepted;
    match meaning {
        Meaning::Ok if stage == 5 => match frame.number("TX_STATUS") {
            Some(0) => Verdict::Approved(card_data(frame)),
            Some(tx) => Verdict::Declined(
                card_data(frame),
                format!(
                    "declined by the bank (TX_STATUS {tx}, APPROVAL {})",
                    frame.get("APPROVAL").unwrap_or("?")
                ),
            ),
            None => Verdict::Reconcile("the final frame had no TX_STATUS".into()),
        },
        Meaning::Ok | Meaning::Info => {
            Verdict::Reconcile(format!("the transaction ended without an outcome: {said}"))
        }
        Meaning::Busy if refused_at_start => Verdict::NotStarted {
            busy: true,
            invalid_amount: false,
            why: said,
        },
        Meaning::NotCompleted if refused_at_start => Verdict::NotCompleted,
        Meaning::Refused if refused_at_start => Verdict::NotStarted {
            busy: false,
            invalid_amount: code == 19,
            why: said,
        },
        Meaning::NotFound => Verdict::NotFound(said),
        _ if refused_at_start => Verdict::NotStarted {
            busy: false,
            invalid_amount: false,
            why: said,
        },
        Meaning::UserCancel => Verdict::Cancelled(said),
        Meaning::CardFailed => Verdict::Declined(card_data(frame), said),
        Meaning::MaybeCharged
        | Meaning::Busy
        | Meaning::Refused
        | Meaning::NotCompleted
        | Meaning::Printer => Verdict::Reconcile(said),
    }
}

/// What a GET_STATUS final frame says about transaction `sid`.
pub fn status_record(frame: &Message, sid: &str) -> Verdict {
    let code = frame.number("STATUS").unwrap_or(u32::MAX);
    let (name, meaning, sentence) = status::status(code);
    match meaning {
        Meaning::Ok if frame.get("SID_ORIGINAL") == Some(sid) => match frame.number("TX_STATUS") {
            Some(0) => Verdict::Approved(card_data(frame)),
            Some(tx) => {
                Verdict::Declined(card_data(frame), format!("not approved (TX_STATUS {tx})"))
            }
            None => Verdict::Reconcile("the terminal's record has no TX_STATUS".into()),
        },
        Meaning::Ok => Verdict::NotFound("the terminal's last transaction is another one".into()),
        Meaning::NotFound => Verdict::NotFound(format!("{sentence} (myPOS STATUS {code} {name})")),
        _ => Verdict::Reconcile(format!("{sentence} (myPOS STATUS {code} {name})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(fields: &[(&str, &str)]) -> Message {
        fields
            .iter()
            .fold(Message::request("PURCHASE", "S1"), |m, (n, v)| {
                m.with(n, *v)
            })
    }

    #[test]
    fn stages_are_read_as_they_come_and_stage_5_ends() {
        let eleven = frame(&[("STAGE", "11"), ("STATUS", "0"), ("TIMEOUT", "60")]);
        assert_eq!(
            step(&eleven),
            Step::Continue {
                stage: Stage::Processing,
                timeout_s: 60
            }
        );
        let wrong_pin = frame(&[("STAGE", "3"), ("STATUS", "9"), ("TIMEOUT", "60")]);
        assert!(
            matches!(
                step(&wrong_pin),
                Step::Continue {
                    stage: Stage::Pin,
                    ..
                }
            ),
            "a wrong PIN is not the end"
        );
        assert_eq!(
            step(&frame(&[("STAGE", "5"), ("STATUS", "0")])),
            Step::Final
        );
        assert_eq!(
            step(&frame(&[("STAGE", "1"), ("STATUS", "1")])),
            Step::Final
        );
        let slave = Message::request("PROCESS", "S1").with("STAGE", "4");
        assert_eq!(step(&slave), Step::Slave);
    }

    #[test]
    fn approved_needs_tx_status_0_and_keeps_only_the_masked_pan() {
        let f = frame(&[
            ("STAGE", "5"),
            ("STATUS", "0"),
            ("TX_STATUS", "0"),
            ("PAN_MASKED", "476173******0010"),
            ("AUTH_CODE", "A1"),
            ("RECEIPT_DATA", "SHOP|VISA 476173******0010"),
        ]);
        let Verdict::Approved(card) = verdict(&f, true) else {
            panic!("approved")
        };
        assert_eq!(card.card.as_deref(), Some("476173******0010"));
        assert_eq!(card.receipt.len(), 2);
        let declined = frame(&[
            ("STAGE", "5"),
            ("STATUS", "0"),
            ("TX_STATUS", "1"),
            ("APPROVAL", "05"),
        ]);
        assert!(matches!(verdict(&declined, true), Verdict::Declined(..)));
        let silent = frame(&[("STAGE", "5"), ("STATUS", "0")]);
        assert!(matches!(verdict(&silent, true), Verdict::Reconcile(_)));
    }

    #[test]
    fn errors_after_stage_1_that_may_have_charged_are_reconciled_never_declined() {
        for code in ["12", "14", "15", "16"] {
            let f = frame(&[("STAGE", "5"), ("STATUS", code)]);
            assert!(matches!(verdict(&f, true), Verdict::Reconcile(_)), "{code}");
        }
        let refused = frame(&[("STAGE", "1"), ("STATUS", "14")]);
        assert!(matches!(
            verdict(&refused, false),
            Verdict::NotStarted { .. }
        ));
        assert_eq!(
            verdict(&frame(&[("STAGE", "1"), ("STATUS", "20")]), false),
            Verdict::NotCompleted
        );
        assert!(matches!(
            verdict(&frame(&[("STAGE", "1"), ("STATUS", "1")]), false),
            Verdict::NotStarted { busy: true, .. }
        ));
        assert!(matches!(
            verdict(&frame(&[("STAGE", "2"), ("STATUS", "13")]), true),
            Verdict::Cancelled(_)
        ));
    }

    #[test]
    fn a_status_record_is_matched_by_sid_only() {
        let rec = frame(&[
            ("STAGE", "5"),
            ("STATUS", "0"),
            ("SID_ORIGINAL", "S1"),
            ("TX_STATUS", "0"),
        ]);
        assert!(matches!(status_record(&rec, "S1"), Verdict::Approved(_)));
        assert!(matches!(status_record(&rec, "S2"), Verdict::NotFound(_)));
        let none = frame(&[("STAGE", "1"), ("STATUS", "17")]);
        assert!(matches!(status_record(&none, "S1"), Verdict::NotFound(_)));
        let busy = frame(&[("STAGE", "1"), ("STATUS", "1")]);
        assert!(matches!(status_record(&busy, "S1"), Verdict::Reconcile(_)));
    }
}

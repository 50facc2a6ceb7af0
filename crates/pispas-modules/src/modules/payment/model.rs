//! What every payment is, whatever the terminal: its state machine, the operation, the card data
//! the journal may keep (masked PAN only), the outcome a driver reports, and the stage events.
//! Pure: no I/O; the journal stores these, the runner publishes them.

use crate::protocol::ErrorCode;
use serde_json::{json, Value};

/// Where a payment stands (docs/payments.md, "States").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentState {
    /// Journaled; nothing sent to the terminal yet.
    Received,
    /// Bytes may have reached the terminal.
    Sent,
    /// The terminal acknowledged the request and is running it.
    InProgress,
    Approved,
    Declined,
    Cancelled,
    /// Nobody can tell whether money moved: a person resolves it (PAYMENT_RESOLVE).
    UnknownOutcome,
    /// An approved sale later refunded (at least partly) through this service.
    Refunded,
    /// An approved sale later reversed (voided) on the terminal.
    Reversed,
}

impl PaymentState {
    pub const ALL: [PaymentState; 9] = [
        PaymentState::Received,
        PaymentState::Sent,
        PaymentState::InProgress,
        PaymentState::Approved,
        PaymentState::Declined,
        PaymentState::Cancelled,
        PaymentState::UnknownOutcome,
        PaymentState::Refunded,
        PaymentState::Reversed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Received => "RECEIVED",
            PaymentState::Sent => "SENT",
            PaymentState::InProgress => "IN_PROGRESS",
            PaymentState::Approved => "APPROVED",
            PaymentState::Declined => "DECLINED",
            PaymentState::Cancelled => "CANCELLED",
            PaymentState::UnknownOutcome => "UNKNOWN_OUTCOME",
            PaymentState::Refunded => "REFUNDED",
            PaymentState::Reversed => "REVERSED",
        }
    }

    /// The state for its stored text; `None` for text this version does not write.
    pub fn parse(text: &str) -> Option<PaymentState> {
        PaymentState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the outcome is settled (the terminal is no longer involved). UNKNOWN_OUTCOME is
    /// settled for the terminal, not for the shop: it waits for PAYMENT_RESOLVE.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            PaymentState::Received | PaymentState::Sent | PaymentState::InProgress
        )
    }

    /// Whether money moved to the shop (and a follow-up may still change that).
    pub fn charged(self) -> bool {
        matches!(
            self,
            PaymentState::Approved | PaymentState::Refunded | PaymentState::Reversed
        )
    }

    /// The FAILURE code a POS gets for a payment in this state, when it is not a SUCCESS.
    pub fn failure_code(self) -> Option<ErrorCode> {
        match self {
            PaymentState::Approved | PaymentState::Refunded | PaymentState::Reversed => None,
            PaymentState::Declined => Some(ErrorCode::PaymentDeclined),
            PaymentState::Cancelled => Some(ErrorCode::PaymentCancelled),
            PaymentState::UnknownOutcome
            | PaymentState::Received
            | PaymentState::Sent
            | PaymentState::InProgress => Some(ErrorCode::PaymentUnknownOutcome),
        }
    }
}

/// What was asked of the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Sale,
    Refund,
    /// The terminal's last transaction voided (myPOS REVERSAL).
    Reversal,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Sale => "SALE",
            Operation::Refund => "REFUND",
            Operation::Reversal => "REVERSAL",
        }
    }

    pub fn parse(text: &str) -> Option<Operation> {
        [Operation::Sale, Operation::Refund, Operation::Reversal]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// The card and host data the journal keeps: never a full PAN, track data, CVV or PIN block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardData {
    /// Masked PAN (`476173******0010`); masked again on the way in, whatever the terminal sent.
    pub card: Option<String>,
    pub brand: Option<String>,
    pub auth_code: Option<String>,
    /// RRN or the acquirer's operation number.
    pub rrn: Option<String>,
    pub entry_mode: Option<String>,
    /// The receipt lines the terminal returned.
    pub receipt: Vec<String>,
}

impl CardData {
    /// `card` as the journal keeps it: any run of 12 or more digits (a full PAN, whatever the
    /// terminal sent) keeps only its last four.
    pub fn with_card(mut self, card: Option<&str>) -> CardData {
        self.card = card.filter(|c| !c.is_empty()).map(mask_card_field);
        self
    }
}

/// A card field: every run of 12+ digits keeps only its last four; masked forms pass.
pub fn mask_card_field(text: &str) -> String {
    mask_runs(text, |run| run.len() >= 12)
}

/// Free text (a POS reference, a receipt line): card numbers — 13 to 19 digits that pass the
/// Luhn check — keep only their last four; ticket numbers and RRNs are left alone.
pub fn mask_pan(text: &str) -> String {
    mask_runs(text, |run| (13..=19).contains(&run.len()) && luhn(run))
}

fn mask_runs(text: &str, is_card: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if is_card(run) {
            let keep = run.len() - 4;
            out.push_str(&"*".repeat(keep));
            out.push_str(&run[keep..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// The reference a terminal is given for a payment (myPOS `SID`, Paytef
/// `transactionReference`), derived from its UUIDV4 only, so reconciliation matches exactly and
/// never by amount or time: the UUIDV4 itself when it is short plain text, else `H` and 31 hex
/// digits of its SHA-256.
pub fn terminal_ref(uuid: &str) -> String {
    let plain = !uuid.is_empty()
        && uuid.len() <= 40
        && uuid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if plain {
        return uuid.to_string();
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, uuid.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("H{}", &hex[..31])
}

/// How a payment ended, as a driver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub state: PaymentState,
    /// The code beyond the state's own (TERMINAL_BUSY, TERMINAL_UNAVAILABLE for a request the
    /// terminal refused before starting it); `None`: the state's code.
    pub code: Option<ErrorCode>,
    /// One sentence a cashier understands.
    pub message: String,
    pub card: CardData,
    /// For a reversal: the terminal reference of the transaction it voided.
    pub reversed_ref: Option<String>,
    /// A kind's own fields for the reply (cash: INSERTED, CHANGE, REST).
    pub detail: Option<serde_json::Value>,
}

impl Outcome {
    pub fn new(state: PaymentState, message: impl Into<String>) -> Outcome {
        Outcome {
            state,
            code: None,
            message: message.into(),
            card: CardData::default(),
            reversed_ref: None,
            detail: None,
        }
    }

    pub fn with_code(mut self, code: ErrorCode) -> Outcome {
        self.code = Some(code);
        self
    }

    pub fn with_card(mut self, card: CardData) -> Outcome {
        self.card = card;
        self
    }

    /// The code the POS gets: the explicit one, else the state's.
    pub fn code(&self) -> Option<ErrorCode> {
        self.code.or(self.state.failure_code())
    }
}

/// The progress stages a POS sees in `PAYMENT` events, mapped from each terminal's own status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Sent,
    PresentCard,
    ReadingCard,
    Pin,
    Processing,
    Finished,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Sent => "SENT",
            Stage::PresentCard => "PRESENT_CARD",
            Stage::ReadingCard => "READING_CARD",
            Stage::Pin => "PIN",
            Stage::Processing => "PROCESSING",
            Stage::Finished => "FINISHED",
        }
    }
}

/// The `PAYMENT` event's data.
pub fn stage_event(target: &str, terminal: &str, uuid: &str, stage: Stage, raw: Value) -> Value {
    json!({
        "EVENT": "PAYMENT",
        "TARGET": target,
        "TERMINAL": terminal,
        "PAYMENT": uuid,
        "STAGE": stage.as_str(),
        "TERMINAL_STATUS": raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_only_three_are_open() {
        for s in PaymentState::ALL {
            assert_eq!(PaymentState::parse(s.as_str()), Some(s));
        }
        let open: Vec<_> = PaymentState::ALL
            .into_iter()
            .filter(|s| !s.is_final())
            .collect();
        assert_eq!(
            open,
            [
                PaymentState::Received,
                PaymentState::Sent,
                PaymentState::InProgress
            ]
        );
    }

    #[test]
    fn a_full_pan_keeps_only_its_last_four_and_masked_ones_pass() {
        assert_eq!(mask_pan("4761739001010010"), "************0010");
        assert_eq!(mask_pan("476173******0010"), "476173******0010");
        assert_eq!(mask_pan("VISA 5413330089010608"), "VISA ************0608");
        assert_eq!(mask_pan("RRN 123456"), "RRN 123456");
        assert_eq!(
            mask_pan("ticket 2026120200017"),
            "ticket 2026120200017",
            "not Luhn"
        );
        assert_eq!(mask_card_field("4761739001010011"), "************0011");
    }

    #[test]
    fn the_terminal_reference_is_the_uuid_or_its_hash() {
        let u = "6f1c2a9e-0b7d-4c1e-9a43-2d5e8f7b1c00";
        assert_eq!(terminal_ref(u), u);
        let odd = terminal_ref("a uuid with spaces and ünïcode");
        assert_eq!(odd.len(), 32);
        assert_eq!(odd, terminal_ref("a uuid with spaces and ünïcode"));
        assert_ne!(odd, terminal_ref("another"));
    }

    #[test]
    fn an_unknown_outcome_is_never_a_success() {
        assert_eq!(
            PaymentState::UnknownOutcome.failure_code(),
            Some(ErrorCode::PaymentUnknownOutcome)
        );
        assert_eq!(PaymentState::Approved.failure_code(), None);
    }
}

/// When a terminal last answered in its own protocol. A payment is only started after the
/// terminal has shown it is one (a PING, a status call: see docs/payments.md, "Is it the
/// terminal?"); an answer within [`Verified::FRESH`] of the start counts, so back-to-back sales
/// do not pay that round trip each time, while the first after a pause, after a failure, or
/// after a restart always asks.
#[derive(Clone, Default)]
pub struct Verified(std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>);

impl Verified {
    pub const FRESH: std::time::Duration = std::time::Duration::from_secs(60);

    /// The terminal just answered in its protocol.
    pub fn answered(&self) {
        if let Ok(mut at) = self.0.lock() {
            *at = Some(std::time::Instant::now());
        }
    }

    /// An exchange failed: the next start asks again.
    pub fn doubt(&self) {
        if let Ok(mut at) = self.0.lock() {
            *at = None;
        }
    }

    pub fn is_fresh(&self) -> bool {
        self.0
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < Self::FRESH)
    }
}

#[cfg(test)]
mod verified_tests {
    use super::Verified;

    #[test]
    fn an_answer_is_fresh_until_a_failure_and_clones_share_it() {
        let v = Verified::default();
        assert!(!v.is_fresh(), "nothing answered yet");
        let other = v.clone();
        v.answered();
        assert!(other.is_fresh());
        other.doubt();
        assert!(!v.is_fresh());
    }
}

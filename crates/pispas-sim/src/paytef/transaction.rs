//! One Paytef transaction as data: its operation, card status, outcome and phase, and where it
//! is in its scenario's plan. The vocabulary (`waitingCard`, `finished`, result texts) lives
//! here; moving a transaction along is terminal.rs's job.

use super::scenario::{Faults, PaytefScenario, Step, Wait};
use crate::payment::numbers::Issued;
use crate::payment::{TestCard, Timestamp};

/// `opType` of a start request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpType {
    Sale,
    Refund,
}

impl OpType {
    pub fn name(self) -> &'static str {
        match self {
            OpType::Sale => "sale",
            OpType::Refund => "refund",
        }
    }

    pub fn parse(text: &str) -> Option<OpType> {
        match text {
            "sale" => Some(OpType::Sale),
            "refund" => Some(OpType::Refund),
            _ => None,
        }
    }
}

/// `info.cardStatus` while a transaction runs. Only `readingCard` is seen in public code; the
/// other names are the simulator's choice (README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardStatus {
    WaitingCard,
    ReadingCard,
    WaitingPin,
    Processing,
}

impl CardStatus {
    pub fn name(self) -> &'static str {
        match self {
            CardStatus::WaitingCard => "waitingCard",
            CardStatus::ReadingCard => "readingCard",
            CardStatus::WaitingPin => "waitingPin",
            CardStatus::Processing => "processing",
        }
    }

    /// What the pinpad screen says (Spanish, as the real one).
    pub fn message(self) -> &'static str {
        match self {
            CardStatus::WaitingCard => "Inserte, deslice o acerque la tarjeta",
            CardStatus::ReadingCard => "Leyendo tarjeta",
            CardStatus::WaitingPin => "Introduzca el PIN",
            CardStatus::Processing => "Procesando",
        }
    }
}

/// How a transaction finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Approved,
    Declined,
    /// By the customer on the pinpad or by `/pinpad/cancel`.
    Cancelled,
    /// Shown as finished and not approved, though the customer may still retry the PIN
    /// (declined-then-approved).
    WrongPin,
}

impl Outcome {
    pub fn approved(self) -> bool {
        self == Outcome::Approved
    }

    pub fn result_text(self) -> &'static str {
        match self {
            Outcome::Approved => "Operación aprobada",
            Outcome::Declined => "Operación denegada",
            Outcome::Cancelled => "Operación cancelada",
            Outcome::WrongPin => "PIN incorrecto",
        }
    }
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running(CardStatus),
    Finished(Outcome),
    /// Lost in a restart: the terminal no longer knows it.
    Forgotten,
}

/// One transaction the terminal ran (or is running).
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// 1, 2, … in start order.
    pub id: u64,
    pub reference: Option<String>,
    pub op: OpType,
    pub amount_cents: u64,
    pub session_id: Option<String>,
    /// Started on the terminal itself (busy scenario), not through the API.
    pub foreign: bool,
    pub create_receipt: bool,
    pub card: TestCard,
    /// Whether the card was read (receipts and card fields only then).
    pub card_read: bool,
    pub phase: Phase,
    pub started_at: Timestamp,
    /// Host numbers, given when the bank approved it.
    pub issued: Option<Issued>,
    pub scenario: PaytefScenario,
    pub(crate) faults: Faults,
    pub(crate) plan: Vec<Step>,
    pub(crate) step: usize,
}

impl Transaction {
    /// Whether steps remain (a finished-looking wrong-PIN result may still go on).
    pub fn is_running(&self) -> bool {
        match self.phase {
            Phase::Running(_) => true,
            Phase::Finished(_) => self.step + 1 < self.plan.len(),
            Phase::Forgotten => false,
        }
    }

    pub fn outcome(&self) -> Option<Outcome> {
        match self.phase {
            Phase::Finished(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// How long the current step lasts.
    pub fn wait(&self) -> Wait {
        match self.plan.get(self.step) {
            Some(Step::Card(_, wait) | Step::Result(_, wait)) => *wait,
            Some(Step::Restart) | None => Wait::Forever,
        }
    }

    pub fn step_index(&self) -> usize {
        self.step
    }
}

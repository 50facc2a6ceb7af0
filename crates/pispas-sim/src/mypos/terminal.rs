//! The myPOS terminal's state, without I/O: one transaction at a time (BUSY otherwise), the
//! COMPLETE_TX rule (a PURCHASE or REFUND that got STAGE=1/STATUS=0 must be completed or
//! cancelled before the next one, else STATUS=20), GET_STATUS records, reversal of the last
//! transaction, and what a customer cancel or a restart does. session.rs drives it.

use super::scenario::{Ending, MyposScenario};
use super::status::Status;
use crate::payment::numbers::{Issued, Numbers};
use crate::payment::{TestCard, Timestamp};

/// PURCHASE or REFUND.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    Purchase,
    Refund,
}

impl TxKind {
    pub fn method(self) -> &'static str {
        match self {
            TxKind::Purchase => "PURCHASE",
            TxKind::Refund => "REFUND",
        }
    }
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxOutcome {
    Running,
    Approved,
    Declined,
    /// By the customer (STATUS=13).
    Cancelled,
    /// Not processed by the bank (host error, slave relay missing).
    Failed,
    /// Approved, then reversed (CANCEL_TX or REVERSAL).
    Reversed,
    /// Lost in a restart.
    Forgotten,
}

impl TxOutcome {
    /// TX_STATUS as the simulator reports it: 0 approved (from the notes); 1 declined,
    /// 2 cancelled, 3 reversed, 4 failed are INFERRED.
    pub fn tx_status(self) -> Option<u8> {
        match self {
            TxOutcome::Approved => Some(0),
            TxOutcome::Declined => Some(1),
            TxOutcome::Cancelled => Some(2),
            TxOutcome::Reversed => Some(3),
            TxOutcome::Failed => Some(4),
            TxOutcome::Running | TxOutcome::Forgotten => None,
        }
    }

    /// Whether money moved (and still has).
    pub fn charged(self) -> bool {
        self == TxOutcome::Approved
    }
}

/// What the caller did about a transaction after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Needs COMPLETE_TX or CANCEL_TX with its SID.
    Pending,
    Completed,
    /// CANCEL_TX (or REVERSAL) closed it.
    Cancelled,
    /// Started on the keypad or lost in a restart: nothing to complete.
    NotNeeded,
}

/// One transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct MyposTransaction {
    pub sid: String,
    pub kind: TxKind,
    pub amount_cents: u64,
    pub currency: String,
    pub reference: Option<String>,
    pub outcome: TxOutcome,
    pub completion: Completion,
    /// The last STAGE sent.
    pub stage: u8,
    pub card: TestCard,
    pub card_read: bool,
    pub issued: Option<Issued>,
    pub at: Timestamp,
    pub foreign: bool,
    pub scenario: MyposScenario,
}

/// A PURCHASE or REFUND as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TxRequest {
    pub sid: String,
    pub kind: TxKind,
    pub amount_cents: u64,
    pub currency: String,
    pub reference: Option<String>,
}

/// What interrupted a running transaction from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interrupt {
    Cancelled,
    Restarted,
}

#[derive(Debug, Default)]
pub(crate) struct Terminal {
    pub transactions: Vec<MyposTransaction>,
    running: Option<usize>,
    cancellable: bool,
    pending: Option<usize>,
    last: Option<usize>,
    numbers: Numbers,
    pub card: TestCard,
    pub scenario: MyposScenario,
}

impl Terminal {
    pub(crate) fn new(scenario: MyposScenario) -> Terminal {
        let mut t = Terminal::default();
        t.set_scenario(scenario);
        t
    }

    pub(crate) fn is_busy(&self) -> bool {
        self.running.is_some()
    }

    pub(crate) fn running(&self) -> Option<&MyposTransaction> {
        self.running.and_then(|i| self.transactions.get(i))
    }

    pub(crate) fn pending(&self) -> Option<&MyposTransaction> {
        self.pending.and_then(|i| self.transactions.get(i))
    }

    pub(crate) fn last(&self) -> Option<&MyposTransaction> {
        self.last.and_then(|i| self.transactions.get(i))
    }

    /// Sets the scenario of the next PURCHASE/REFUND. `busy` starts a keypad transaction now;
    /// `stuck` plants an approved transaction that waits for COMPLETE_TX.
    pub(crate) fn set_scenario(&mut self, scenario: MyposScenario) {
        self.scenario = scenario;
        let n = self.transactions.len() + 1;
        match scenario {
            MyposScenario::Busy if !self.is_busy() => {
                let i = self.push(self.request(&format!("KEYPAD-{n}")), true);
                self.running = Some(i);
            }
            MyposScenario::Stuck if self.pending.is_none() && !self.is_busy() => {
                let i = self.push(self.request(&format!("STUCK-{n}")), false);
                let issued = self.numbers.issue();
                let tx = &mut self.transactions[i];
                tx.outcome = TxOutcome::Approved;
                tx.completion = Completion::Pending;
                tx.stage = 5;
                tx.card_read = true;
                tx.issued = Some(issued);
                self.pending = Some(i);
                self.last = Some(i);
            }
            _ => {}
        }
    }

    fn request(&self, sid: &str) -> TxRequest {
        TxRequest {
            sid: sid.into(),
            kind: TxKind::Purchase,
            amount_cents: 100,
            currency: "EUR".into(),
            reference: None,
        }
    }

    fn push(&mut self, request: TxRequest, foreign: bool) -> usize {
        self.transactions.push(MyposTransaction {
            sid: request.sid,
            kind: request.kind,
            amount_cents: request.amount_cents,
            currency: request.currency,
            reference: request.reference,
            outcome: TxOutcome::Running,
            completion: if foreign {
                Completion::NotNeeded
            } else {
                Completion::Pending
            },
            stage: 0,
            card: self.card,
            card_read: false,
            issued: None,
            at: Timestamp::now(),
            foreign,
            scenario: self.scenario,
        });
        self.transactions.len() - 1
    }

    /// Starts a PURCHASE or REFUND (STAGE=1/STATUS=0 follows). Refused with TERMINAL BUSY
    /// while one runs, and with NOT COMPLETED LAST TX while one waits for COMPLETE_TX.
    pub(crate) fn begin(&mut self, request: TxRequest) -> Result<usize, Status> {
        if self.is_busy() {
            return Err(Status::TerminalBusy);
        }
        if self.pending.is_some() {
            return Err(Status::NotCompletedLastTx);
        }
        let i = self.push(request, false);
        self.running = Some(i);
        self.pending = Some(i);
        Ok(i)
    }

    /// Records that STAGE `stage` was sent for transaction `index`.
    pub(crate) fn stage_sent(&mut self, index: usize, stage: u8) {
        if let Some(tx) = self.transactions.get_mut(index) {
            tx.stage = stage;
            if stage == 2 {
                tx.card_read = true;
            }
        }
    }

    /// Whether the customer's cancel key works now.
    pub(crate) fn set_cancellable(&mut self, cancellable: bool) {
        self.cancellable = cancellable;
    }

    /// What happened to a running transaction from outside, if anything.
    pub(crate) fn interrupted(&self, index: usize) -> Option<Interrupt> {
        match self.transactions.get(index).map(|t| t.outcome) {
            Some(TxOutcome::Cancelled) => Some(Interrupt::Cancelled),
            Some(TxOutcome::Forgotten) | None => Some(Interrupt::Restarted),
            _ => None,
        }
    }

    /// Ends transaction `index` as `ending` says. Returns its outcome.
    pub(crate) fn end(&mut self, index: usize, ending: Ending) -> TxOutcome {
        let outcome = match ending {
            Ending::Approved | Ending::CommError => TxOutcome::Approved,
            Ending::Declined => TxOutcome::Declined,
            Ending::UserCancel => TxOutcome::Cancelled,
            Ending::HostError | Ending::RelayFailed => TxOutcome::Failed,
        };
        let issued = matches!(outcome, TxOutcome::Approved | TxOutcome::Declined)
            .then(|| self.numbers.issue());
        if let Some(tx) = self.transactions.get_mut(index) {
            tx.outcome = outcome;
            tx.issued = issued;
        }
        if self.running == Some(index) {
            self.running = None;
        }
        self.cancellable = false;
        self.last = Some(index);
        outcome
    }

    /// The customer presses cancel. Works on a keypad transaction, and on an IPP one while it
    /// waits for the card or the PIN; not once the bank is processing.
    pub(crate) fn customer_cancel(&mut self) -> bool {
        let Some(i) = self.running else {
            return false;
        };
        let foreign = self.transactions[i].foreign;
        if !foreign && !self.cancellable {
            return false;
        }
        self.transactions[i].outcome = TxOutcome::Cancelled;
        self.running = None;
        self.cancellable = false;
        self.last = Some(i);
        true
    }

    /// The terminal restarts: the running transaction is forgotten (no completion needed, not
    /// in GET_STATUS); a transaction already waiting for COMPLETE_TX stays waiting.
    pub(crate) fn restart(&mut self) {
        if let Some(i) = self.running.take() {
            let tx = &mut self.transactions[i];
            tx.outcome = TxOutcome::Forgotten;
            tx.completion = Completion::NotNeeded;
            if self.pending == Some(i) {
                self.pending = None;
            }
        }
        self.cancellable = false;
    }

    /// COMPLETE_TX with SID_ORIGINAL `sid`.
    pub(crate) fn complete(&mut self, sid: &str) -> Status {
        self.close_pending(sid, Completion::Completed, false)
    }

    /// CANCEL_TX with SID_ORIGINAL `sid`: reverses it if it was approved. With `fails`
    /// (cancel-fails) nothing changes and the answer is COMMUNICATION ERROR.
    pub(crate) fn cancel_tx(&mut self, sid: &str, fails: bool) -> Status {
        self.close_pending(sid, Completion::Cancelled, fails)
    }

    fn close_pending(&mut self, sid: &str, how: Completion, fails: bool) -> Status {
        let Some(i) = self.transactions.iter().rposition(|t| t.sid == sid) else {
            return Status::TransactionNotFound;
        };
        if self.pending != Some(i) {
            // Repeating what was already done is harmless; anything else is unknown.
            return if self.transactions[i].completion == how {
                Status::Ok
            } else {
                Status::TransactionNotFound
            };
        }
        if fails {
            return Status::CommunicationError;
        }
        let tx = &mut self.transactions[i];
        tx.completion = how;
        if how == Completion::Cancelled && tx.outcome == TxOutcome::Approved {
            tx.outcome = TxOutcome::Reversed;
        }
        self.pending = None;
        Status::Ok
    }

    /// REVERSAL of the last transaction: only an approved one. Returns its index.
    pub(crate) fn reversal(&mut self, fails: bool) -> Result<usize, Status> {
        let Some(i) = self
            .last
            .filter(|&i| self.transactions[i].outcome == TxOutcome::Approved)
        else {
            return Err(Status::ReversalNotFound);
        };
        if fails {
            return Err(Status::CommunicationError);
        }
        self.transactions[i].outcome = TxOutcome::Reversed;
        if self.pending == Some(i) {
            self.transactions[i].completion = Completion::Cancelled;
            self.pending = None;
        }
        Ok(i)
    }

    /// The record GET_STATUS reports: SID_ORIGINAL `sid` if given, else the last one.
    pub(crate) fn status_of(&self, sid: Option<&str>) -> Result<Option<&MyposTransaction>, Status> {
        match sid {
            Some(sid) => self
                .transactions
                .iter()
                .rev()
                .find(|t| t.sid == sid && t.outcome != TxOutcome::Forgotten)
                .map(Some)
                .ok_or(Status::TransactionNotFound),
            None => Ok(self.last()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purchase(sid: &str) -> TxRequest {
        TxRequest {
            sid: sid.into(),
            kind: TxKind::Purchase,
            amount_cents: 150,
            currency: "978".into(),
            reference: None,
        }
    }

    #[test]
    fn one_transaction_at_a_time() {
        let mut t = Terminal::new(MyposScenario::Approved);
        t.begin(purchase("A")).expect("idle");
        assert_eq!(t.begin(purchase("B")), Err(Status::TerminalBusy));
    }

    #[test]
    fn without_complete_tx_the_next_purchase_gets_status_20() {
        let mut t = Terminal::new(MyposScenario::Approved);
        let i = t.begin(purchase("A")).expect("idle");
        t.end(i, Ending::Approved);
        assert_eq!(t.begin(purchase("B")), Err(Status::NotCompletedLastTx));
        assert_eq!(t.complete("WRONG"), Status::TransactionNotFound);
        assert_eq!(t.complete("A"), Status::Ok);
        assert!(t.begin(purchase("B")).is_ok());
    }

    #[test]
    fn a_declined_purchase_also_needs_completing() {
        let mut t = Terminal::new(MyposScenario::Approved);
        let i = t.begin(purchase("A")).expect("idle");
        t.end(i, Ending::Declined);
        assert_eq!(t.pending().map(|p| p.sid.as_str()), Some("A"));
    }

    #[test]
    fn cancel_tx_reverses_an_approved_purchase() {
        let mut t = Terminal::new(MyposScenario::Approved);
        let i = t.begin(purchase("A")).expect("idle");
        t.end(i, Ending::Approved);
        assert_eq!(t.cancel_tx("A", true), Status::CommunicationError);
        assert_eq!(t.transactions[i].outcome, TxOutcome::Approved);
        assert_eq!(t.cancel_tx("A", false), Status::Ok);
        assert_eq!(t.transactions[i].outcome, TxOutcome::Reversed);
        assert!(t.pending().is_none());
    }

    #[test]
    fn the_stuck_scenario_plants_a_pending_approved_transaction() {
        let mut t = Terminal::new(MyposScenario::Stuck);
        let stuck = t.pending().expect("pending").clone();
        assert_eq!(stuck.outcome, TxOutcome::Approved);
        assert!(stuck.issued.is_some());
        assert_eq!(t.begin(purchase("A")), Err(Status::NotCompletedLastTx));
        assert_eq!(
            t.status_of(None).ok().flatten().map(|s| s.sid.clone()),
            Some(stuck.sid)
        );
    }

    #[test]
    fn a_customer_cancel_works_only_while_cancellable() {
        let mut t = Terminal::new(MyposScenario::Approved);
        let i = t.begin(purchase("A")).expect("idle");
        assert!(!t.customer_cancel());
        t.set_cancellable(true);
        assert!(t.customer_cancel());
        assert_eq!(t.interrupted(i), Some(Interrupt::Cancelled));
        assert!(!t.is_busy());
    }

    #[test]
    fn a_restart_forgets_the_running_transaction_and_its_completion() {
        let mut t = Terminal::new(MyposScenario::Approved);
        let a = t.begin(purchase("A")).expect("idle");
        t.end(a, Ending::Approved);
        t.complete("A");
        let b = t.begin(purchase("B")).expect("idle");
        t.restart();
        assert_eq!(t.interrupted(b), Some(Interrupt::Restarted));
        assert!(t.pending().is_none() && !t.is_busy());
        assert_eq!(
            t.status_of(None).ok().flatten().map(|s| s.sid.as_str()),
            Some("A")
        );
        assert_eq!(
            t.status_of(Some("B")).err(),
            Some(Status::TransactionNotFound)
        );
    }

    #[test]
    fn reversal_needs_an_approved_last_transaction() {
        let mut t = Terminal::new(MyposScenario::Approved);
        assert_eq!(t.reversal(false), Err(Status::ReversalNotFound));
        let i = t.begin(purchase("A")).expect("idle");
        t.end(i, Ending::Approved);
        assert_eq!(t.reversal(false), Ok(i));
        assert_eq!(t.reversal(false), Err(Status::ReversalNotFound));
        assert!(t.pending().is_none());
    }

    #[test]
    fn busy_runs_a_keypad_transaction_that_a_customer_cancel_ends() {
        let mut t = Terminal::new(MyposScenario::Busy);
        assert!(t.is_busy());
        assert!(t.customer_cancel());
        assert!(
            t.begin(purchase("A")).is_ok(),
            "keypad ones need no COMPLETE_TX"
        );
    }
}

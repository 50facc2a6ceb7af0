//! The Paytef pinpad's state machine, without I/O or clocks: idle → started → card statuses →
//! finished {approved | declined | cancelled}, one transaction at a time, a last result that
//! survives a restart, cancel rules, and a foreign transaction for the busy case. The runner in
//! mod.rs moves it along in time by calling `advance`; the HTTP side reads and pokes it.

use super::scenario::{Faults, PaytefScenario, Step, Wait};
pub use super::transaction::{CardStatus, OpType, Outcome, Phase, Transaction};
use crate::payment::numbers::Numbers;
use crate::payment::{TestCard, Timestamp};

/// What a start request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StartRequest {
    pub op: OpType,
    pub amount_cents: u64,
    pub reference: Option<String>,
    pub create_receipt: bool,
}

/// Why a start was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartRefused {
    /// A transaction is running (HTTP 500).
    Busy,
}

/// The terminal.
#[derive(Debug, Default)]
pub(crate) struct Terminal {
    /// Every transaction, in start order (index = id - 1).
    pub transactions: Vec<Transaction>,
    /// The one polls talk about (running or finished); None when idle or after a restart.
    current: Option<usize>,
    /// The last finished one, for getLastResult; survives restarts.
    last_result: Option<usize>,
    numbers: Numbers,
    pub card: TestCard,
    pub scenario: PaytefScenario,
    pub cloud: bool,
}

impl Terminal {
    pub(crate) fn new(scenario: PaytefScenario, cloud: bool) -> Terminal {
        let mut terminal = Terminal {
            cloud,
            ..Terminal::default()
        };
        terminal.set_scenario(scenario);
        terminal
    }

    pub(crate) fn current(&self) -> Option<&Transaction> {
        self.current.and_then(|i| self.transactions.get(i))
    }

    pub(crate) fn last_result(&self) -> Option<&Transaction> {
        self.last_result.and_then(|i| self.transactions.get(i))
    }

    pub(crate) fn is_busy(&self) -> bool {
        self.current().is_some_and(Transaction::is_running)
    }

    /// Whether transaction `index` is the current one and still has steps to run.
    pub(crate) fn runs(&self, index: usize) -> bool {
        self.current == Some(index) && self.current().is_some_and(Transaction::is_running)
    }

    pub(crate) fn by_session(&self, session: &str) -> Option<&Transaction> {
        self.transactions
            .iter()
            .find(|t| t.session_id.as_deref() == Some(session))
    }

    /// Sets the scenario for the next start. `busy` also starts a foreign transaction now.
    pub(crate) fn set_scenario(&mut self, scenario: PaytefScenario) {
        self.scenario = scenario;
        if scenario == PaytefScenario::Busy && !self.is_busy() {
            let plan = vec![Step::Card(CardStatus::WaitingCard, Wait::Forever)];
            self.push(
                StartRequest {
                    op: OpType::Sale,
                    amount_cents: 100,
                    reference: Some(format!("FOREIGN-{}", self.transactions.len() + 1)),
                    create_receipt: false,
                },
                true,
                plan,
                Faults::default(),
            );
        }
    }

    /// Starts a transaction under the current scenario; returns its index. Fails with `Busy`
    /// while one runs.
    pub(crate) fn start(&mut self, request: StartRequest) -> Result<usize, StartRefused> {
        if self.is_busy() {
            return Err(StartRefused::Busy);
        }
        let plan = self.scenario.plan(self.card.entry.needs_pin());
        Ok(self.push(request, false, plan, self.scenario.faults()))
    }

    fn push(
        &mut self,
        request: StartRequest,
        foreign: bool,
        plan: Vec<Step>,
        faults: Faults,
    ) -> usize {
        let id = self.transactions.len() as u64 + 1;
        let session_id =
            (self.cloud && !foreign && !faults.no_session).then(|| format!("sim-session-{id:06}"));
        let phase = match plan.first() {
            Some(Step::Card(status, _)) => Phase::Running(*status),
            _ => Phase::Running(CardStatus::WaitingCard),
        };
        self.transactions.push(Transaction {
            id,
            reference: request.reference,
            op: request.op,
            amount_cents: request.amount_cents,
            session_id,
            foreign,
            create_receipt: request.create_receipt,
            card: self.card,
            card_read: false,
            phase,
            started_at: Timestamp::now(),
            issued: None,
            scenario: self.scenario,
            faults,
            plan,
            step: 0,
        });
        let index = self.transactions.len() - 1;
        self.current = Some(index);
        index
    }

    /// Moves transaction `index` from step `from` to the next one. Does nothing when it is no
    /// longer current or has moved on already (a cancel or a restart got there first), so the
    /// runner can call it blindly. Returns whether anything changed.
    pub(crate) fn advance(&mut self, index: usize, from: usize) -> bool {
        if self.current != Some(index) {
            return false;
        }
        let Some(tx) = self.transactions.get(index) else {
            return false;
        };
        if tx.step != from || from + 1 >= tx.plan.len() {
            return false;
        }
        let next = tx.plan[from + 1];
        self.apply(index, from + 1, next);
        true
    }

    fn apply(&mut self, index: usize, step: usize, what: Step) {
        let mut forget = false;
        let mut finished = false;
        let Some(tx) = self.transactions.get_mut(index) else {
            return;
        };
        tx.step = step;
        match what {
            Step::Card(status, _) => {
                if status != CardStatus::WaitingCard {
                    tx.card_read = true;
                }
                tx.phase = Phase::Running(status);
            }
            Step::Result(outcome, _) => {
                if outcome.approved() && tx.issued.is_none() {
                    tx.issued = Some(self.numbers.issue());
                }
                tx.phase = Phase::Finished(outcome);
                finished = true;
            }
            Step::Restart => {
                tx.phase = Phase::Forgotten;
                forget = true;
            }
        }
        if finished {
            self.last_result = Some(index);
        }
        if forget {
            self.current = None;
        }
    }

    /// `/pinpad/cancel`. Returns `info.success`: true when a running transaction was cancelled
    /// (or, under cancel-ignored, when the terminal only says so). Fails (false) when nothing
    /// runs or the bank is already processing it.
    pub(crate) fn cancel(&mut self) -> bool {
        let Some(index) = self.current else {
            return false;
        };
        let Some(tx) = self.transactions.get(index) else {
            return false;
        };
        if !tx.is_running() {
            return false;
        }
        if tx.faults.cancel_ignored {
            return true;
        }
        self.customer_cancel()
    }

    /// The customer presses cancel on the pinpad. Works while waiting for the card, reading
    /// it, or waiting for the PIN (also after a wrong PIN); not once the bank is processing.
    pub(crate) fn customer_cancel(&mut self) -> bool {
        let Some(index) = self.current else {
            return false;
        };
        let Some(tx) = self.transactions.get(index) else {
            return false;
        };
        let cancellable = tx.is_running()
            && !matches!(
                tx.phase,
                Phase::Running(CardStatus::Processing) | Phase::Forgotten
            );
        if !cancellable {
            return false;
        }
        let cancelled = Step::Result(Outcome::Cancelled, Wait::Forever);
        let step = tx.step + 1;
        if let Some(tx) = self.transactions.get_mut(index) {
            tx.plan.truncate(step);
            tx.plan.push(cancelled);
        }
        self.apply(index, step, cancelled);
        true
    }

    /// The terminal restarts: a running transaction is forgotten (polls say idle); the last
    /// result survives.
    pub(crate) fn restart(&mut self) {
        if let Some(index) = self.current {
            if let Some(tx) = self.transactions.get_mut(index) {
                if tx.is_running() {
                    tx.phase = Phase::Forgotten;
                    let keep = tx.step + 1;
                    tx.plan.truncate(keep);
                }
            }
        }
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(reference: &str) -> StartRequest {
        StartRequest {
            op: OpType::Sale,
            amount_cents: 1234,
            reference: Some(reference.into()),
            create_receipt: true,
        }
    }

    /// Runs transaction `i` until it stops by itself (a Forever wait or the end of its plan).
    fn run(t: &mut Terminal, i: usize) {
        while t.transactions[i].wait() != Wait::Forever {
            let from = t.transactions[i].step_index();
            if !t.advance(i, from) {
                break;
            }
        }
    }

    #[test]
    fn an_approved_sale_walks_the_card_statuses_and_becomes_the_last_result() {
        let mut t = Terminal::new(PaytefScenario::Approved, false);
        let i = t.start(sale("R1")).expect("idle");
        assert_eq!(
            t.transactions[i].phase,
            Phase::Running(CardStatus::WaitingCard)
        );
        run(&mut t, i);
        let tx = &t.transactions[i];
        assert_eq!(tx.phase, Phase::Finished(Outcome::Approved));
        assert!(tx.issued.is_some() && tx.card_read);
        assert_eq!(t.last_result().map(|r| r.id), Some(tx.id));
        assert!(!t.is_busy());
    }

    #[test]
    fn a_second_start_while_one_runs_is_refused() {
        let mut t = Terminal::new(PaytefScenario::Timeout, false);
        t.start(sale("R1")).expect("idle");
        assert_eq!(t.start(sale("R2")), Err(StartRefused::Busy));
    }

    #[test]
    fn cancel_while_waiting_for_the_card_finishes_not_approved() {
        let mut t = Terminal::new(PaytefScenario::Timeout, false);
        let i = t.start(sale("R1")).expect("idle");
        assert!(t.cancel());
        assert_eq!(t.transactions[i].phase, Phase::Finished(Outcome::Cancelled));
        assert!(!t.cancel(), "nothing left to cancel");
    }

    #[test]
    fn cancel_while_the_bank_processes_fails_and_the_sale_goes_on() {
        let mut t = Terminal::new(PaytefScenario::Approved, false);
        let i = t.start(sale("R1")).expect("idle");
        while t.transactions[i].phase != Phase::Running(CardStatus::Processing) {
            let from = t.transactions[i].step_index();
            assert!(t.advance(i, from));
        }
        assert!(!t.cancel());
        run(&mut t, i);
        assert_eq!(t.transactions[i].outcome(), Some(Outcome::Approved));
    }

    #[test]
    fn cancel_ignored_says_success_and_still_approves() {
        let mut t = Terminal::new(PaytefScenario::CancelIgnored, false);
        let i = t.start(sale("R1")).expect("idle");
        assert!(t.cancel());
        run(&mut t, i);
        assert_eq!(t.transactions[i].outcome(), Some(Outcome::Approved));
    }

    #[test]
    fn a_restart_forgets_the_running_sale_and_keeps_the_previous_result() {
        let mut t = Terminal::new(PaytefScenario::Approved, false);
        let first = t.start(sale("R1")).expect("idle");
        run(&mut t, first);
        t.set_scenario(PaytefScenario::Restarted);
        let second = t.start(sale("R2")).expect("idle");
        run(&mut t, second);
        assert_eq!(t.transactions[second].phase, Phase::Forgotten);
        assert!(t.current().is_none() && !t.is_busy());
        assert_eq!(
            t.last_result().map(|r| r.id),
            Some(t.transactions[first].id)
        );
    }

    #[test]
    fn declined_then_approved_shows_a_finished_decline_before_the_approval() {
        let mut t = Terminal::new(PaytefScenario::DeclinedThenApproved, false);
        let i = t.start(sale("R1")).expect("idle");
        let mut seen = Vec::new();
        loop {
            seen.push(t.transactions[i].phase);
            let from = t.transactions[i].step_index();
            if !t.advance(i, from) {
                break;
            }
        }
        assert!(seen.contains(&Phase::Finished(Outcome::WrongPin)));
        assert_eq!(seen.last(), Some(&Phase::Finished(Outcome::Approved)));
    }

    #[test]
    fn the_busy_scenario_starts_a_foreign_transaction_that_a_cancel_ends() {
        let mut t = Terminal::new(PaytefScenario::Busy, false);
        assert!(t.is_busy());
        assert_eq!(t.start(sale("R1")), Err(StartRefused::Busy));
        assert!(t.customer_cancel());
        let last = t.last_result().expect("the foreign one");
        assert!(last.foreign);
        assert!(t.start(sale("R1")).is_ok());
    }

    #[test]
    fn cloud_transactions_get_a_session_unless_the_scenario_says_not() {
        let mut t = Terminal::new(PaytefScenario::Approved, true);
        let i = t.start(sale("R1")).expect("idle");
        assert!(t.transactions[i].session_id.is_some());
        run(&mut t, i);
        t.set_scenario(PaytefScenario::NoSession);
        let j = t.start(sale("R2")).expect("idle");
        assert!(t.transactions[j].session_id.is_none());
    }
}

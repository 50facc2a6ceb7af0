//! The CashGuard driver: the semantics of the vendor library (device-protocols.md §3) behind a
//! [`CashMachine`] trait, and the payment flow on it for the shared runner.
//!
//! A sale is `amountDueCG(due)` asked again as the customer inserts cash (BUSY with the amount
//! still due until enough is in; Status callbacks tell us when), then OK with the change paid, or
//! PAYOUT_REST with what the machine could not pay (the sale is settled; the cashier pays the rest
//! by hand). CANCEL is a regret: the inserted cash is handed back. A payout (DISPENSE) is
//! `payout2CG(amount, 0)`. A jam while money is moving is UNKNOWN_OUTCOME: count the cash.
//! The vendor's calls block, so they run on the blocking pool, one at a time.

use super::codec;
use super::ffi::{CgEvent, CgReply};
use crate::modules::payment::journal::PaymentRow;
use crate::modules::payment::model::{Operation, Outcome, PaymentState, Stage};
use crate::modules::payment::runner::{Driver, Progress, Reconciled, Run};
use crate::protocol::ErrorCode;
use crate::router::BoxFuture;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The vendor library's semantics (the real `cglogics` adapter and anything else that acts
/// like it). Calls block.
pub(super) trait CashMachine: Send + Sync + 'static {
    fn login(&self, register: &str, cashier: &str) -> CgReply;
    fn logout(&self) -> CgReply;
    fn is_open(&self) -> CgReply;
    fn amount_due(&self, due: i32, trans: &str) -> CgReply;
    fn payout2(&self, dispense: i32, deposit: i32, trans: &str) -> CgReply;
    fn ask_payout2(&self, amount: i32) -> CgReply;
    fn regret(&self, all: bool) -> CgReply;
    fn info(&self) -> (CgReply, String);
    fn reset(&self) -> CgReply;
}

/// What the callbacks told us, for the flow and STATUS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Seen {
    /// Cents inserted and not yet settled (Status callback).
    pub(super) inserted: i32,
    /// 0 OK, 1 BUSY, 2 ERROR.
    pub(super) status: i32,
    /// 0 closed, 1 open from register, 2 open from back office.
    pub(super) mode: i32,
    /// The last error callback.
    pub(super) error: Option<String>,
}

/// The machine, its callbacks' state, and the flow's signals.
pub(super) struct CashDriver<M> {
    pub(super) name: String,
    pub(super) machine: Arc<M>,
    pub(super) seen: watch::Receiver<Seen>,
    /// Bumped by CANCEL: hand the cash back (a generation, so a late CANCEL never cancels the
    /// next payment).
    pub(super) cancel: Arc<watch::Sender<u64>>,
    /// Serialises calls into the library (one machine, one caller at a time).
    lock: Arc<Mutex<()>>,
}

impl<M: CashMachine> CashDriver<M> {
    pub(super) fn new(name: String, machine: Arc<M>, seen: watch::Receiver<Seen>) -> Self {
        CashDriver {
            name,
            machine,
            seen,
            cancel: Arc::new(watch::channel(0).0),
            lock: Arc::default(),
        }
    }

    fn clone_handle(&self) -> Self {
        CashDriver {
            name: self.name.clone(),
            machine: self.machine.clone(),
            seen: self.seen.clone(),
            cancel: self.cancel.clone(),
            lock: self.lock.clone(),
        }
    }

    /// Runs one library call on the blocking pool, one at a time.
    pub(super) async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&M) -> T + Send + 'static,
    ) -> T {
        let (machine, lock) = (self.machine.clone(), self.lock.clone());
        tokio::task::spawn_blocking(move || {
            let _held = lock.lock();
            f(&machine)
        })
        .await
        .expect("a cash machine call panicked")
    }

    async fn sale(&self, p: &PaymentRow, progress: &Progress) -> Run {
        let due = i32::try_from(p.amount).unwrap_or(i32::MAX);
        let trans = p.terminal_ref.clone();
        let mut seen = self.seen.clone();
        let mut cancel = self.cancel.subscribe();
        cancel.mark_unchanged();
        let mut accepted = false;
        let mut last_reported = -1;
        loop {
            let t = trans.clone();
            // What the callbacks said was inserted before this call (the settlement's own Status
            // may come back before we read it again).
            let inserted_now = seen.borrow_and_update().inserted;
            let r = self.call(move |m| m.amount_due(due, &t)).await;
            match r.code {
                0 | 8 => {
                    let rest = if r.code == 8 { r.out.max(0) } else { 0 };
                    let inserted = inserted_now.max(due + rest);
                    let change = (inserted - due - rest).max(0);
                    let mut o = Outcome::new(
                        PaymentState::Approved,
                        if rest > 0 {
                            format!(
                                "paid; the machine could not give {} of the change: pay it by hand",
                                cents(rest)
                            )
                        } else {
                            "paid".into()
                        },
                    );
                    o.detail =
                        Some(json!({ "INSERTED": inserted, "CHANGE": change, "REST": rest }));
                    return Run::Done(o);
                }
                1 => {
                    if !accepted {
                        accepted = true;
                        progress.accepted().await;
                        progress.stage(Stage::PresentCard, json!({ "DUE": due }));
                    }
                    let inserted = (due - r.out).max(0);
                    if inserted != last_reported {
                        last_reported = inserted;
                        progress.event(json!({ "EVENT": "INSERTED", "PAYMENT": p.uuid, "TERMINAL": self.name, "DUE": due, "INSERTED": inserted, "REMAINING": (due - inserted).max(0) }));
                    }
                    // Wait for more cash, or a cancel.
                    tokio::select! {
                        changed = seen.changed() => {
                            if changed.is_err() {
                                return Run::Lost("the cash machine's events stopped".into());
                            }
                        }
                        _ = cancel.changed() => {
                            let back = self.call(|m| m.regret(true)).await;
                            let returned = seen.borrow().inserted;
                            if back.code == 0 {
                                let mut o = Outcome::new(PaymentState::Cancelled, "cancelled: the inserted cash was handed back");
                                o.detail = Some(json!({ "INSERTED": returned.max(inserted), "CHANGE": 0, "REST": 0, "RETURNED": true }));
                                return Run::Done(o);
                            }
                            let (name, sentence) = codec::code(back.code);
                            tracing::warn!(terminal = %self.name, code = name, "regret failed: {sentence}");
                        }
                    }
                }
                5 if !accepted => {
                    return Run::Done(Outcome::new(PaymentState::Cancelled, "the cash machine has no open session (OPEN it first); nothing was taken").with_code(ErrorCode::TerminalUnavailable));
                }
                code => {
                    let (name, sentence) = codec::code(code);
                    if inserted_now > 0 || accepted {
                        return Run::Done(Outcome::new(
                            PaymentState::UnknownOutcome,
                            format!("{sentence} (CashGuard {name}: {}) with {} inserted: count the cash in the machine and resolve it (PAYMENT_RESOLVE)", r.answer, cents(inserted_now)),
                        ));
                    }
                    return Run::Done(
                        Outcome::new(
                            PaymentState::Cancelled,
                            format!("{sentence} (CashGuard {name}); nothing was taken"),
                        )
                        .with_code(ErrorCode::TerminalUnavailable),
                    );
                }
            }
        }
    }

    async fn payout(&self, p: &PaymentRow) -> Run {
        let amount = i32::try_from(p.amount).unwrap_or(i32::MAX);
        let trans = p.terminal_ref.clone();
        let r = self.call(move |m| m.payout2(amount, 0, &trans)).await;
        let (name, sentence) = codec::code(r.code);
        match r.code {
            0 | 8 => {
                let rest = if r.code == 8 { r.out.max(0) } else { 0 };
                let mut o = Outcome::new(
                    PaymentState::Approved,
                    if rest > 0 { format!("paid out {}; {} could not be paid: pay it by hand", cents(amount - rest), cents(rest)) } else { "paid out".into() },
                );
                o.detail = Some(json!({ "DISPENSED": amount - rest, "REST": rest }));
                Run::Done(o)
            }
            11 | 5 | 4 | 1 => Run::Done(Outcome::new(PaymentState::Declined, format!("not paid out: {sentence} (CashGuard {name})"))),
            _ => Run::Done(Outcome::new(PaymentState::UnknownOutcome, format!("{sentence} (CashGuard {name}: {}) during a payout of {}: count the cash and resolve it", r.answer, cents(amount)))),
        }
    }
}

/// `12.50` from 1250 cents.
pub(super) fn cents(c: i32) -> String {
    format!("{}.{:02}", c / 100, (c % 100).abs())
}

impl<M: CashMachine> Driver for CashDriver<M> {
    fn run(&self, payment: PaymentRow, progress: Progress) -> BoxFuture<Run> {
        let this = self.clone_handle();
        Box::pin(async move {
            match payment.operation {
                Operation::Sale => this.sale(&payment, &progress).await,
                Operation::Refund => this.payout(&payment).await,
                Operation::Reversal => Run::Done(Outcome::new(
                    PaymentState::Declined,
                    "a cash machine has no reversal",
                )),
            }
        })
    }

    fn reconcile(&self, _payment: PaymentRow) -> BoxFuture<Reconciled> {
        // The library keeps no transaction record to ask: what happened to a payment the service
        // lost track of can only be read from the machine's own log and the cash.
        Box::pin(std::future::ready(Reconciled::Unknowable(
            "the CashGuard library keeps no record of a payment to ask about".into(),
        )))
    }

    fn unknown_message(&self, p: &PaymentRow) -> String {
        format!(
            "the outcome of this cash {} of {} {} on the CashGuard {} is unknown: check the machine's display and journal (BackOffice) and count what was inserted and paid out, then resolve it (PAYMENT_RESOLVE)",
            p.operation.as_str(),
            cents(i32::try_from(p.amount).unwrap_or(i32::MAX)),
            p.currency,
            self.name
        )
    }
}

/// Folds one callback into what STATUS shows; false when it changes nothing there.
pub(super) fn fold(seen: &mut Seen, event: &CgEvent) -> bool {
    match event {
        CgEvent::Status {
            total_inserted,
            status,
            mode,
        } => {
            seen.inserted = *total_inserted;
            seen.status = *status;
            seen.mode = *mode;
            if *status != 2 {
                seen.error = None;
            }
            true
        }
        CgEvent::Error { code, text, .. } => {
            seen.error = Some(format!("{code}: {text}"));
            seen.status = 2;
            true
        }
        CgEvent::LevelWarning { .. } | CgEvent::CashSession { .. } => false,
    }
}

/// The EVENT a callback becomes for the POS (level warnings and errors), if any.
pub(super) fn event_json(terminal: &str, event: &CgEvent) -> Option<Value> {
    match event {
        CgEvent::LevelWarning {
            kind,
            denomination,
            count,
            message,
            ..
        } => Some(json!({
            "EVENT": "CASH_LEVEL", "TERMINAL": terminal, "LEVEL": codec::level_kind(*kind),
            "DENOMINATION": denomination, "COUNT": count, "MESSAGE": message,
        })),
        CgEvent::Error { code, text, ext } => Some(json!({
            "EVENT": "CASH_ERROR", "TERMINAL": terminal, "ERROR": code, "MESSAGE": text, "INFO": ext,
        })),
        CgEvent::Status { .. } | CgEvent::CashSession { .. } => None,
    }
}

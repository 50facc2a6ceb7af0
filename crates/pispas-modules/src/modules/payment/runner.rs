//! One terminal's payments, whatever its kind: the rules that keep money safe live here once,
//! and each terminal kind only brings a [`Driver`].
//!
//! - The journal row is committed (RECEIVED, then SENT) **before** the driver may send a byte.
//! - The same UUIDV4 never starts a second charge: while it runs, a repeat attaches to it (same
//!   outcome); once settled, the journaled outcome is returned with `REPLAYED: true` — across
//!   connections (the slot is in memory, per terminal) and restarts (the journal).
//! - One payment per terminal: another UUIDV4 gets TERMINAL_BUSY at once, before anything is
//!   journaled. Payments are never queued.
//! - A lost reply or a timeout is never answered by sending the payment again: the driver
//!   reconciles with the terminal until PAYMENT_TIMEOUT_S, then the payment is UNKNOWN_OUTCOME
//!   with a sentence saying what to check, until a person resolves it (PAYMENT_RESOLVE).
//! - After a restart, payments left open are reconciled before the terminal takes a new one.
//!
//! The payment itself runs in a task of its own, so a POS that disconnects does not abandon it.

use super::journal::{Inserted, Journal, NewPayment, PaymentRow};
use super::model::{stage_event, Outcome, PaymentState, Stage};
use super::params::PaymentSettings;
use crate::events::{Audience, DeviceState, DeviceStatus, Event, EventBus};
use crate::protocol::{ErrorCode, Failure};
use crate::router::{BoxFuture, Health, HealthState, RequestContext};
use crate::transport::link::LinkState;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long between two reconciliation attempts while the terminal cannot answer.
const RECONCILE_RETRY: Duration = Duration::from_secs(1);

/// What a driver's run ended with.
// One per payment: boxing the outcome would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Run {
    /// The terminal said how it ended.
    Done(Outcome),
    /// The reply was lost (connection dropped, no frame in time): reconcile, never resend.
    Lost(String),
}

/// What reconciliation found.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Reconciled {
    Known(Outcome),
    /// The terminal cannot say (it has no record of it): UNKNOWN_OUTCOME with this sentence.
    Unknowable(String),
    /// The terminal cannot answer now (busy, unreachable): ask again.
    TryLater(String),
}

/// What a terminal kind brings.
pub trait Driver: Send + Sync + 'static {
    /// Runs one payment (the journal says SENT). Sends its start once, at most.
    fn run(&self, payment: PaymentRow, progress: Progress) -> BoxFuture<Run>;
    /// Asks the terminal what happened to a payment left open; never starts one.
    fn reconcile(&self, payment: PaymentRow) -> BoxFuture<Reconciled>;
    /// The sentence for a payment whose outcome nobody can know: what to check, on which terminal.
    fn unknown_message(&self, payment: &PaymentRow) -> String;
    /// PAYMENT_TIMEOUT_S ran out while the terminal may still be waiting for the customer: ask
    /// it to stop, where the protocol can (a card tapped later would be a charge nobody waits
    /// for). The outcome is still what reconciliation then reads, never assumed.
    fn abandon(&self, _payment: &PaymentRow) -> BoxFuture<()> {
        Box::pin(std::future::ready(()))
    }
}

/// How a driver reports progress: the terminal's stages as `PAYMENT` events, and its
/// acknowledgement (journaled IN_PROGRESS).
#[derive(Clone)]
pub struct Progress {
    inner: Arc<ProgressInner>,
}

struct ProgressInner {
    journal: Journal,
    events: EventBus,
    target: &'static str,
    terminal: String,
    uuid: String,
    accepted: AtomicBool,
    stage: Arc<Mutex<Option<Stage>>>,
}

impl Progress {
    /// Publishes a stage (in the order the terminal sends them; not assumed rising).
    pub fn stage(&self, stage: Stage, raw: Value) {
        let i = &self.inner;
        if let Ok(mut s) = i.stage.lock() {
            *s = Some(stage);
        }
        i.events.publish(Event {
            service: i.target.to_string(),
            uuid: Value::Null,
            audience: Audience::Topic(topic(&i.uuid)),
            data: stage_event(i.target, &i.terminal, &i.uuid, stage, raw),
        });
    }

    /// Another event about this payment (cash: `INSERTED`), to everyone waiting for it.
    pub fn event(&self, data: Value) {
        let i = &self.inner;
        i.events.publish(Event {
            service: i.target.to_string(),
            uuid: Value::Null,
            audience: Audience::Topic(topic(&i.uuid)),
            data,
        });
    }

    /// The terminal took the request: the journal says IN_PROGRESS (once).
    pub async fn accepted(&self) {
        if self.inner.accepted.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Err(e) = self
            .inner
            .journal
            .advance(&self.inner.uuid, PaymentState::InProgress)
            .await
        {
            tracing::error!(payment = %self.inner.uuid, error = %e, "could not journal IN_PROGRESS");
        }
    }
}

/// The topic a payment's events go to; each waiting request subscribes with the payment's UUIDV4.
fn topic(uuid: &str) -> String {
    format!("PAYMENT:{uuid}")
}

/// What the terminal is doing.
#[derive(Clone)]
struct Busy {
    uuid: String,
    amount: u64,
    reconciling: bool,
    done: watch::Receiver<Option<PaymentRow>>,
    stage: Arc<Mutex<Option<Stage>>>,
}

/// A card-terminal module's health: degraded while any of its terminals has payments whose
/// outcome nobody knows (the tray and the status window show it amber), else ok; `none` is the
/// detail when no terminal is configured.
pub fn terminals_health<'a, D: Driver + 'a>(
    runners: impl Iterator<Item = &'a Runner<D>>,
    none: &str,
) -> Health {
    let mut count = 0;
    let unresolved: Vec<String> = runners
        .inspect(|_| count += 1)
        .filter(|r| r.unresolved_count() > 0)
        .map(|r| {
            format!(
                "{}: {} payment(s) with an unknown outcome to resolve",
                r.name,
                r.unresolved_count()
            )
        })
        .collect();
    match (unresolved.is_empty(), count) {
        (true, 0) => Health {
            state: HealthState::Ok,
            detail: none.into(),
        },
        (true, _) => Health {
            state: HealthState::Ok,
            detail: "ok".into(),
        },
        (false, _) => Health {
            state: HealthState::Degraded,
            detail: unresolved.join("; "),
        },
    }
}

/// One terminal of a kind.
pub struct Runner<D: Driver> {
    pub target: &'static str,
    pub name: String,
    pub driver: D,
    pub link: LinkState,
    journal: Journal,
    events: EventBus,
    pub settings: PaymentSettings,
    slot: Mutex<Option<Busy>>,
    unresolved: AtomicUsize,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl<D: Driver> Runner<D> {
    /// The terminal; payments it left open before a restart are reconciled first (it answers
    /// TERMINAL_BUSY meanwhile, and a retry of such a payment waits for the outcome).
    ///
    /// Fails when the journal cannot be read.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        target: &'static str,
        name: String,
        driver: D,
        journal: Journal,
        events: EventBus,
        settings: PaymentSettings,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<Arc<Runner<D>>, crate::store::StoreError> {
        let open = journal.open_blocking(target, &name)?;
        let runner = Arc::new(Runner {
            target,
            name,
            driver,
            link: LinkState::default(),
            journal,
            events,
            settings,
            slot: Mutex::new(None),
            unresolved: AtomicUsize::new(0),
            tracker: tracker.clone(),
            shutdown,
        });
        let r = runner.clone();
        let (first_tx, first) = watch::channel(None);
        if let Some(row) = open.first() {
            runner.set_slot(Some(Busy {
                uuid: row.uuid.clone(),
                amount: row.amount,
                reconciling: true,
                done: first,
                stage: Arc::default(),
            }));
        }
        tracker.spawn(async move {
            r.refresh_unresolved().await;
            let mut first_tx = Some(first_tx);
            for row in open {
                tracing::warn!(target = r.target, terminal = %r.name, payment = %row.uuid, state = row.state.as_str(), "payment left open before the restart: reconciling it before this terminal takes a new one");
                let (tx, rx) = match first_tx.take() {
                    Some(tx) => (tx, None),
                    None => {
                        let (tx, rx) = watch::channel(None);
                        (tx, Some(rx))
                    }
                };
                if let Some(rx) = rx {
                    r.set_slot(Some(Busy {
                        uuid: row.uuid.clone(),
                        amount: row.amount,
                        reconciling: true,
                        done: rx,
                        stage: Arc::default(),
                    }));
                }
                let outcome = if row.state == PaymentState::Received {
                    // SENT is committed before any byte goes out: this one never left.
                    Outcome::new(
                        PaymentState::Cancelled,
                        "the service stopped before this payment was sent to the terminal; nothing was charged",
                    )
                } else {
                    r.reconcile_until(&row, tokio::time::Instant::now() + r.settings.timeout)
                        .await
                };
                r.settle(&row, outcome, &tx).await;
            }
            // Only the reconciliation's own hold is released: with nothing to reconcile the slot
            // was never taken, and a payment may already be running in it.
            if let Ok(mut slot) = r.slot.lock() {
                if slot.as_ref().is_some_and(|b| b.reconciling) {
                    *slot = None;
                }
            }
        });
        Ok(runner)
    }

    fn set_slot(&self, busy: Option<Busy>) {
        if let Ok(mut s) = self.slot.lock() {
            *s = busy;
        }
    }

    /// The payment in progress: `{PAYMENT, AMOUNT, STAGE, RECONCILING}`, or null.
    pub fn in_progress(&self) -> Value {
        let busy = self.slot.lock().ok().and_then(|s| s.clone());
        match busy {
            None => Value::Null,
            Some(b) => json!({
                "PAYMENT": b.uuid,
                "AMOUNT": b.amount,
                "STAGE": b.stage.lock().ok().and_then(|s| *s).map(Stage::as_str),
                "RECONCILING": b.reconciling,
            }),
        }
    }

    pub fn is_busy(&self) -> bool {
        self.slot.lock().map(|s| s.is_some()).unwrap_or(true)
    }

    /// How many payments of this terminal wait for PAYMENT_RESOLVE.
    pub fn unresolved_count(&self) -> usize {
        self.unresolved.load(Ordering::Relaxed)
    }

    pub async fn unresolved(&self) -> Vec<String> {
        self.journal
            .unresolved(self.target, &self.name)
            .await
            .unwrap_or_default()
    }

    /// Recounts unresolved payments and announces NEEDS_ATTENTION (amber) or READY.
    pub async fn refresh_unresolved(&self) {
        let n = self.unresolved().await.len();
        let before = self.unresolved.swap(n, Ordering::Relaxed);
        if n == before && n == 0 {
            return;
        }
        let device = format!("{}:{}", self.target, self.name);
        let state = if n > 0 {
            DeviceState::new(
                &device,
                DeviceStatus::NeedsAttention,
                format!("{n} payment(s) with an unknown outcome: check the terminal and resolve them (PAYMENT_RESOLVE)"),
            )
        } else {
            DeviceState::new(
                &device,
                DeviceStatus::Ready,
                "no payment waits to be resolved",
            )
        };
        self.events
            .publish(state.event(self.target, Audience::Topic(device.clone())));
    }

    /// SALE, REFUND, REVERSAL: journal, run once, reply with the outcome (see the file's doc).
    pub async fn pay(
        self: &Arc<Self>,
        new: NewPayment,
        ctx: &RequestContext,
    ) -> Result<Value, Failure> {
        for _ in 0..3 {
            if let Some(busy) = self.attachable(&new.uuid) {
                return self.wait(busy, ctx, true).await;
            }
            let found = self
                .journal
                .by_uuid(&new.uuid)
                .await
                .map_err(|e| Failure::internal("reading the payment journal", e))?;
            if let Some(row) = found {
                if row.target != self.target || row.terminal != self.name {
                    return Err(Failure::bad_params(format!(
                        "UUIDV4 {} is already a payment on {} {}; a new payment needs a new UUIDV4",
                        row.uuid, row.target, row.terminal
                    )));
                }
                if row.state.is_final() {
                    return reply_for(&row, true);
                }
                // Open but not running: its reconciliation is about to start; ask again.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            enum Take {
                Attach(Busy),
                Refuse(Failure),
                Run(watch::Sender<Option<PaymentRow>>, Busy),
            }
            let take = {
                let Ok(mut slot) = self.slot.lock() else {
                    return Err(Failure::internal(
                        "a payment terminal",
                        "slot lock poisoned",
                    ));
                };
                match &*slot {
                    Some(b) if b.uuid == new.uuid => Take::Attach(b.clone()),
                    Some(b) => Take::Refuse(self.busy_failure(b)),
                    None => {
                        let (tx, rx) = watch::channel(None);
                        let b = Busy {
                            uuid: new.uuid.clone(),
                            amount: new.amount,
                            reconciling: false,
                            done: rx,
                            stage: Arc::default(),
                        };
                        *slot = Some(b.clone());
                        Take::Run(tx, b)
                    }
                }
            };
            let (done_tx, busy) = match take {
                Take::Attach(b) => return self.wait(b, ctx, true).await,
                Take::Refuse(f) => return Err(f),
                Take::Run(tx, b) => (tx, b),
            };
            // Subscribed before anything can happen, so no stage event is missed.
            let guard = Watching::new(ctx, &new.uuid);
            let inserted = self.journal.insert(new.clone()).await;
            match inserted {
                Ok(Inserted::New(row)) => {
                    let r = self.clone();
                    let stage = busy.stage.clone();
                    self.tracker
                        .spawn(async move { r.execute(row, stage, done_tx).await });
                    return self.wait_guarded(busy, guard, false).await;
                }
                Ok(Inserted::Existing(_)) => {
                    // Journaled meanwhile by an earlier run (another terminal or a finished one).
                    self.set_slot(None);
                    continue;
                }
                Err(e) => {
                    self.set_slot(None);
                    return Err(Failure::internal(
                        "journaling the payment (nothing was sent)",
                        e,
                    ));
                }
            }
        }
        Err(Failure::new(
            ErrorCode::TerminalBusy,
            format!(
                "the {} terminal {} is settling this payment; ask again in a moment",
                self.target, self.name
            ),
        ))
    }

    fn attachable(&self, uuid: &str) -> Option<Busy> {
        self.slot
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .filter(|b| b.uuid == uuid)
    }

    fn busy_failure(&self, b: &Busy) -> Failure {
        let why = if b.reconciling {
            "is finding out what happened to a payment from before the restart"
        } else {
            "is taking another payment"
        };
        Failure::new(
            ErrorCode::TerminalBusy,
            format!(
                "the {} terminal {} {why}; this one was not started",
                self.target, self.name
            ),
        )
        .with_details(json!({ "TERMINAL": self.name }))
    }

    async fn wait(
        &self,
        busy: Busy,
        ctx: &RequestContext,
        replayed: bool,
    ) -> Result<Value, Failure> {
        let guard = Watching::new(ctx, &busy.uuid);
        self.wait_guarded(busy, guard, replayed).await
    }

    async fn wait_guarded(
        &self,
        mut busy: Busy,
        _guard: Watching,
        replayed: bool,
    ) -> Result<Value, Failure> {
        loop {
            if let Some(row) = busy.done.borrow().clone() {
                return reply_for(&row, replayed);
            }
            if busy.done.changed().await.is_err() {
                // The task ended without a row (the journal could not be written): ask it.
                let row = self
                    .journal
                    .by_uuid(&busy.uuid)
                    .await
                    .map_err(|e| Failure::internal("reading the payment journal", e))?;
                return match row {
                    Some(row) => reply_for(&row, replayed),
                    None => Err(Failure::internal(
                        "a payment",
                        "its task ended without a journal row",
                    )),
                };
            }
        }
    }

    /// The payment's task: SENT committed, the driver once, reconciliation if the reply was
    /// lost, the outcome committed, then everyone waiting is told.
    async fn execute(
        self: Arc<Self>,
        row: PaymentRow,
        stage: Arc<Mutex<Option<Stage>>>,
        done: watch::Sender<Option<PaymentRow>>,
    ) {
        let deadline = tokio::time::Instant::now() + self.settings.timeout;
        if let Err(e) = self.journal.advance(&row.uuid, PaymentState::Sent).await {
            // Nothing was sent: the payment stays RECEIVED and is cancelled at the next start.
            tracing::error!(payment = %row.uuid, error = %e, "could not journal SENT; the payment was not sent");
            self.set_slot(None);
            drop(done);
            return;
        }
        let progress = Progress {
            inner: Arc::new(ProgressInner {
                journal: self.journal.clone(),
                events: self.events.clone(),
                target: self.target,
                terminal: self.name.clone(),
                uuid: row.uuid.clone(),
                accepted: AtomicBool::new(false),
                stage,
            }),
        };
        progress.stage(Stage::Sent, Value::Null);
        let run = tokio::select! {
            run = self.driver.run(row.clone(), progress.clone()) => run,
            _ = tokio::time::sleep_until(deadline) => {
                self.driver.abandon(&row).await;
                Run::Lost(format!("no outcome within PAYMENT_TIMEOUT_S ({} s)", self.settings.timeout.as_secs()))
            }
            _ = self.shutdown.cancelled() => Run::Lost("the service is stopping".into()),
        };
        let outcome = match run {
            Run::Done(o) => o,
            Run::Lost(why) => {
                tracing::warn!(target = self.target, terminal = %self.name, payment = %row.uuid, "{why}: reconciling with the terminal (the payment is never sent again)");
                // Reconciliation gets at least a short while even when the payment used its time.
                let until = deadline.max(tokio::time::Instant::now() + Duration::from_secs(10));
                self.reconcile_until(&row, until).await
            }
        };
        progress.stage(Stage::Finished, json!(outcome.state.as_str()));
        self.settle(&row, outcome, &done).await;
        self.set_slot(None);
    }

    /// Asks the driver until it knows, the terminal says it cannot know, or `until` passes.
    async fn reconcile_until(&self, row: &PaymentRow, until: tokio::time::Instant) -> Outcome {
        loop {
            if self.shutdown.is_cancelled() {
                return self.unknown(row, "the service stopped while reconciling".into());
            }
            match self.driver.reconcile(row.clone()).await {
                Reconciled::Known(o) => return o,
                Reconciled::Unknowable(why) => return self.unknown(row, why),
                Reconciled::TryLater(why) => {
                    if tokio::time::Instant::now() + RECONCILE_RETRY >= until {
                        return self.unknown(row, why);
                    }
                    tracing::info!(payment = %row.uuid, "reconciliation: {why}; asking again");
                    tokio::select! {
                        _ = tokio::time::sleep(RECONCILE_RETRY) => {}
                        _ = self.shutdown.cancelled() => {}
                    }
                }
            }
        }
    }

    fn unknown(&self, row: &PaymentRow, why: String) -> Outcome {
        let message = format!("{} ({why})", self.driver.unknown_message(row));
        tracing::error!(target = self.target, terminal = %self.name, payment = %row.uuid, "UNKNOWN OUTCOME: {message}");
        Outcome::new(PaymentState::UnknownOutcome, message)
    }

    /// Commits the outcome and tells whoever waits.
    async fn settle(
        &self,
        row: &PaymentRow,
        outcome: Outcome,
        done: &watch::Sender<Option<PaymentRow>>,
    ) {
        let stored = self.journal.finish(&row.uuid, &outcome).await;
        let settled = match stored {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => {
                // The outcome must still reach the POS; the row stays open and is reconciled
                // again at the next start.
                if let Err(e) = &stored {
                    tracing::error!(payment = %row.uuid, error = %e, state = outcome.state.as_str(), "could not journal the outcome");
                }
                let mut r = row.clone();
                r.state = outcome.state;
                r.code = outcome.code;
                r.message = Some(outcome.message.clone());
                r.card = outcome.card.clone();
                r.detail.clone_from(&outcome.detail);
                r
            }
        };
        tracing::info!(target = self.target, terminal = %self.name, payment = %row.uuid, operation = row.operation.as_str(), amount = row.amount, state = settled.state.as_str(), card = settled.card.card.as_deref().unwrap_or(""), "payment settled");
        if settled.state == PaymentState::Approved {
            self.follow_up(&settled, &outcome).await;
        }
        if settled.state == PaymentState::UnknownOutcome {
            self.refresh_unresolved().await;
        }
        let _ = done.send(Some(settled));
    }

    /// An approved refund or reversal marks its sale.
    async fn follow_up(&self, row: &PaymentRow, outcome: &Outcome) {
        use super::journal::FollowUpKey;
        use super::model::Operation;
        let (key, state) = match row.operation {
            Operation::Sale => return,
            Operation::Refund => match &row.original {
                Some(o) => (FollowUpKey::Uuid(o.clone()), PaymentState::Refunded),
                None => return,
            },
            Operation::Reversal => match (&outcome.reversed_ref, &row.original) {
                (Some(r), _) => (FollowUpKey::TerminalRef(r.clone()), PaymentState::Reversed),
                (None, Some(o)) => (FollowUpKey::Uuid(o.clone()), PaymentState::Reversed),
                (None, None) => return,
            },
        };
        if let Err(e) = self.journal.follow_up(self.target, key, state).await {
            tracing::error!(payment = %row.uuid, error = %e, "could not mark the original sale");
        }
    }

    /// PAYMENT_RESOLVE: an UNKNOWN_OUTCOME payment set to what the operator read on the terminal.
    pub async fn resolve(
        &self,
        uuid: &str,
        state: PaymentState,
        note: String,
    ) -> Result<Value, Failure> {
        let row = self
            .journal
            .by_uuid(uuid)
            .await
            .map_err(|e| Failure::internal("reading the payment journal", e))?
            .filter(|r| r.target == self.target)
            .ok_or_else(|| not_found(self.target, uuid))?;
        if row.state != PaymentState::UnknownOutcome {
            return Err(Failure::bad_params(format!(
                "payment {uuid} is {}, not UNKNOWN_OUTCOME: only unknown outcomes are resolved by hand",
                row.state.as_str()
            )));
        }
        let note = format!(
            "resolved by an administrator as {}{}{}",
            state.as_str(),
            if note.is_empty() { "" } else { ": " },
            note
        );
        let row = self
            .journal
            .resolve(uuid, state, note)
            .await
            .map_err(|e| Failure::internal("resolving the payment", e))?
            .ok_or_else(|| not_found(self.target, uuid))?;
        tracing::warn!(target = self.target, terminal = %row.terminal, payment = uuid, state = row.state.as_str(), "payment resolved by hand");
        self.refresh_unresolved().await;
        Ok(row.to_json(false))
    }
}

/// PAYMENT_NOT_FOUND for `uuid`.
pub fn not_found(target: &str, uuid: &str) -> Failure {
    Failure::new(
        ErrorCode::PaymentNotFound,
        format!("no {target} payment has UUIDV4 {uuid} in the journal"),
    )
}

/// The reply for a settled payment: SUCCESS when approved, else FAILURE with its code and the
/// same fields in DETAILS.
pub fn reply_for(row: &PaymentRow, replayed: bool) -> Result<Value, Failure> {
    let data = row.to_json(replayed);
    match row.failure_code() {
        None => Ok(data),
        Some(code) => Err(Failure::new(
            code,
            row.message
                .clone()
                .unwrap_or_else(|| row.state.as_str().to_string()),
        )
        .with_details(data)),
    }
}

/// A request waiting for a payment: subscribed to its events while it waits.
struct Watching {
    ctx: RequestContext,
    topic: String,
}

impl Watching {
    fn new(ctx: &RequestContext, uuid: &str) -> Watching {
        let topic = topic(uuid);
        ctx.subscribe(&topic, uuid);
        Watching {
            ctx: ctx.clone(),
            topic,
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.ctx.unsubscribe(&self.topic);
    }
}

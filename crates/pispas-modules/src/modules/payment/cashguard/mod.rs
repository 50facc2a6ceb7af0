//! CASHGUARD: the Strongpoint CashGuard cash recycler through the vendor's library
//! (`cglogics.dll`), loaded at run time (`ffi.rs`, the one unsafe file); `driver.rs` is the
//! payment flow on the library's semantics, `codec.rs` its codes and level text, `action.rs`
//! parses requests, and the shared `runner.rs` keeps the money rules (journal first, one payment
//! per machine, the same UUIDV4 never pays or takes twice). This file answers START_PAYMENT,
//! CANCEL, DISPENSE, BALANCE, STATUS, OPEN, CLOSE, RESET, JOURNAL and PAYMENT_RESOLVE.
//!
//! Callbacks arrive on the vendor's thread; `ffi.rs` copies them into a channel and one thread
//! here folds them into the machine's state (a watch the payment flow waits on) and publishes
//! `CASH_LEVEL`/`CASH_ERROR` events.

mod action;
pub mod codec;
pub mod config;
mod driver;
mod error;
mod ffi;
pub mod fuzzing;

use super::journal::{Journal, NewPayment};
use super::model::{terminal_ref, Operation};
use super::params::PaymentSettings;
use super::runner::{not_found, Runner};
use crate::context::{ModuleContext, ModuleError};
use crate::events::{Audience, Event, EventBus};
use crate::protocol::{Failure, Request};
use crate::router::{BoxFuture, Health, HealthState, Outcome, RequestContext, Service};
use action::{Action, Name};
use driver::{cents, CashDriver, CashMachine, Seen};
use error::CashError;
use ffi::{CgEvent, CgLibrary, CgReply};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::watch;

const TARGET: &str = "CASHGUARD";

type Machine = Runner<CashDriver<CgLibrary>>;

/// The CASHGUARD module; a cheap handle.
#[derive(Clone)]
pub struct CashGuard {
    inner: Arc<Inner>,
}

struct Inner {
    machine: Option<Arc<Machine>>,
    config: Option<config::CashGuardConfig>,
    journal: Journal,
    settings: PaymentSettings,
}

impl CashGuard {
    /// Loads the library, opens the machine and its session, and reconciles what a restart left
    /// open (a cash payment cannot be asked about afterwards: it becomes UNKNOWN_OUTCOME).
    ///
    /// Fails naming CASHGUARD when the library cannot be loaded, or when the journal cannot be
    /// opened.
    pub fn start(ctx: &ModuleContext) -> Result<CashGuard, ModuleError> {
        let settings =
            PaymentSettings::from_values(&ctx.config.values).map_err(ModuleError::Config)?;
        let config = config::machine_from(&ctx.config.values).map_err(ModuleError::Config)?;
        let journal = Journal::open(ctx.store.clone(), &ctx.tracker, ctx.shutdown.clone())?;
        let machine = match &config {
            None => None,
            Some(c) => {
                let (tx, rx) = std::sync::mpsc::channel();
                let library = CgLibrary::load(&c.library, tx)
                    .map_err(|e| ModuleError::Config(format!("CASHGUARD: {e}")))?;
                let (seen_tx, seen_rx) = watch::channel(Seen::default());
                spawn_event_thread(rx, seen_tx, ctx.events.clone(), c.name.clone());
                let init = library.init(&c.port, &c.settings);
                log_reply("initCG", &init);
                if init.code == 0 {
                    log_reply("loginStrCG", &library.login(&c.register, &c.cashier));
                }
                let driver = CashDriver::new(c.name.clone(), Arc::new(library), seen_rx);
                Some(Runner::start(
                    TARGET,
                    c.name.clone(),
                    driver,
                    journal.clone(),
                    ctx.events.clone(),
                    settings.clone(),
                    &ctx.tracker,
                    ctx.shutdown.clone(),
                )?)
            }
        };
        Ok(CashGuard {
            inner: Arc::new(Inner {
                machine,
                config,
                journal,
                settings,
            }),
        })
    }
}

fn log_reply(call: &str, r: &CgReply) {
    let (name, sentence) = codec::code(r.code);
    if r.code == 0 {
        tracing::info!(call, answer = %r.answer, "CashGuard");
    } else {
        tracing::warn!(call, code = name, answer = %r.answer, "CashGuard: {sentence}");
    }
}

/// Folds the library's callbacks into the machine's state and publishes the POS's events. A
/// plain thread: the channel is fed by the vendor's thread and needs no runtime.
fn spawn_event_thread(
    rx: std::sync::mpsc::Receiver<CgEvent>,
    seen: watch::Sender<Seen>,
    bus: EventBus,
    name: String,
) {
    let spawned = std::thread::Builder::new()
        .name("cashguard-events".into())
        .spawn(move || {
            while let Ok(event) = rx.recv() {
                seen.send_if_modified(|s| driver::fold(s, &event));
                if let Some(data) = driver::event_json(&name, &event) {
                    tracing::warn!(terminal = %name, "{data}");
                    bus.publish(Event {
                        service: TARGET.into(),
                        uuid: Value::Null,
                        audience: Audience::All,
                        data,
                    });
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "the CashGuard event thread could not start");
    }
}

impl Service for CashGuard {
    fn target(&self) -> &'static str {
        TARGET
    }

    fn actions(&self) -> &'static [&'static str] {
        Name::NAMES
    }

    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        let this = self.clone();
        Box::pin(async move {
            let action = Action::parse(&request, &this.inner.settings)?;
            this.run(action, &request.uuid, &ctx).await
        })
    }

    fn health(&self) -> Health {
        let Some(m) = &self.inner.machine else {
            return Health {
                state: HealthState::Ok,
                detail: "no CashGuard configured".into(),
            };
        };
        let seen = m.driver.seen.borrow().clone();
        if m.unresolved_count() > 0 {
            return Health {
                state: HealthState::Degraded,
                detail: format!(
                    "{} cash payment(s) with an unknown outcome to resolve",
                    m.unresolved_count()
                ),
            };
        }
        match seen.error {
            Some(e) => Health {
                state: HealthState::Degraded,
                detail: format!("the CashGuard reports an error: {e}"),
            },
            None => Health::ok(),
        }
    }
}

impl CashGuard {
    fn machine(&self) -> Result<&Arc<Machine>, Failure> {
        self.inner.machine.as_ref().ok_or_else(|| {
            Failure::new(
                crate::protocol::ErrorCode::DeviceNotFound,
                "no CashGuard is configured: set CASHGUARD=lib://<path to cglogics.dll>?port=COM1 in the .env file",
            )
        })
    }

    async fn call_machine<T: Send + 'static>(
        &self,
        f: impl FnOnce(&CgLibrary) -> T + Send + 'static,
    ) -> Result<T, Failure> {
        Ok(self.machine()?.driver.call(f).await)
    }

    /// A command's reply as a Failure unless OK.
    fn check(call: &str, r: &CgReply) -> Result<(), Failure> {
        if r.code == 0 {
            return Ok(());
        }
        let (name, sentence) = codec::code(r.code);
        let text = format!("{call}: {sentence} (CashGuard {name}: {})", r.answer);
        Err(match r.code {
            2 | 5 | 6 | 7 | 9 => CashError::Unavailable(text),
            _ => CashError::Refused(text),
        }
        .into())
    }

    async fn run(&self, action: Action, uuid: &str, ctx: &RequestContext) -> Outcome {
        match action {
            Action::StartPayment {
                amount,
                currency,
                reference,
                tendered,
            } => {
                let m = self.machine()?;
                // A retry of a payment already journaled is never refused here.
                let known = self
                    .inner
                    .journal
                    .by_uuid(uuid)
                    .await
                    .map_err(|e| Failure::internal("reading the payment journal", e))?
                    .is_some();
                if let (Some(t), false) = (tendered, known) {
                    if t > amount {
                        let change = i32::try_from(t - amount).unwrap_or(i32::MAX);
                        let r = self.call_machine(move |l| l.ask_payout2(change)).await?;
                        if r.code == 8 {
                            return Err(CashError::NoChange(format!(
                                "the CashGuard cannot give {} change for {} (it is {} short): ask for a smaller note or the exact amount; nothing was taken",
                                cents(change), cents(i32::try_from(t).unwrap_or(i32::MAX)), cents(r.out)
                            )).into());
                        }
                        Self::check("askPayout2CG", &r)?;
                    }
                }
                m.pay(
                    self.new_payment(uuid, Operation::Sale, amount, currency, reference),
                    ctx,
                )
                .await
            }
            Action::Dispense {
                amount,
                currency,
                reference,
            } => {
                ctx.require_admin()?;
                let m = self.machine()?;
                m.pay(
                    self.new_payment(uuid, Operation::Refund, amount, currency, reference),
                    ctx,
                )
                .await
            }
            Action::Cancel { payment } => {
                let m = self.machine()?;
                let running = m.in_progress();
                let current = running
                    .get("PAYMENT")
                    .and_then(Value::as_str)
                    .map(String::from);
                let matches = match (&payment, &current) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(p), Some(r)) => p == r,
                };
                if !matches || running["RECONCILING"] == true {
                    return Err(
                        CashError::NoPayment("no such cash payment is in progress".into()).into(),
                    );
                }
                m.driver.cancel.send_modify(|g| *g += 1);
                Ok(json!({ "TERMINAL": m.name, "PAYMENT": current, "CANCEL_REQUESTED": true }))
            }
            Action::Balance => {
                let (r, level) = self.call_machine(|l| l.info()).await?;
                Self::check("infoCG", &r)?;
                let levels = codec::levels(&level);
                Ok(codec::balance_json(&levels))
            }
            Action::Status => {
                let m = self.machine()?;
                let open = self.call_machine(|l| l.is_open()).await?;
                let seen = m.driver.seen.borrow().clone();
                let config = self.inner.config.as_ref();
                Ok(json!({
                    "TERMINAL": m.name,
                    "LIBRARY": config.map(|c| c.library.display().to_string()),
                    "PORT": config.map(|c| c.port.clone()),
                    "OPEN": open.code == 0 && open.out == 1,
                    "STATE": match seen.status { 1 => "BUSY", 2 => "ERROR", _ => "OK" },
                    "ERROR": seen.error,
                    "INSERTED": seen.inserted,
                    "BUSY": m.is_busy(),
                    "PAYMENT": m.in_progress(),
                    "UNRESOLVED": m.unresolved().await,
                }))
            }
            Action::Open => {
                let c = self.inner.config.clone();
                let (register, cashier) = c.map(|c| (c.register, c.cashier)).unwrap_or_default();
                let r = self
                    .call_machine(move |l| l.login(&register, &cashier))
                    .await?;
                Self::check("loginStrCG", &r)?;
                Ok(json!({ "OPEN": true }))
            }
            Action::Close => {
                if self.machine()?.is_busy() {
                    return Err(CashError::Refused(
                        "a cash payment is in progress: finish or CANCEL it first".into(),
                    )
                    .into());
                }
                let r = self.call_machine(|l| l.logout()).await?;
                Self::check("logoutCG", &r)?;
                Ok(json!({ "OPEN": false }))
            }
            Action::Reset => {
                let r = self.call_machine(|l| l.reset()).await?;
                Self::check("resetCG", &r)?;
                Ok(json!({ "RESET": true }))
            }
            Action::Journal(filter) => {
                let rows = self
                    .inner
                    .journal
                    .list(TARGET, filter)
                    .await
                    .map_err(|e| Failure::internal("reading the payment journal", e))?;
                Ok(Value::Array(
                    rows.iter().map(|r| r.to_json(false)).collect(),
                ))
            }
            Action::Resolve {
                payment,
                state,
                note,
            } => {
                ctx.require_admin()?;
                let m = self.machine()?;
                let row = self
                    .inner
                    .journal
                    .by_uuid(&payment)
                    .await
                    .map_err(|e| Failure::internal("reading the payment journal", e))?;
                if row.is_none_or(|r| r.target != TARGET) {
                    return Err(not_found(TARGET, &payment));
                }
                m.resolve(&payment, state, note).await
            }
        }
    }

    fn new_payment(
        &self,
        uuid: &str,
        operation: Operation,
        amount: u64,
        currency: String,
        reference: Option<String>,
    ) -> NewPayment {
        NewPayment {
            uuid: uuid.to_string(),
            target: TARGET,
            terminal: self
                .inner
                .machine
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            operation,
            amount,
            currency,
            reference,
            terminal_ref: terminal_ref(uuid),
            original: None,
        }
    }
}

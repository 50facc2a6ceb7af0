//! PAYTEF: Paytef pinpads over their JSON API, locally (`http://<pinpad-ip>:8887`) or through
//! Paytef Cloud. `codec.rs` is the pure JSON, `driver.rs` the start → poll → result flow over a
//! generic HTTP transport, `action.rs` parses requests, and the shared `runner.rs` keeps the
//! money rules (journal first, one charge per UUIDV4, one payment per pinpad, reconciliation).
//! This file answers SALE, REFUND, CANCEL, STATUS, JOURNAL, RECEIPT and PAYMENT_RESOLVE.
//!
//! Several pinpads may be configured (`PAYTEF`, `PAYTEF_<NAME>`); requests pick one with
//! `TERMINAL`.

mod action;
pub mod codec;
pub mod config;
mod driver;
mod error;

use super::journal::{Journal, NewPayment, PaymentRow};
use super::model::{terminal_ref, Operation, PaymentState};
use super::params::PaymentSettings;
use super::runner::{not_found, terminals_health, Runner};
use crate::context::{ModuleContext, ModuleError};
use crate::devices::{DeviceWords, Devices, NamedDevice};
use crate::protocol::{ErrorCode, Failure, Request};
use crate::router::{BoxFuture, Health, Outcome, RequestContext, Service};
use crate::transport::http::{client, ClientOptions};
use crate::transport::link::LinkState;
use action::{Action, Name};
use driver::{PaytefDriver, Reqwest};
use error::PaytefError;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const TARGET: &str = "PAYTEF";

const WORDS: DeviceWords = DeviceWords {
    param: "TERMINAL",
    noun: "Paytef pinpad",
    none_configured: "no Paytef pinpad is configured: set PAYTEF=http://<pinpad-ip>:8887 or PAYTEF=https://cloud.api.paytef.es?pinpad=<terminal code> with PAYTEF_ACCESS_KEY and PAYTEF_SECRET_KEY",
};

struct Terminal {
    runner: Arc<Runner<PaytefDriver<Reqwest>>>,
    topic: String,
}

impl NamedDevice for Terminal {
    fn name(&self) -> &str {
        &self.runner.name
    }
    fn topic(&self) -> &str {
        &self.topic
    }
    fn link(&self) -> &LinkState {
        &self.runner.link
    }
    fn status_json(&self) -> Value {
        json!({ "TERMINAL": self.runner.name, "URI": self.runner.driver.config.base })
    }
}

/// The PAYTEF module; a cheap handle.
#[derive(Clone)]
pub struct Paytef {
    inner: Arc<Inner>,
}

struct Inner {
    terminals: Devices<Terminal>,
    journal: Journal,
    settings: PaymentSettings,
}

impl Paytef {
    /// Opens the journal and starts every configured pinpad (reconciling what a restart left
    /// open first).
    ///
    /// Fails naming the key of an invalid setting, or when the journal cannot be opened.
    pub fn start(ctx: &ModuleContext) -> Result<Paytef, ModuleError> {
        let settings =
            PaymentSettings::from_values(&ctx.config.values).map_err(ModuleError::Config)?;
        let configs = config::pinpads_from(&ctx.config.values).map_err(ModuleError::Config)?;
        let journal = Journal::open(ctx.store.clone(), &ctx.tracker, ctx.shutdown.clone())?;
        let http = client(&ClientOptions::new(Duration::from_secs(15)))
            .map_err(|e| ModuleError::Config(format!("PAYTEF: {e}")))?;
        let http = Arc::new(Reqwest(http));
        let mut terminals = Vec::new();
        for c in configs {
            let name = c.name.clone();
            let runner = Runner::start(
                TARGET,
                name.clone(),
                PaytefDriver::new(c, http.clone()),
                journal.clone(),
                ctx.events.clone(),
                settings.clone(),
                &ctx.tracker,
                ctx.shutdown.clone(),
            )?;
            terminals.push(Terminal {
                runner,
                topic: format!("{TARGET}:{name}"),
            });
        }
        Ok(Paytef {
            inner: Arc::new(Inner {
                terminals: Devices::new(WORDS, terminals),
                journal,
                settings,
            }),
        })
    }
}

impl Service for Paytef {
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
        terminals_health(
            self.inner.terminals.iter().map(|t| &*t.runner),
            "no Paytef pinpad configured",
        )
    }
}

impl Paytef {
    async fn run(&self, action: Action, uuid: &str, ctx: &RequestContext) -> Outcome {
        match action {
            Action::Pay {
                refund,
                terminal,
                amount,
                currency,
                reference,
                original,
            } => {
                let t = self.inner.terminals.pick(terminal.as_deref())?;
                if let Some(o) = &original {
                    let sale = self.sale(o).await?;
                    if amount > sale.amount || currency != sale.currency {
                        return Err(Failure::new(
                            ErrorCode::InvalidAmount,
                            format!(
                                "a refund of sale {o} can be at most {} {} (the sale's amount)",
                                sale.amount, sale.currency
                            ),
                        ));
                    }
                }
                let new = NewPayment {
                    uuid: uuid.to_string(),
                    target: TARGET,
                    terminal: t.runner.name.clone(),
                    operation: if refund {
                        Operation::Refund
                    } else {
                        Operation::Sale
                    },
                    amount,
                    currency,
                    reference,
                    terminal_ref: terminal_ref(uuid),
                    original,
                };
                t.runner.pay(new, ctx).await
            }
            Action::Cancel { terminal, payment } => {
                let t = self.inner.terminals.pick(terminal.as_deref())?;
                let running = t.runner.in_progress();
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
                    return Err(PaytefError::NoPayment(format!(
                        "no such payment is in progress on the Paytef pinpad {}",
                        t.runner.name
                    ))
                    .into());
                }
                let cancelled = t
                    .runner
                    .driver
                    .cancel()
                    .await
                    .map_err(PaytefError::Unreachable)?;
                if !cancelled {
                    return Err(PaytefError::NotCancelled(format!(
                        "the Paytef pinpad {} did not cancel (the bank may already be processing it): wait for the payment's own outcome",
                        t.runner.name
                    ))
                    .into());
                }
                Ok(
                    json!({ "TERMINAL": t.runner.name, "PAYMENT": current, "CANCEL_REQUESTED": true }),
                )
            }
            Action::Status { terminal } => match terminal {
                Some(_) => {
                    let t = self.inner.terminals.pick(terminal.as_deref())?;
                    Ok(self.status(t).await)
                }
                None => {
                    let mut all = Vec::new();
                    for t in self.inner.terminals.iter() {
                        all.push(self.status(t).await);
                    }
                    Ok(Value::Array(all))
                }
            },
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
            Action::Receipt { payment } => {
                let row = self.payment(&payment).await?;
                Ok(
                    json!({ "PAYMENT": row.uuid, "STATE": row.state.as_str(), "TERMINAL": row.terminal, "RECEIPT": row.card.receipt }),
                )
            }
            Action::Resolve {
                payment,
                state,
                note,
            } => {
                ctx.require_admin()?;
                let row = self.payment(&payment).await?;
                let t = self.inner.terminals.pick(Some(&row.terminal))?;
                t.runner.resolve(&payment, state, note).await
            }
        }
    }

    async fn payment(&self, uuid: &str) -> Result<PaymentRow, Failure> {
        self.inner
            .journal
            .by_uuid(uuid)
            .await
            .map_err(|e| Failure::internal("reading the payment journal", e))?
            .filter(|r| r.target == TARGET)
            .ok_or_else(|| not_found(TARGET, uuid))
    }

    async fn sale(&self, uuid: &str) -> Result<PaymentRow, Failure> {
        let row = self.payment(uuid).await?;
        if row.operation != Operation::Sale
            || !matches!(row.state, PaymentState::Approved | PaymentState::Refunded)
        {
            return Err(Failure::bad_params(format!(
                "ORIGINAL {uuid} is a {} that is {}: only an approved sale can be refunded",
                row.operation.as_str(),
                row.state.as_str()
            )));
        }
        Ok(row)
    }

    async fn status(&self, t: &Terminal) -> Value {
        let busy = t.runner.is_busy();
        let (reachable, pinpad) = if busy {
            (Value::Null, Value::Null)
        } else {
            match t.runner.driver.status().await {
                Ok(s) => (json!(true), s),
                Err(why) => (json!(false), json!({ "ERROR": why })),
            }
        };
        json!({
            "TERMINAL": t.runner.name,
            "URI": t.runner.driver.config.base,
            "CLOUD": t.runner.driver.config.is_cloud(),
            "REACHABLE": reachable,
            "PINPAD": pinpad,
            "BUSY": busy,
            "PAYMENT": t.runner.in_progress(),
            "UNRESOLVED": t.runner.unresolved().await,
        })
    }
}

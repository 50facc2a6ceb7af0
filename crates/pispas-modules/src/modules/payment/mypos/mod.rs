//! MYPOS: myPOS card terminals over IPP (TCP "ECR mode" or serial). `codec/` is the pure IPP
//! codec, `driver.rs` talks to one terminal, `action.rs` parses requests, and the shared
//! `runner.rs` keeps the money rules (journal first, one charge per UUIDV4, one payment per
//! terminal, reconciliation). This file answers SALE, REFUND, REVERSAL, CANCEL, STATUS, JOURNAL,
//! RECEIPT, PAYMENT_RESOLVE, REPRINT and PING.
//!
//! Several terminals may be configured (`MYPOS`, `MYPOS_<NAME>`); requests pick one with
//! `TERMINAL`.

mod action;
pub mod codec;
pub mod config;
mod driver;
mod error;

use super::journal::{Journal, NewPayment};
use super::model::{terminal_ref, Operation, PaymentState, Verified};
use super::params::PaymentSettings;
use super::runner::{not_found, terminals_health, Runner};
use crate::context::{ModuleContext, ModuleError};
use crate::devices::{DeviceWords, Devices, NamedDevice};
use crate::protocol::{Failure, Request};
use crate::router::{BoxFuture, Health, Outcome, RequestContext, Service};
use crate::transport::link::LinkState;
use crate::transport::serial::SerialSettings;
use crate::transport::{BoxedIo, Endpoint};
use action::{Action, Name};
use codec::Message;
use driver::{Connector, MyposDriver};
use error::MyposError;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const TARGET: &str = "MYPOS";

const WORDS: DeviceWords = DeviceWords {
    param: "TERMINAL",
    noun: "myPOS terminal",
    none_configured: "no myPOS terminal is configured: set MYPOS=tcp://<terminal-ip>:<port> or MYPOS=serial://<port>?baud=115200",
};

/// Opens the configured endpoint.
struct EndpointConnector {
    endpoint: Endpoint,
    serial: SerialSettings,
}

impl Connector for EndpointConnector {
    fn connect(&self) -> BoxFuture<std::io::Result<BoxedIo>> {
        let (endpoint, serial) = (self.endpoint.clone(), self.serial);
        Box::pin(async move { endpoint.open(&serial, Duration::from_secs(5)).await })
    }

    fn describe(&self) -> String {
        self.endpoint.describe()
    }
}

struct Terminal {
    runner: Arc<Runner<MyposDriver<EndpointConnector>>>,
    topic: String,
    uri: String,
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
        json!({ "TERMINAL": self.runner.name, "URI": self.uri })
    }
}

/// The MYPOS module; a cheap handle.
#[derive(Clone)]
pub struct Mypos {
    inner: Arc<Inner>,
}

struct Inner {
    terminals: Devices<Terminal>,
    journal: Journal,
    settings: PaymentSettings,
}

impl Mypos {
    /// Opens the journal and starts every configured terminal (reconciling what a restart left
    /// open first).
    ///
    /// Fails naming the key of an invalid setting, or when the journal cannot be opened.
    pub fn start(ctx: &ModuleContext) -> Result<Mypos, ModuleError> {
        let settings =
            PaymentSettings::from_values(&ctx.config.values).map_err(ModuleError::Config)?;
        let configs = config::terminals_from(&ctx.config.values).map_err(ModuleError::Config)?;
        let journal = Journal::open(ctx.store.clone(), &ctx.tracker, ctx.shutdown.clone())?;
        let mut terminals = Vec::new();
        for c in configs {
            let uri = c.endpoint.describe();
            let driver = MyposDriver {
                name: c.name.clone(),
                key: c.key.clone(),
                connector: Arc::new(EndpointConnector {
                    endpoint: c.endpoint,
                    serial: c.serial,
                }),
                verified: Verified::default(),
            };
            let runner = Runner::start(
                TARGET,
                c.name.clone(),
                driver,
                journal.clone(),
                ctx.events.clone(),
                settings.clone(),
                &ctx.tracker,
                ctx.shutdown.clone(),
            )?;
            terminals.push(Terminal {
                runner,
                topic: format!("{TARGET}:{}", c.name),
                uri,
            });
        }
        Ok(Mypos {
            inner: Arc::new(Inner {
                terminals: Devices::new(WORDS, terminals),
                journal,
                settings,
            }),
        })
    }
}

impl Service for Mypos {
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
            "no myPOS terminal configured",
        )
    }
}

impl Mypos {
    async fn run(&self, action: Action, uuid: &str, ctx: &RequestContext) -> Outcome {
        match action {
            Action::Sale {
                terminal,
                amount,
                currency,
                reference,
            } => {
                let t = self.inner.terminals.pick(terminal.as_deref())?;
                let new =
                    self.new_payment(t, uuid, Operation::Sale, amount, currency, reference, None);
                t.runner.pay(new, ctx).await
            }
            Action::Refund {
                terminal,
                amount,
                currency,
                reference,
                original,
            } => {
                let t = self.inner.terminals.pick(terminal.as_deref())?;
                if let Some(o) = &original {
                    let sale = self.sale(o, true).await?;
                    if amount > sale.amount || currency != sale.currency {
                        return Err(Failure::new(
                            crate::protocol::ErrorCode::InvalidAmount,
                            format!(
                                "a refund of sale {o} can be at most {} {} (the sale's amount)",
                                sale.amount, sale.currency
                            ),
                        ));
                    }
                }
                let new = self.new_payment(
                    t,
                    uuid,
                    Operation::Refund,
                    amount,
                    currency,
                    reference,
                    original,
                );
                t.runner.pay(new, ctx).await
            }
            Action::Reversal { terminal, original } => {
                let t = self.inner.terminals.pick(terminal.as_deref())?;
                // A retry of a reversal already journaled gets its outcome, whatever the sale is now.
                let sale = match self
                    .inner
                    .journal
                    .by_uuid(uuid)
                    .await
                    .map_err(|e| Failure::internal("reading the payment journal", e))?
                {
                    Some(_) => None,
                    None => Some(self.sale(&original, false).await?),
                };
                let (amount, currency) = sale
                    .map_or((0, self.inner.settings.currency.clone()), |s| {
                        (s.amount, s.currency)
                    });
                let new = self.new_payment(
                    t,
                    uuid,
                    Operation::Reversal,
                    amount,
                    currency,
                    None,
                    Some(original),
                );
                t.runner.pay(new, ctx).await
            }
            Action::Cancel { terminal, payment } => {
                let t = self.inner.terminals.pick(terminal.as_deref())?;
                let running = t.runner.in_progress();
                let matches = match (&payment, running.get("PAYMENT").and_then(Value::as_str)) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(p), Some(r)) => p == r,
                };
                if !matches {
                    return Err(MyposError::NoPayment(format!(
                        "no such payment is in progress on the myPOS terminal {}",
                        t.runner.name
                    ))
                    .into());
                }
                Err(MyposError::Unsupported(
                    "a myPOS terminal cannot be interrupted from the till once a payment started: press the red X key on the terminal; the payment then ends as CANCELLED".into(),
                )
                .into())
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
            Action::Reprint { terminal } => {
                let t = self.inner.terminals.pick(terminal.as_deref())?;
                let frame = self
                    .simple(
                        t,
                        Message::request("REPRINT_RECEIPT", &format!("RP-{}", terminal_ref(uuid))),
                    )
                    .await?;
                let receipt: Vec<&str> = frame
                    .get("RECEIPT_DATA")
                    .map(|r| r.split('|').collect())
                    .unwrap_or_default();
                Ok(json!({ "TERMINAL": t.runner.name, "RECEIPT": receipt }))
            }
            Action::Ping { terminal } => {
                let t = self.inner.terminals.pick(terminal.as_deref())?;
                let started = tokio::time::Instant::now();
                self.simple(
                    t,
                    Message::request("PING", &format!("PG-{}", terminal_ref(uuid))),
                )
                .await?;
                Ok(
                    json!({ "TERMINAL": t.runner.name, "REACHABLE": true, "MS": started.elapsed().as_millis() as u64 }),
                )
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_payment(
        &self,
        t: &Terminal,
        uuid: &str,
        operation: Operation,
        amount: u64,
        currency: String,
        reference: Option<String>,
        original: Option<String>,
    ) -> NewPayment {
        NewPayment {
            uuid: uuid.to_string(),
            target: TARGET,
            terminal: t.runner.name.clone(),
            operation,
            amount,
            currency,
            reference,
            terminal_ref: terminal_ref(uuid),
            original,
        }
    }

    async fn payment(&self, uuid: &str) -> Result<super::journal::PaymentRow, Failure> {
        self.inner
            .journal
            .by_uuid(uuid)
            .await
            .map_err(|e| Failure::internal("reading the payment journal", e))?
            .filter(|r| r.target == TARGET)
            .ok_or_else(|| not_found(TARGET, uuid))
    }

    /// An approved sale of this target (for REFUND/REVERSAL's ORIGINAL); a refund may also
    /// follow an earlier partial refund.
    async fn sale(
        &self,
        uuid: &str,
        refunded_too: bool,
    ) -> Result<super::journal::PaymentRow, Failure> {
        let row = self.payment(uuid).await?;
        let usable = row.state == PaymentState::Approved
            || (refunded_too && row.state == PaymentState::Refunded);
        if row.operation != Operation::Sale || !usable {
            return Err(Failure::bad_params(format!(
                "ORIGINAL {uuid} is a {} that is {}: only an approved sale can be refunded or reversed",
                row.operation.as_str(),
                row.state.as_str()
            )));
        }
        Ok(row)
    }

    /// A request that needs no customer, refused while a payment runs on that terminal.
    async fn simple(&self, t: &Terminal, request: Message) -> Result<Message, Failure> {
        if t.runner.is_busy() {
            return Err(MyposError::Busy(format!(
                "the myPOS terminal {} is taking a payment",
                t.runner.name
            ))
            .into());
        }
        let frame = t
            .runner
            .driver
            .simple(request)
            .await
            .map_err(MyposError::Unreachable)?;
        match frame.number("STATUS") {
            Some(0 | 100) => Ok(frame),
            Some(1) => Err(MyposError::Busy(format!(
                "the myPOS terminal {} is busy with another transaction",
                t.runner.name
            ))
            .into()),
            code => {
                let (name, _, sentence) = codec::status::status(code.unwrap_or(u32::MAX));
                Err(MyposError::Refused(format!(
                    "{sentence} (myPOS STATUS {} {name})",
                    code.unwrap_or(u32::MAX)
                ))
                .into())
            }
        }
    }

    async fn status(&self, t: &Terminal) -> Value {
        let busy = t.runner.is_busy();
        let reachable = if busy {
            Value::Null
        } else {
            let ping = Message::request("PING", &format!("ST-{}", crate::clock::now_ms()));
            json!(t
                .runner
                .driver
                .simple(ping)
                .await
                .is_ok_and(|f| f.number("STATUS") == Some(0)))
        };
        json!({
            "TERMINAL": t.runner.name,
            "URI": t.uri,
            "REACHABLE": reachable,
            "BUSY": busy,
            "PAYMENT": t.runner.in_progress(),
            "UNRESOLVED": t.runner.unresolved().await,
        })
    }
}

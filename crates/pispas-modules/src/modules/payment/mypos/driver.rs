//! The myPOS driver, generic over the byte stream (a [`Connector`] opens TCP or serial): one
//! connection per request, as the protocol's flow is (connect → send → STAGE=1 within 5 s →
//! frames until STAGE=5, each frame's TIMEOUT honoured → close).
//!
//! It sends a PURCHASE/REFUND/REVERSAL once, at most: a lost reply, a silent terminal or a
//! STATUS that may have charged the card (12, 14 after stage 1, 15, 16) is reported as lost and
//! the runner reconciles with GET_STATUS (SID_ORIGINAL = the payment's SID). After every
//! transaction that passed stage 1 it sends COMPLETE_TX with SID_ORIGINAL, so the terminal never
//! refuses the next one with STATUS=20. A terminal in slave mode is refused.

use super::codec::{self, frame, Message, Step, Verdict};
use crate::clock::now_ms;
use crate::modules::payment::journal::PaymentRow;
use crate::modules::payment::model::{
    terminal_ref, CardData, Operation, Outcome, PaymentState, Verified,
};
use crate::modules::payment::params::currency_number;
use crate::modules::payment::runner::{Driver, Progress, Reconciled, Run};
use crate::protocol::ErrorCode;
use crate::router::BoxFuture;
use crate::transport::{BoxedIo, DeviceIo};
use serde_json::json;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The documented wait for STAGE=1 after a request.
const FIRST_FRAME: Duration = Duration::from_secs(5);
/// Added to each frame's TIMEOUT (the terminal's own clock and the network).
const MARGIN: Duration = Duration::from_secs(5);
/// Attempts at COMPLETE_TX while the terminal still says BUSY.
const COMPLETE_ATTEMPTS: u32 = 20;

/// Opens a fresh connection to the terminal. One call is one attempt.
pub(super) trait Connector: Send + Sync + 'static {
    fn connect(&self) -> BoxFuture<io::Result<BoxedIo>>;
    /// How the terminal is shown to people (`tcp://10.0.0.9:4000`).
    fn describe(&self) -> String;
}

/// One myPOS terminal.
pub(super) struct MyposDriver<C> {
    pub(super) name: String,
    /// The configuration key (`MYPOS`, `MYPOS_BAR`), named when the address is wrong.
    pub(super) key: String,
    pub(super) connector: Arc<C>,
    /// When the terminal last answered a whole exchange.
    pub(super) verified: Verified,
}

/// How reading a frame failed.
#[derive(Debug)]
enum ReadError {
    Timeout,
    Closed(String),
    Garbage(String),
}

/// A connection: the stream and what arrived but was not read yet.
struct Conn<S> {
    io: S,
    buf: Vec<u8>,
}

impl<S: DeviceIo> Conn<S> {
    async fn send(&mut self, m: &Message) -> io::Result<()> {
        let bytes = m
            .to_frame()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        self.io.write_all(&bytes).await?;
        self.io.flush().await
    }

    async fn read(&mut self, wait: Duration) -> Result<Message, ReadError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut chunk = [0u8; 4096];
        loop {
            match frame::decode(&self.buf) {
                Ok(frame::Decoded::Frame { body, consumed }) => {
                    let parsed = Message::parse(body);
                    self.buf.drain(..consumed);
                    return parsed.map_err(|e| ReadError::Garbage(e.to_string()));
                }
                Ok(frame::Decoded::Incomplete { .. }) => {}
                Err(e) => return Err(ReadError::Garbage(e.to_string())),
            }
            let n = tokio::time::timeout_at(deadline, self.io.read(&mut chunk))
                .await
                .map_err(|_| ReadError::Timeout)?
                .map_err(|e| ReadError::Closed(e.to_string()))?;
            if n == 0 {
                return Err(ReadError::Closed(
                    "the terminal closed the connection".into(),
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// How one request's exchange ended.
#[derive(Debug)]
enum Exchange {
    Final { frame: Message, accepted: bool },
    Lost { why: String },
    Slave,
}

/// Sends `request` and reads its frames to the end, reporting stages to `progress`.
async fn exchange<S: DeviceIo>(
    conn: &mut Conn<S>,
    request: &Message,
    progress: Option<&Progress>,
) -> Exchange {
    if let Err(e) = conn.send(request).await {
        return Exchange::Lost {
            why: format!("sending to the terminal failed: {e}"),
        };
    }
    let mut wait = FIRST_FRAME;
    let mut accepted = false;
    loop {
        let frame = match conn.read(wait).await {
            Ok(f) => f,
            Err(e) => {
                let why = match e {
                    ReadError::Timeout => {
                        format!("no frame from the terminal within {} s", wait.as_secs())
                    }
                    ReadError::Closed(why) => why,
                    ReadError::Garbage(why) => format!("unreadable frame: {why}"),
                };
                return Exchange::Lost { why };
            }
        };
        let stage = frame.number("STAGE").unwrap_or(0);
        let status = frame.number("STATUS").unwrap_or(u32::MAX);
        match codec::step(&frame) {
            Step::Slave => return Exchange::Slave,
            Step::Final => return Exchange::Final { frame, accepted },
            Step::Continue {
                stage: s,
                timeout_s,
            } => {
                if stage == 1 && status == 0 {
                    accepted = true;
                    if let Some(p) = progress {
                        p.accepted().await;
                    }
                }
                if let Some(p) = progress {
                    p.stage(s, json!({ "STAGE": stage, "STATUS": status }));
                }
                wait =
                    Duration::from_secs(u64::from(timeout_s)).max(Duration::from_secs(1)) + MARGIN;
            }
        }
    }
}

/// `12.34` from 1234 cents.
fn decimal(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn outcome(state: PaymentState, card: CardData, message: String) -> Outcome {
    Outcome::new(state, message).with_card(card)
}

impl<C: Connector> MyposDriver<C> {
    async fn connect(&self) -> io::Result<Conn<BoxedIo>> {
        Ok(Conn {
            io: self.connector.connect().await?,
            buf: Vec::new(),
        })
    }

    /// A request that needs no customer (PING, GET_STATUS, COMPLETE_TX, REPRINT_RECEIPT) on a
    /// fresh connection; its final frame.
    pub(super) async fn simple(&self, request: Message) -> Result<Message, String> {
        let mut conn = self.connect().await.map_err(|e| {
            format!(
                "cannot reach the terminal at {}: {e}",
                self.connector.describe()
            )
        })?;
        match self.exchange(&mut conn, &request, None).await {
            Exchange::Final { frame, .. } => Ok(frame),
            Exchange::Lost { why, .. } => Err(why),
            Exchange::Slave => Err(SLAVE.into()),
        }
    }

    /// COMPLETE_TX for `sid`, asked again while the terminal is busy; logged, never fatal.
    async fn complete(&self, sid: &str) {
        for attempt in 0..COMPLETE_ATTEMPTS {
            let request = Message::request("COMPLETE_TX", &format!("{sid}-C{attempt}"))
                .with("SID_ORIGINAL", sid);
            match self.simple(request).await {
                Ok(f) if f.number("STATUS") == Some(0) => {
                    tracing::debug!(terminal = %self.name, sid, "COMPLETE_TX done");
                    return;
                }
                Ok(f) if f.number("STATUS") == Some(17) => return,
                Ok(f) if f.number("STATUS") != Some(1) => {
                    tracing::warn!(terminal = %self.name, sid, status = f.number("STATUS"), "COMPLETE_TX refused");
                    return;
                }
                other => {
                    tracing::debug!(terminal = %self.name, sid, ?other, "COMPLETE_TX: terminal busy or unreachable; again");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
        tracing::warn!(terminal = %self.name, sid, "COMPLETE_TX never went through: the next purchase may get STATUS=20, which is then completed first");
    }

    /// STATUS=20: the terminal waits for COMPLETE_TX of an earlier transaction. Completes it
    /// (COMPLETE_TX keeps its outcome: an approved one stays approved) and says which.
    async fn unstick(&self, sid: &str) -> Result<String, String> {
        let record = self
            .simple(Message::request("GET_STATUS", &format!("{sid}-S")))
            .await?;
        let stuck = record
            .get("SID_ORIGINAL")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .ok_or("the terminal waits for an earlier transaction it does not name")?;
        tracing::warn!(terminal = %self.name, stuck = %stuck, tx_status = record.number("TX_STATUS"), "the terminal waited for COMPLETE_TX of an earlier transaction; completing it");
        self.complete(&stuck).await;
        Ok(stuck)
    }

    fn request_for(&self, p: &PaymentRow) -> Message {
        let sid = terminal_ref(&p.uuid);
        match p.operation {
            Operation::Sale | Operation::Refund => {
                let method = if p.operation == Operation::Sale {
                    "PURCHASE"
                } else {
                    "REFUND"
                };
                let currency = currency_number(&p.currency)
                    .map_or_else(|| p.currency.clone(), |n| n.to_string());
                let mut m = Message::request(method, &sid)
                    .with("AMOUNT", decimal(p.amount))
                    .with("CURRENCY", currency);
                if let Some(r) = &p.reference {
                    m = m.with("REFERENCE", r.clone());
                }
                m
            }
            Operation::Reversal => Message::request("REVERSAL", &sid),
        }
    }

    async fn run_payment(&self, p: PaymentRow, progress: Progress) -> Run {
        let sid = terminal_ref(&p.uuid);
        if p.operation == Operation::Reversal {
            // Voids only the sale the POS named, and only if it is the terminal's last one.
            let original = p.original.as_deref().map(terminal_ref).unwrap_or_default();
            match self.simple(Message::request("GET_STATUS", &format!("{sid}-R"))).await {
                Ok(f) if f.get("SID_ORIGINAL") == Some(original.as_str()) => {}
                Ok(f) => {
                    return Run::Done(Outcome::new(
                        PaymentState::Declined,
                        format!("not reversed: the terminal's last transaction is {}, not the sale named in ORIGINAL (myPOS reverses only its last transaction; refund it instead)", f.get("SID_ORIGINAL").unwrap_or("none")),
                    ))
                }
                Err(why) => {
                    return Run::Done(
                        Outcome::new(PaymentState::Cancelled, format!("not reversed: {why}; nothing was sent")).with_code(ErrorCode::TerminalUnavailable),
                    )
                }
            }
        }
        if p.operation != Operation::Reversal {
            // A reversal asked GET_STATUS above; anything else asks PING first.
            if let Err(refused) = self.probe(&sid).await {
                return Run::Done(refused);
            }
        }
        for attempt in 0..2 {
            let mut conn = match self.connect().await {
                Ok(c) => c,
                Err(e) => return Run::Done(self.unreachable(&e)),
            };
            let request = self.request_for(&p);
            match self.exchange(&mut conn, &request, Some(&progress)).await {
                Exchange::Lost { why, .. } => return Run::Lost(why),
                Exchange::Slave => {
                    drop(conn);
                    self.complete(&sid).await;
                    return Run::Done(
                        Outcome::new(PaymentState::Cancelled, SLAVE)
                            .with_code(ErrorCode::TerminalUnavailable),
                    );
                }
                Exchange::Final { frame, accepted } => {
                    drop(conn);
                    let done = |o: Outcome| Run::Done(o);
                    match codec::verdict(&frame, accepted) {
                        Verdict::NotCompleted if attempt == 0 => {
                            if let Err(why) = self.unstick(&sid).await {
                                return done(
                                    Outcome::new(PaymentState::Cancelled, format!("the terminal waits for an earlier transaction to be completed and it could not be ({why}); nothing was charged")).with_code(ErrorCode::TerminalUnavailable),
                                );
                            }
                            continue;
                        }
                        Verdict::NotCompleted => {
                            return done(Outcome::new(PaymentState::Cancelled, "the terminal still waits for an earlier transaction to be completed; nothing was charged: restart the terminal").with_code(ErrorCode::TerminalUnavailable));
                        }
                        Verdict::Reconcile(why) => return Run::Lost(why),
                        verdict => {
                            if accepted {
                                self.complete(&sid).await;
                            }
                            return done(self.settled(verdict, &p));
                        }
                    }
                }
            }
        }
        Run::Lost("the terminal did not settle the request".into())
    }

    /// [`exchange`], remembering whether the terminal answered in its protocol.
    async fn exchange<S: DeviceIo>(
        &self,
        conn: &mut Conn<S>,
        request: &Message,
        progress: Option<&Progress>,
    ) -> Exchange {
        let done = exchange(conn, request, progress).await;
        match done {
            Exchange::Final { .. } => self.verified.answered(),
            Exchange::Lost { .. } | Exchange::Slave => self.verified.doubt(),
        }
        done
    }

    /// Nothing was sent: a connection that could not be made carries no bytes.
    fn unreachable(&self, e: &io::Error) -> Outcome {
        Outcome::new(
            PaymentState::Cancelled,
            format!("the myPOS terminal {} at {} cannot be reached ({e}); nothing was charged: check that it is on, in ECR mode and on the same network, and that {}= is its address", self.name, self.connector.describe(), self.key),
        )
        .with_code(ErrorCode::TerminalUnavailable)
    }

    /// Before a purchase or a refund: one PING, which charges nothing, must be answered in the
    /// protocol (unless the terminal answered an exchange within [`Verified::FRESH`]). An address that reaches something else (the other brand's pinpad, a web
    /// server, a printer's raw port, a device that hung) would otherwise take the PURCHASE,
    /// answer nothing readable, and leave the payment PAYMENT_UNKNOWN_OUTCOME after minutes of
    /// reconciliation with a device that cannot be asked. A slave-mode terminal is left to the
    /// purchase's own exchange, which says what to change.
    async fn probe(&self, sid: &str) -> Result<(), Outcome> {
        if self.verified.is_fresh() {
            return Ok(());
        }
        let mut conn = self.connect().await.map_err(|e| self.unreachable(&e))?;
        let ping = Message::request("PING", &format!("{sid}-P"));
        match self.exchange(&mut conn, &ping, None).await {
            Exchange::Final { .. } | Exchange::Slave => Ok(()),
            Exchange::Lost { why } => Err(Outcome::new(
                PaymentState::Cancelled,
                format!("not started: what answers at {} is not a myPOS terminal in ECR mode ({why} after a PING); nothing was charged: check that {}= is the terminal's address", self.connector.describe(), self.key),
            )
            .with_code(ErrorCode::TerminalUnavailable)),
        }
    }

    /// The outcome for a verdict that needs no reconciliation.
    fn settled(&self, verdict: Verdict, p: &PaymentRow) -> Outcome {
        match verdict {
            Verdict::Approved(card) => {
                let mut o = outcome(PaymentState::Approved, card, "approved".into());
                if p.operation == Operation::Reversal {
                    o.reversed_ref = p.original.as_deref().map(terminal_ref);
                    o.message = "the sale was reversed on the terminal".into();
                }
                o
            }
            Verdict::Declined(card, why) => outcome(
                PaymentState::Declined,
                card,
                format!("declined: {why}; the customer was not charged"),
            ),
            Verdict::Cancelled(why) => Outcome::new(
                PaymentState::Cancelled,
                format!("{why}; the customer was not charged"),
            ),
            Verdict::NotStarted {
                busy,
                invalid_amount,
                why,
            } => {
                let code = if busy {
                    ErrorCode::TerminalBusy
                } else if invalid_amount {
                    ErrorCode::InvalidAmount
                } else {
                    ErrorCode::TerminalUnavailable
                };
                Outcome::new(
                    PaymentState::Cancelled,
                    format!("not started: {why}; nothing was charged"),
                )
                .with_code(code)
            }
            Verdict::NotFound(why) => {
                Outcome::new(PaymentState::Declined, format!("{why}; nothing changed"))
            }
            Verdict::NotCompleted | Verdict::Reconcile(_) => {
                Outcome::new(PaymentState::UnknownOutcome, self.unknown_text(p))
            }
        }
    }

    fn unknown_text(&self, p: &PaymentRow) -> String {
        format!(
            "the outcome of this {} of {} {} is unknown: on the myPOS terminal {} (or in the myPOS account) look for the transaction with reference {} and resolve it with what it shows (PAYMENT_RESOLVE); do not charge the customer again before that",
            p.operation.as_str(),
            decimal(p.amount),
            p.currency,
            self.name,
            terminal_ref(&p.uuid)
        )
    }

    async fn reconcile_payment(&self, p: PaymentRow) -> Reconciled {
        let sid = terminal_ref(&p.uuid);
        let request = Message::request("GET_STATUS", &format!("{sid}-Q{}", now_ms() % 100_000))
            .with("SID_ORIGINAL", sid.clone());
        let frame = match self.simple(request).await {
            Ok(f) => f,
            Err(why) => return Reconciled::TryLater(why),
        };
        match codec::status_record(&frame, &sid) {
            Verdict::Reconcile(why) => Reconciled::TryLater(why),
            Verdict::NotFound(why) => Reconciled::Unknowable(format!("GET_STATUS: {why}")),
            verdict => {
                self.complete(&sid).await;
                let mut o = self.settled(verdict, &p);
                o.message = format!("{} (found by reconciliation with the terminal)", o.message);
                Reconciled::Known(o)
            }
        }
    }
}

const SLAVE: &str = "the myPOS terminal is in slave mode (it asks the till to relay its bank traffic), which this service does not do; nothing was charged: switch the terminal to cash register (ECR) mode in its settings";

impl<C: Connector> Driver for MyposDriver<C> {
    fn run(&self, payment: PaymentRow, progress: Progress) -> BoxFuture<Run> {
        let this = self.clone_handle();
        Box::pin(async move { this.run_payment(payment, progress).await })
    }

    fn reconcile(&self, payment: PaymentRow) -> BoxFuture<Reconciled> {
        let this = self.clone_handle();
        Box::pin(async move { this.reconcile_payment(payment).await })
    }

    fn unknown_message(&self, payment: &PaymentRow) -> String {
        self.unknown_text(payment)
    }
}

impl<C> MyposDriver<C> {
    fn clone_handle(&self) -> MyposDriver<C> {
        MyposDriver {
            name: self.name.clone(),
            key: self.key.clone(),
            connector: self.connector.clone(),
            verified: self.verified.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_go_to_the_terminal_as_decimals() {
        assert_eq!(decimal(1), "0.01");
        assert_eq!(decimal(1250), "12.50");
        assert_eq!(decimal(1_000_000), "10000.00");
    }

    #[tokio::test]
    async fn frames_are_read_across_partial_reads_and_stage_1_counts_as_accepted() {
        let (mut near, far) = tokio::io::duplex(4096);
        let mut conn = Conn {
            io: far,
            buf: Vec::new(),
        };
        let frames = [
            Message::request("PURCHASE", "S")
                .with("STAGE", "1")
                .with("STATUS", "0")
                .with("TIMEOUT", "1"),
            Message::request("PURCHASE", "S")
                .with("STAGE", "5")
                .with("STATUS", "0")
                .with("TX_STATUS", "0"),
        ];
        let terminal = tokio::spawn(async move {
            let mut got = [0u8; 512];
            let _ = near.read(&mut got).await;
            for f in frames {
                let bytes = f.to_frame().unwrap();
                let (a, b) = bytes.split_at(3);
                near.write_all(a).await.unwrap();
                near.write_all(b).await.unwrap();
            }
            near
        });
        let result = exchange(&mut conn, &Message::request("PURCHASE", "S"), None).await;
        let _near = terminal.await.unwrap();
        let Exchange::Final { frame, accepted } = result else {
            panic!("{result:?}")
        };
        assert!(accepted);
        assert_eq!(frame.number("TX_STATUS"), Some(0));
    }

    #[tokio::test]
    async fn a_connection_closed_mid_transaction_is_lost_not_declined() {
        let (mut near, far) = tokio::io::duplex(4096);
        let mut conn = Conn {
            io: far,
            buf: Vec::new(),
        };
        let terminal = tokio::spawn(async move {
            let mut got = [0u8; 512];
            let _ = near.read(&mut got).await;
            let f = Message::request("PURCHASE", "S")
                .with("STAGE", "1")
                .with("STATUS", "0")
                .with("TIMEOUT", "5");
            near.write_all(&f.to_frame().unwrap()).await.unwrap();
        });
        let result = exchange(&mut conn, &Message::request("PURCHASE", "S"), None).await;
        terminal.await.unwrap();
        assert!(matches!(result, Exchange::Lost { .. }), "{result:?}");
    }
}

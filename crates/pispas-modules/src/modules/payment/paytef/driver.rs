//! The Paytef driver, generic over its HTTP transport ([`Http`]; production is reqwest on
//! rustls through `transport::http`): `/transaction/start` **once** → `/transaction/poll` every
//! `poll_ms` until finished → the result, whose `transactionReference` must be ours.
//!
//! It never re-sends a start after a timeout or a lost reply (a second start on a running
//! terminal fails with HTTP 500, and could charge twice): it keeps polling, and after three
//! failed polls in a row it also asks `/pinpad/getLastResult`; whatever is still unknown when
//! PAYMENT_TIMEOUT_S runs out is reconciled by the runner and may end UNKNOWN_OUTCOME. A start
//! refused before it ran (busy → 500, a Paytef error, the gateway's "Missing Authentication
//! Token") is not charged. In the cloud it authorizes for a bearer token and re-authorizes once
//! when a reply says the token expired. A not-approved result is confirmed over three more
//! polls before it is believed (a wrong PIN shows "finished, declined" and then goes on).

use super::codec::{self, Poll, Reply, TxResult};
use super::config::PaytefConfig;
use crate::modules::payment::journal::PaymentRow;
use crate::modules::payment::model::{terminal_ref, Operation, Outcome, PaymentState, Verified};
use crate::modules::payment::runner::{Driver, Progress, Reconciled, Run};
use crate::protocol::ErrorCode;
use crate::router::BoxFuture;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Documented timeouts (tocBackend): start 10 s, poll/cancel/status 5 s.
const START_TIMEOUT: Duration = Duration::from_secs(10);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Failed polls in a row before getLastResult is asked as well.
const FAILED_POLLS: u32 = 3;
/// Polls that must agree before a not-approved result is believed.
const CONFIRM_POLLS: u32 = 3;

/// How an HTTP call failed.
#[derive(Debug)]
pub(super) enum HttpError {
    /// The connection could not be made: nothing was sent.
    Connect(String),
    /// Sent (maybe), but no reply came back.
    Lost(String),
}

/// POST `path` with a JSON body; the HTTP status and the body.
pub(super) trait Http: Send + Sync + 'static {
    fn post(
        &self,
        url: String,
        bearer: Option<String>,
        body: Value,
        timeout: Duration,
    ) -> BoxFuture<Result<(u16, Vec<u8>), HttpError>>;
}

/// The production transport.
pub(super) struct Reqwest(pub(super) reqwest::Client);

impl Http for Reqwest {
    fn post(
        &self,
        url: String,
        bearer: Option<String>,
        body: Value,
        timeout: Duration,
    ) -> BoxFuture<Result<(u16, Vec<u8>), HttpError>> {
        let client = self.0.clone();
        Box::pin(async move {
            let mut request = client.post(&url).timeout(timeout).json(&body);
            if let Some(token) = bearer {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.map_err(|e| {
                if e.is_connect() {
                    HttpError::Connect(chain(e))
                } else {
                    HttpError::Lost(chain(e))
                }
            })?;
            let status = response.status().as_u16();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| HttpError::Lost(chain(e)))?;
            Ok((status, bytes.to_vec()))
        })
    }
}

/// reqwest's error with its causes ("error sending request" says nothing on its own: the cause
/// is "timed out", "invalid HTTP version parsed", "connection closed before message completed").
fn chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// One pinpad.
pub(super) struct PaytefDriver<H> {
    pub(super) config: PaytefConfig,
    pub(super) http: Arc<H>,
    token: Arc<Mutex<Option<String>>>,
    /// The session id of the running transaction (cloud).
    session: Arc<Mutex<Option<String>>>,
    /// When the pinpad last passed the check before a start (cleared by any failed call).
    verified: Verified,
}

/// A call's result, after authorization was handled.
enum Called {
    Ok(Value),
    /// Refused with this HTTP status (0: before any call) and why.
    Refused(u16, String),
    Failed(HttpError),
}

impl<H: Http> PaytefDriver<H> {
    pub(super) fn new(config: PaytefConfig, http: Arc<H>) -> Self {
        PaytefDriver {
            config,
            http,
            token: Arc::default(),
            session: Arc::default(),
            verified: Verified::default(),
        }
    }

    fn clone_handle(&self) -> Self {
        PaytefDriver {
            config: self.config.clone(),
            http: self.http.clone(),
            token: self.token.clone(),
            session: self.session.clone(),
            verified: self.verified.clone(),
        }
    }

    async fn authorize(&self) -> Result<String, String> {
        let Some(c) = &self.config.credentials else {
            return Err("no credentials".into());
        };
        let url = format!("{}/authorize/", self.config.base);
        let answer = self
            .http
            .post(
                url,
                None,
                codec::authorize_body(&c.access, &c.secret),
                CALL_TIMEOUT,
            )
            .await
            .map_err(|e| format!("authorizing with Paytef Cloud failed: {e:?}"))?;
        match codec::reply(answer.0, &answer.1) {
            Reply::Ok { body, .. } => {
                let token = codec::token(&body).ok_or("the authorize reply has no token")?;
                if let Ok(mut t) = self.token.lock() {
                    *t = Some(token.clone());
                }
                Ok(token)
            }
            other => Err(format!(
                "Paytef Cloud refused PAYTEF_ACCESS_KEY/PAYTEF_SECRET_KEY: {}",
                describe(&other)
            )),
        }
    }

    /// POSTs `path`, authorizing first in the cloud and once more when the token expired (a
    /// call refused for its token was not carried out, so sending it again is safe).
    async fn call(&self, path: &str, body: Value, timeout: Duration) -> Called {
        let url = format!("{}{path}", self.config.base);
        for attempt in 0..2 {
            let bearer = if self.config.is_cloud() {
                let current = self.token.lock().ok().and_then(|t| t.clone());
                match current {
                    Some(t) => Some(t),
                    None => match self.authorize().await {
                        Ok(t) => Some(t),
                        Err(why) => return Called::Refused(0, why),
                    },
                }
            } else {
                None
            };
            let answer = match self
                .http
                .post(url.clone(), bearer, body.clone(), timeout)
                .await
            {
                Ok(a) => a,
                Err(e) => {
                    self.verified.doubt();
                    return Called::Failed(e);
                }
            };
            match codec::reply(answer.0, &answer.1) {
                Reply::Ok { body, version } => {
                    if let Some(v) = version {
                        tracing::debug!(terminal = %self.config.name, path, version = %v, "Paytef reply");
                    }
                    return Called::Ok(body);
                }
                Reply::Paytef {
                    token_expired: true,
                    ..
                } if attempt == 0 && self.config.is_cloud() => {
                    tracing::info!(terminal = %self.config.name, "Paytef token expired; authorizing again");
                    if let Ok(mut t) = self.token.lock() {
                        *t = None;
                    }
                }
                // Accepted (2xx) but unreadable: whatever it did is unknown, as with a lost
                // reply (a start is then polled, never taken as not started).
                Reply::Unreadable { http, why } if (200..300).contains(&http) => {
                    self.verified.doubt();
                    return Called::Failed(HttpError::Lost(format!(
                        "HTTP {http} with an unreadable body ({why})"
                    )));
                }
                other => return Called::Refused(http_of(&other), describe(&other)),
            }
        }
        Called::Refused(
            403,
            "the Paytef token expired again right after authorizing".into(),
        )
    }

    fn session(&self) -> Option<String> {
        self.session.lock().ok().and_then(|s| s.clone())
    }

    async fn poll_once(&self) -> Result<Poll, String> {
        let body = codec::pinpad_body(&self.config.pinpad, self.session().as_deref());
        match self.call("/transaction/poll", body, CALL_TIMEOUT).await {
            Called::Ok(b) => codec::poll(&b).ok_or_else(|| "a poll reply without info".into()),
            Called::Refused(_, why) => Err(why),
            Called::Failed(e) => Err(format!("{e:?}")),
        }
    }

    async fn last_result(&self) -> Result<Option<TxResult>, String> {
        let body = codec::pinpad_body(&self.config.pinpad, None);
        match self.call("/pinpad/getLastResult", body, CALL_TIMEOUT).await {
            Called::Ok(b) => Ok(codec::last_result(&b)),
            Called::Refused(_, why) => Err(why),
            Called::Failed(e) => Err(format!("{e:?}")),
        }
    }

    /// `/pinpad/cancel`: whether the pinpad says it cancelled (the payment's own outcome is
    /// still what the polls say: a cancel that does not cancel is reported as it ends).
    pub(super) async fn cancel(&self) -> Result<bool, String> {
        let body = codec::pinpad_body(&self.config.pinpad, None);
        match self.call("/pinpad/cancel", body, CALL_TIMEOUT).await {
            Called::Ok(b) => Ok(codec::cancel_success(&b)),
            Called::Refused(_, why) => Err(why),
            Called::Failed(e) => Err(format!("{e:?}")),
        }
    }

    /// `/pinpad/status`: `{TCOD, BUSY}` or why not.
    pub(super) async fn status(&self) -> Result<Value, String> {
        let body = codec::pinpad_body(&self.config.pinpad, None);
        match self.call("/pinpad/status", body, CALL_TIMEOUT).await {
            Called::Ok(b) => {
                Ok(json!({ "TCOD": b.pointer("/result/tcod"), "BUSY": b.pointer("/result/busy") }))
            }
            Called::Refused(_, why) => Err(why),
            Called::Failed(e) => Err(format!("{e:?}")),
        }
    }

    fn outcome(&self, r: TxResult, reconciled: bool) -> Outcome {
        let (state, message) = if r.approved {
            (PaymentState::Approved, "approved".to_string())
        } else if r.text.to_lowercase().contains("cancel") {
            (
                PaymentState::Cancelled,
                format!("{}; the customer was not charged", r.text),
            )
        } else {
            (
                PaymentState::Declined,
                format!(
                    "declined: {}; the customer was not charged",
                    if r.text.is_empty() {
                        "not approved"
                    } else {
                        &r.text
                    }
                ),
            )
        };
        let mut o = Outcome::new(state, message).with_card(r.card);
        if reconciled {
            o.message = format!("{} (found by reconciliation with the pinpad)", o.message);
        }
        o
    }

    fn unreachable(&self, why: &str) -> Run {
        self.not_started(
            format!("the Paytef pinpad {} at {} cannot be reached ({why}); check that it is on and on the network, and that {}= is its address", self.config.name, self.config.base, self.config.key),
            ErrorCode::TerminalUnavailable,
        )
    }

    /// Before a start: `/pinpad/status`, which charges nothing, must come back as Paytef JSON
    /// with a `result` (unless the pinpad answered within [`Verified::FRESH`]). An address that reaches something else (a myPOS terminal, a router's
    /// page, a device that hung) would otherwise be sent the start, answer nothing readable,
    /// and leave the payment PAYMENT_UNKNOWN_OUTCOME after PAYMENT_TIMEOUT_S of polls it
    /// cannot answer either.
    async fn probe(&self) -> Result<(), Run> {
        if self.verified.is_fresh() {
            return Ok(());
        }
        let body = codec::pinpad_body(&self.config.pinpad, None);
        let why = match self.call("/pinpad/status", body, CALL_TIMEOUT).await {
            Called::Ok(b) if b.get("result").is_some_and(Value::is_object) => {
                self.verified.answered();
                return Ok(());
            }
            Called::Ok(_) => "a reply without `result`".to_string(),
            Called::Failed(HttpError::Connect(why)) => return Err(self.unreachable(&why)),
            Called::Failed(HttpError::Lost(why)) => why,
            Called::Refused(_, why) => why,
        };
        Err(self.not_started(
            format!("what answers at {} does not answer /pinpad/status as a Paytef pinpad ({why}); check that {}= is the pinpad's address and pinpad id", self.config.base, self.config.key),
            ErrorCode::TerminalUnavailable,
        ))
    }

    fn not_started(&self, why: String, code: ErrorCode) -> Run {
        Run::Done(
            Outcome::new(
                PaymentState::Cancelled,
                format!("not started: {why}; nothing was charged"),
            )
            .with_code(code),
        )
    }

    async fn run_payment(&self, p: PaymentRow, progress: Progress) -> Run {
        let reference = terminal_ref(&p.uuid);
        if p.operation == Operation::Reversal {
            return Run::Done(Outcome::new(
                PaymentState::Declined,
                "Paytef has no reversal from the till: refund it instead",
            ));
        }
        if let Ok(mut s) = self.session.lock() {
            *s = None;
        }
        if let Err(refused) = self.probe().await {
            return refused;
        }
        let body = codec::start_body(
            &self.config.pinpad,
            p.operation == Operation::Refund,
            p.amount,
            &reference,
        );
        match self.call("/transaction/start", body, START_TIMEOUT).await {
            Called::Ok(b) => match codec::started(&b) {
                Some(session) => {
                    if let Ok(mut s) = self.session.lock() {
                        *s = session;
                    }
                    progress.accepted().await;
                }
                None => {
                    return self.not_started(
                        format!(
                            "the pinpad did not start it ({})",
                            b.pointer("/info/message")
                                .and_then(Value::as_str)
                                .unwrap_or("no message")
                        ),
                        ErrorCode::TerminalUnavailable,
                    )
                }
            },
            Called::Refused(500, why) => {
                return self.not_started(
                    format!("the pinpad is busy with another transaction ({why})"),
                    ErrorCode::TerminalBusy,
                )
            }
            Called::Refused(_, why) => {
                return self.not_started(why, ErrorCode::TerminalUnavailable)
            }
            Called::Failed(HttpError::Connect(why)) => return self.unreachable(&why),
            Called::Failed(HttpError::Lost(why)) => {
                // It may be running: poll (by pinpad), never start again.
                tracing::warn!(terminal = %self.config.name, payment = %p.uuid, "the start reply was lost ({why}); polling instead of starting again");
            }
        }
        let mut failed = 0u32;
        let mut declined_seen = 0u32;
        let mut last_stage = None;
        loop {
            tokio::time::sleep(self.config.poll).await;
            match self.poll_once().await {
                Err(why) => {
                    failed += 1;
                    if failed % FAILED_POLLS == 0 {
                        tracing::warn!(terminal = %self.config.name, payment = %p.uuid, "{failed} polls failed in a row ({why}); asking getLastResult too");
                        if let Ok(Some(r)) = self.last_result().await {
                            if r.reference.as_deref() == Some(reference.as_str()) {
                                return Run::Done(self.outcome(r, true));
                            }
                        }
                    }
                }
                Ok(Poll::Running { stage, card_status }) => {
                    failed = 0;
                    declined_seen = 0;
                    if last_stage != Some(card_status.clone()) {
                        progress.stage(stage, json!({ "cardStatus": card_status }));
                        last_stage = Some(card_status);
                    }
                }
                Ok(Poll::Idle) => {
                    return Run::Lost("the pinpad says it runs no transaction (restarted?)".into());
                }
                Ok(Poll::Finished(r)) => {
                    failed = 0;
                    if r.reference.as_deref().is_some_and(|got| got != reference) {
                        return Run::Lost(format!(
                            "the pinpad's finished transaction is {:?}, not this payment",
                            r.reference
                        ));
                    }
                    if r.approved {
                        return Run::Done(self.outcome(r, false));
                    }
                    declined_seen += 1;
                    if declined_seen > CONFIRM_POLLS {
                        return Run::Done(self.outcome(r, false));
                    }
                }
            }
        }
    }

    async fn reconcile_payment(&self, p: PaymentRow) -> Reconciled {
        let reference = terminal_ref(&p.uuid);
        match self.poll_once().await {
            Ok(Poll::Running { .. }) => {
                return Reconciled::TryLater("the pinpad is still running a transaction".into())
            }
            Ok(Poll::Finished(r)) if r.reference.as_deref() == Some(reference.as_str()) => {
                return Reconciled::Known(self.outcome(r, true));
            }
            Err(why) => return Reconciled::TryLater(why),
            Ok(_) => {}
        }
        match self.last_result().await {
            Ok(Some(r)) if r.reference.as_deref() == Some(reference.as_str()) => {
                Reconciled::Known(self.outcome(r, true))
            }
            Ok(Some(r)) => Reconciled::Unknowable(format!(
                "the pinpad's last result is another transaction ({:?})",
                r.reference
            )),
            Ok(None) => Reconciled::Unknowable("the pinpad has no last result".into()),
            Err(why) => Reconciled::TryLater(why),
        }
    }

    fn unknown_text(&self, p: &PaymentRow) -> String {
        format!(
            "the outcome of this {} of {}.{:02} {} is unknown: on the Paytef pinpad {} (or in the Paytef back office) look for the operation with reference {} and resolve it with what it shows (PAYMENT_RESOLVE); do not charge the customer again before that",
            p.operation.as_str(),
            p.amount / 100,
            p.amount % 100,
            p.currency,
            self.config.name,
            terminal_ref(&p.uuid)
        )
    }
}

fn http_of(reply: &Reply) -> u16 {
    match reply {
        Reply::Ok { .. } => 200,
        Reply::Paytef { http, .. }
        | Reply::Gateway { http, .. }
        | Reply::Unreadable { http, .. } => *http,
    }
}

fn describe(reply: &Reply) -> String {
    match reply {
        Reply::Ok { .. } => "ok".into(),
        Reply::Paytef {
            http,
            code,
            description,
            ..
        } => format!("Paytef error {code}: {description} (HTTP {http})"),
        Reply::Gateway { http, message } => format!(
            "the Paytef API gateway answered {message:?} (HTTP {http}): the PAYTEF URL is wrong"
        ),
        Reply::Unreadable { http, why } => format!("an unreadable reply (HTTP {http}: {why})"),
    }
}

impl<H: Http> Driver for PaytefDriver<H> {
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

    fn abandon(&self, payment: &PaymentRow) -> BoxFuture<()> {
        let this = self.clone_handle();
        let uuid = payment.uuid.clone();
        Box::pin(async move {
            let cancelled = this.cancel().await;
            tracing::warn!(terminal = %this.config.name, payment = %uuid, ?cancelled, "PAYMENT_TIMEOUT_S ran out: asked the pinpad to cancel; reconciling");
        })
    }
}

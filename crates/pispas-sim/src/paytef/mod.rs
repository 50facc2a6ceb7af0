//! Paytef pinpad simulator (device-protocols.md §1, peers-wave2.md §2): the JSON-over-HTTP API
//! of the local pinpad (`:8887`) or of Paytef Cloud (`--cloud`: `/authorize/`, bearer tokens,
//! session ids, gateway errors), a terminal state machine driven by named scenarios, and fault
//! injection for the failures real integrations meet (lost replies, restarts, ignored cancels).
//! This file is the handle tests hold: start, steer, observe, wait. Written from the notes,
//! not from any engine driver.

mod api;
mod auth;
mod http;
mod observe;
mod reply;
mod runner;
mod scenario;
mod terminal;
mod transaction;

pub use api::Endpoint;
pub use observe::{PaytefEvent, PaytefRequest};
pub use reply::VERSION;
pub use scenario::PaytefScenario;
pub use terminal::{CardStatus, OpType, Outcome, Phase, Transaction};

use crate::line::lock;
use crate::payment::TestCard;
use crate::wait::{Changes, WaitTimeout};
use api::{Answer, Api, Call};
use auth::Auth;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use terminal::Terminal;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct PaytefOptions {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub addr: String,
    /// Paytef Cloud instead of a local pinpad.
    pub cloud: bool,
    pub scenario: PaytefScenario,
    /// How long each card status lasts.
    pub step: Duration,
    /// How long the slow steps last (slow-card's card read, cancel-ignored's card wait).
    pub slow: Duration,
    /// The terminal code (`tcod`, and the cloud's `pinpad`).
    pub pinpad: String,
    pub access_key: String,
    pub secret_key: String,
    pub card: TestCard,
}

impl Default for PaytefOptions {
    fn default() -> Self {
        PaytefOptions {
            addr: "127.0.0.1:0".into(),
            cloud: false,
            scenario: PaytefScenario::Approved,
            step: Duration::from_millis(500),
            slow: Duration::from_secs(8),
            pinpad: "SIM00001".into(),
            access_key: "sim-access-key".into(),
            secret_key: "sim-secret-key".into(),
            card: TestCard::default(),
        }
    }
}

/// What the terminal is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaytefState {
    /// No transaction (never started, or forgotten in a restart).
    Idle,
    Running(CardStatus),
    Finished(Outcome),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    pub step: Duration,
    pub slow: Duration,
}

pub(crate) struct State {
    pub api: Api,
    pub log: Vec<PaytefRequest>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    changes: Changes,
    events: broadcast::Sender<PaytefEvent>,
    pub pace: Pace,
    pub cancel: CancellationToken,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Announces a change: wakes waiters and tells event subscribers.
    pub(crate) fn changed(&self, event: Option<PaytefEvent>) {
        self.changes.bump();
        if let Some(event) = event {
            let _ = self.events.send(event);
        }
    }

    /// Answers one call and records it.
    pub(crate) fn answer(&self, call: &Call) -> Answer {
        let (answer, events) = {
            let mut state = self.lock();
            let before = state.api.terminal.current().map(|t| (t.id, t.phase));
            let answer = state.api.answer(call);
            let body = serde_json::from_slice::<Value>(&call.body).unwrap_or(Value::Null);
            let text = |name: &str| body.get(name).and_then(Value::as_str).map(String::from);
            let (reference, session_id) = (text("transactionReference"), text("sessionID"));
            state.log.push(PaytefRequest {
                method: call.method.clone(),
                path: call.path.clone(),
                body,
                reference,
                session_id,
                status: answer.status,
                reply: (!answer.drop).then(|| answer.body.clone()),
            });
            let mut events = vec![PaytefEvent::Request {
                path: call.path.clone(),
                status: answer.status,
                dropped: answer.drop,
            }];
            if let Some(tx) = state.api.terminal.current() {
                if before != Some((tx.id, tx.phase)) {
                    events.push(PaytefEvent::from_transaction(tx));
                }
            }
            (answer, events)
        };
        self.changes.bump();
        for event in events {
            let _ = self.events.send(event);
        }
        answer
    }
}

/// A cheap, cloneable handle; the server stops when the last handle is dropped.
#[derive(Clone)]
pub struct PaytefSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    options: PaytefOptions,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
    }
}

impl PaytefSim {
    /// Starts the server. Fails when `options.addr` cannot be bound.
    pub async fn start(options: PaytefOptions) -> anyhow::Result<PaytefSim> {
        let mut terminal = Terminal::new(PaytefScenario::Approved, options.cloud);
        terminal.card = options.card;
        terminal.set_scenario(options.scenario);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                api: Api {
                    terminal,
                    auth: Auth::new(&options.access_key, &options.secret_key),
                    cloud: options.cloud,
                    pinpad: options.pinpad.clone(),
                    drop_next: 0,
                },
                log: Vec::new(),
            }),
            changes: Changes::default(),
            events: broadcast::channel(256).0,
            pace: Pace {
                step: options.step,
                slow: options.slow,
            },
            cancel: CancellationToken::new(),
        });
        let addr = http::listen(shared.clone(), &options.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", options.addr))?;
        Ok(PaytefSim {
            inner: Arc::new(Inner {
                shared,
                addr,
                options,
            }),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub fn is_cloud(&self) -> bool {
        self.inner.options.cloud
    }

    pub fn pinpad(&self) -> &str {
        &self.inner.options.pinpad
    }

    pub fn access_key(&self) -> &str {
        &self.inner.options.access_key
    }

    pub fn secret_key(&self) -> &str {
        &self.inner.options.secret_key
    }

    /// The engine's `.env` lines: `PAYTEF=http://127.0.0.1:<port>` (local), or
    /// `PAYTEF=http://127.0.0.1:<port>?pinpad=<code>` then `PAYTEF_ACCESS_KEY=…` and
    /// `PAYTEF_SECRET_KEY=…` (cloud).
    pub fn config_lines(&self) -> Vec<String> {
        if !self.is_cloud() {
            return vec![format!("PAYTEF={}", self.url())];
        }
        vec![
            format!("PAYTEF={}?pinpad={}", self.url(), self.pinpad()),
            format!("PAYTEF_ACCESS_KEY={}", self.access_key()),
            format!("PAYTEF_SECRET_KEY={}", self.secret_key()),
        ]
    }

    // ---- steering ----------------------------------------------------------------------

    /// The scenario for the next start (`busy` also starts a foreign transaction now,
    /// `token-expired` also expires the tokens issued so far).
    pub fn set_scenario(&self, scenario: PaytefScenario) {
        let event = {
            let mut state = self.shared().lock();
            state.api.terminal.set_scenario(scenario);
            if scenario == PaytefScenario::TokenExpired {
                state.api.auth.expire_all();
            }
            state
                .api
                .terminal
                .current()
                .map(PaytefEvent::from_transaction)
        };
        self.shared().changed(event);
    }

    pub fn scenario(&self) -> PaytefScenario {
        self.shared().lock().api.terminal.scenario
    }

    /// The card the next customer presents.
    pub fn set_card(&self, card: TestCard) {
        self.shared().lock().api.terminal.card = card;
    }

    /// The customer presses cancel on the pinpad. Returns whether a transaction was cancelled
    /// (not once the bank is processing it).
    pub fn customer_cancel(&self) -> bool {
        self.poke(Terminal::customer_cancel)
    }

    /// The terminal restarts: a running transaction is forgotten; the last result stays.
    pub fn restart(&self) {
        self.poke(|t| {
            t.restart();
            true
        });
    }

    /// Expires every token issued so far (cloud): the next call with one gets 403.
    pub fn expire_tokens(&self) {
        self.shared().lock().api.auth.expire_all();
        self.shared().changed(None);
    }

    /// Closes the connection without a reply for the next `n` calls, whatever they are (each
    /// call still takes effect).
    pub fn drop_next_replies(&self, n: u32) {
        self.shared().lock().api.drop_next = n;
    }

    fn poke(&self, change: impl FnOnce(&mut Terminal) -> bool) -> bool {
        let (changed, event) = {
            let mut state = self.shared().lock();
            let changed = change(&mut state.api.terminal);
            let event = state
                .api
                .terminal
                .transactions
                .last()
                .map(PaytefEvent::from_transaction);
            (changed, event)
        };
        self.shared().changed(event);
        changed
    }

    // ---- observing ---------------------------------------------------------------------

    /// Every call received, in order.
    pub fn requests(&self) -> Vec<PaytefRequest> {
        self.shared().lock().log.clone()
    }

    /// The calls to one endpoint path (`/transaction/start`).
    pub fn requests_to(&self, path: &str) -> Vec<PaytefRequest> {
        let state = self.shared().lock();
        state
            .log
            .iter()
            .filter(|r| r.is_for(path))
            .cloned()
            .collect()
    }

    /// How many `/transaction/start` calls arrived (accepted or not): "charged once" is
    /// `transactions()` having one non-foreign entry, "asked once" is this being 1.
    pub fn starts(&self) -> usize {
        self.requests_to("/transaction/start").len()
    }

    /// How many `/pinpad/cancel` calls arrived.
    pub fn cancels(&self) -> usize {
        self.requests_to("/pinpad/cancel").len()
    }

    /// Every transaction the terminal ran or runs (foreign ones included), in start order.
    pub fn transactions(&self) -> Vec<Transaction> {
        self.shared().lock().api.terminal.transactions.clone()
    }

    /// The approved, non-foreign transactions: what the customer was charged (or refunded).
    pub fn approved(&self) -> Vec<Transaction> {
        self.transactions()
            .into_iter()
            .filter(|t| !t.foreign && t.outcome() == Some(Outcome::Approved))
            .collect()
    }

    /// The transaction polls talk about.
    pub fn current(&self) -> Option<Transaction> {
        self.shared().lock().api.terminal.current().cloned()
    }

    /// What getLastResult would answer.
    pub fn last_result(&self) -> Option<Transaction> {
        self.shared().lock().api.terminal.last_result().cloned()
    }

    pub fn state(&self) -> PaytefState {
        match self.current().map(|t| t.phase) {
            None | Some(Phase::Forgotten) => PaytefState::Idle,
            Some(Phase::Running(status)) => PaytefState::Running(status),
            Some(Phase::Finished(outcome)) => PaytefState::Finished(outcome),
        }
    }

    /// Calls and transaction changes as they happen (for the CLI; tests use the waiters).
    pub fn subscribe(&self) -> broadcast::Receiver<PaytefEvent> {
        self.shared().events.subscribe()
    }

    // ---- waiting -----------------------------------------------------------------------

    /// Waits until `check` returns Some, re-checking on every change. Fails after `timeout`.
    pub async fn wait_until<T>(
        &self,
        what: impl Into<String>,
        timeout: Duration,
        mut check: impl FnMut(&PaytefSim) -> Option<T>,
    ) -> Result<T, WaitTimeout> {
        self.shared()
            .changes
            .wait_until(what, timeout, || check(self))
            .await
    }

    /// Waits until `n` start calls have arrived; returns them.
    pub async fn wait_for_starts(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<PaytefRequest>, WaitTimeout> {
        self.wait_for_requests("/transaction/start", n, timeout)
            .await
    }

    /// Waits until `n` calls to `path` have arrived; returns them.
    pub async fn wait_for_requests(
        &self,
        path: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<PaytefRequest>, WaitTimeout> {
        self.wait_until(format!("{n} calls to {path}"), timeout, |sim| {
            let calls = sim.requests_to(path);
            (calls.len() >= n).then_some(calls)
        })
        .await
    }

    /// Waits until `n` transactions have a final outcome (foreign ones included); returns all
    /// transactions with an outcome.
    pub async fn wait_for_finished(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Transaction>, WaitTimeout> {
        self.wait_until(format!("{n} finished transactions"), timeout, |sim| {
            let done: Vec<Transaction> = sim
                .transactions()
                .into_iter()
                .filter(|t| t.outcome().is_some() && !t.is_running())
                .collect();
            (done.len() >= n).then_some(done)
        })
        .await
    }

    /// Waits until the terminal is in `state`.
    pub async fn wait_for_state(
        &self,
        state: PaytefState,
        timeout: Duration,
    ) -> Result<(), WaitTimeout> {
        self.wait_until(format!("state {state:?}"), timeout, |sim| {
            (sim.state() == state).then_some(())
        })
        .await
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }
}

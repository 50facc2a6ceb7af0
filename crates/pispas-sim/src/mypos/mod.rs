//! myPOS terminal simulator speaking IPP (device-protocols.md §2, peers-wave2.md §2): the
//! terminal is the server, on TCP ("ECR mode") or a serial line (a pty), one transaction at a
//! time, stages 1 → 11 → 2 → 3 → 5, the COMPLETE_TX rule (STATUS=20), GET_STATUS, and named
//! scenarios for the failures real integrations meet. This file is the handle tests hold:
//! start, steer, observe, wait. Written from the notes, not from any engine driver.

pub mod codec;
mod flow;
pub mod frames;
pub mod message;
mod methods;
mod observe;
#[cfg(unix)]
mod pty;
mod scenario;
mod session;
pub mod status;
mod tcp;
mod terminal;

pub use message::{Message, SyntaxError};
pub use methods::{parse_amount, UNSUPPORTED as UNSUPPORTED_METHODS};
pub use observe::{IppReply, IppRequest, MyposEvent};
pub use scenario::MyposScenario;
pub use status::Status;
pub use terminal::{Completion, MyposTransaction, TxKind, TxOutcome};

use crate::line::lock;
use crate::payment::TestCard;
use crate::wait::{Changes, WaitTimeout};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use terminal::Terminal;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// The baud rate in the serial config line (public clients use 115200 8N1; a pty ignores it).
pub const BAUD: u32 = 115_200;

/// Where the terminal listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MyposTransport {
    /// TCP on this address (`127.0.0.1:0` picks a port).
    Tcp(String),
    /// A pty whose slave is reachable at this path (Unix).
    Pty(PathBuf),
}

#[derive(Debug, Clone)]
pub struct MyposOptions {
    pub transport: MyposTransport,
    pub scenario: MyposScenario,
    /// How long each pause between frames lasts.
    pub step: Duration,
    /// The slow pause (slow-card's card read).
    pub slow: Duration,
    /// The TIMEOUT (seconds) in in-progress frames; also how long slave mode waits for the
    /// caller's relay.
    pub timeout_secs: u32,
    pub card: TestCard,
}

impl Default for MyposOptions {
    fn default() -> Self {
        MyposOptions {
            transport: MyposTransport::Tcp("127.0.0.1:0".into()),
            scenario: MyposScenario::Approved,
            step: Duration::from_millis(500),
            slow: Duration::from_secs(8),
            timeout_secs: 60,
            card: TestCard::default(),
        }
    }
}

/// What the terminal is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MyposState {
    Idle,
    /// A transaction runs (its SID and the last STAGE sent; a keypad one has stage 0).
    Running {
        sid: String,
        stage: u8,
    },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    pub step: Duration,
    pub slow: Duration,
    pub timeout_secs: u32,
}

pub(crate) struct State {
    pub terminal: Terminal,
    pub requests: Vec<IppRequest>,
    pub replies: Vec<IppReply>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    pub changes: Changes,
    events: broadcast::Sender<MyposEvent>,
    pub pace: Pace,
    pub cancel: CancellationToken,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn changed(&self) {
        self.changes.bump();
    }

    pub(crate) fn event(&self, event: MyposEvent) {
        let _ = self.events.send(event);
        self.changes.bump();
    }

    pub(crate) fn received(&self, request: IppRequest) {
        self.lock().requests.push(request.clone());
        self.event(MyposEvent::Received(request));
    }

    pub(crate) fn sent(&self, transport: &str, message: &Message) {
        let reply = IppReply {
            transport: transport.into(),
            message: message.clone(),
        };
        self.lock().replies.push(reply.clone());
        self.event(MyposEvent::Sent(reply));
    }
}

/// A cheap, cloneable handle; the terminal stops when the last handle is dropped.
#[derive(Clone)]
pub struct MyposSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: Option<SocketAddr>,
    link: Option<PathBuf>,
    #[cfg(unix)]
    _plug: Option<crate::port::Plug>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
    }
}

impl MyposSim {
    /// Starts the terminal. Fails when the TCP address cannot be bound, or the pty cannot be
    /// made (or `--pty` is used on Windows).
    pub async fn start(options: MyposOptions) -> anyhow::Result<MyposSim> {
        let mut terminal = Terminal::new(MyposScenario::Approved);
        terminal.card = options.card;
        terminal.set_scenario(options.scenario);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                terminal,
                requests: Vec::new(),
                replies: Vec::new(),
            }),
            changes: Changes::default(),
            events: broadcast::channel(1024).0,
            pace: Pace {
                step: options.step,
                slow: options.slow,
                timeout_secs: options.timeout_secs,
            },
            cancel: CancellationToken::new(),
        });
        match &options.transport {
            MyposTransport::Tcp(addr) => {
                let local = tcp::listen(shared.clone(), addr)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
                Ok(MyposSim {
                    inner: Arc::new(Inner {
                        shared,
                        addr: Some(local),
                        link: None,
                        #[cfg(unix)]
                        _plug: None,
                    }),
                })
            }
            #[cfg(unix)]
            MyposTransport::Pty(link) => {
                let plug = pty::open(shared.clone(), link)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot make a pty at {}: {e}", link.display()))?;
                Ok(MyposSim {
                    inner: Arc::new(Inner {
                        shared,
                        addr: None,
                        link: Some(link.clone()),
                        _plug: Some(plug),
                    }),
                })
            }
            #[cfg(not(unix))]
            MyposTransport::Pty(_) => {
                anyhow::bail!("pty pairs are Unix-only; on Windows use TCP")
            }
        }
    }

    /// The TCP address (None on a pty).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.inner.addr
    }

    /// The pty link path (None on TCP).
    pub fn link(&self) -> Option<&std::path::Path> {
        self.inner.link.as_deref()
    }

    /// `MYPOS=tcp://127.0.0.1:<port>` or `MYPOS=serial://<path>?baud=115200`.
    pub fn config_line(&self) -> String {
        match (&self.inner.addr, &self.inner.link) {
            (Some(addr), _) => format!("MYPOS=tcp://{addr}"),
            (None, Some(link)) => format!("MYPOS=serial://{}?baud={BAUD}", link.display()),
            (None, None) => "MYPOS=".into(),
        }
    }

    // ---- steering ----------------------------------------------------------------------

    /// The scenario of the next PURCHASE/REFUND (`busy` also starts a keypad transaction now,
    /// `stuck` also plants a transaction waiting for COMPLETE_TX).
    pub fn set_scenario(&self, scenario: MyposScenario) {
        self.shared().lock().terminal.set_scenario(scenario);
        self.shared().changed();
    }

    pub fn scenario(&self) -> MyposScenario {
        self.shared().lock().terminal.scenario
    }

    pub fn set_card(&self, card: TestCard) {
        self.shared().lock().terminal.card = card;
    }

    /// The customer presses cancel: ends a keypad transaction, or an IPP one while it waits
    /// for the card or the PIN (the caller then gets STATUS=13). Returns whether it did.
    pub fn customer_cancel(&self) -> bool {
        let done = self.shared().lock().terminal.customer_cancel();
        self.shared().changed();
        done
    }

    /// The terminal restarts: the running transaction is forgotten and its connection closed.
    pub fn restart(&self) {
        self.shared().lock().terminal.restart();
        self.shared().changed();
    }

    // ---- observing ---------------------------------------------------------------------

    /// Every request frame received, in order (STATUS=2 ones included).
    pub fn requests(&self) -> Vec<IppRequest> {
        self.shared().lock().requests.clone()
    }

    pub fn requests_for(&self, method: &str) -> Vec<IppRequest> {
        let state = self.shared().lock();
        state
            .requests
            .iter()
            .filter(|r| r.method == method)
            .cloned()
            .collect()
    }

    /// How many PURCHASE requests arrived (refused ones included).
    pub fn purchases(&self) -> usize {
        self.requests_for("PURCHASE").len()
    }

    /// SID_ORIGINAL of every COMPLETE_TX received.
    pub fn completes(&self) -> Vec<String> {
        self.originals("COMPLETE_TX")
    }

    /// SID_ORIGINAL of every CANCEL_TX received.
    pub fn cancels(&self) -> Vec<String> {
        self.originals("CANCEL_TX")
    }

    fn originals(&self, method: &str) -> Vec<String> {
        self.requests_for(method)
            .iter()
            .map(|r| r.get("SID_ORIGINAL").unwrap_or("").to_string())
            .collect()
    }

    /// Every frame sent, in order.
    pub fn replies(&self) -> Vec<IppReply> {
        self.shared().lock().replies.clone()
    }

    /// Every transaction (keypad, stuck and forgotten ones included), in start order.
    pub fn transactions(&self) -> Vec<MyposTransaction> {
        self.shared().lock().terminal.transactions.clone()
    }

    /// Transactions whose money moved and stayed moved (approved, not reversed).
    pub fn charged(&self) -> Vec<MyposTransaction> {
        self.transactions()
            .into_iter()
            .filter(|t| !t.foreign && t.outcome.charged())
            .collect()
    }

    /// The transaction waiting for COMPLETE_TX, if any.
    pub fn pending(&self) -> Option<MyposTransaction> {
        self.shared().lock().terminal.pending().cloned()
    }

    pub fn state(&self) -> MyposState {
        match self.shared().lock().terminal.running() {
            None => MyposState::Idle,
            Some(tx) => MyposState::Running {
                sid: tx.sid.clone(),
                stage: tx.stage,
            },
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<MyposEvent> {
        self.shared().events.subscribe()
    }

    // ---- waiting -----------------------------------------------------------------------

    /// Waits until `check` returns Some, re-checking on every change. Fails after `timeout`.
    pub async fn wait_until<T>(
        &self,
        what: impl Into<String>,
        timeout: Duration,
        mut check: impl FnMut(&MyposSim) -> Option<T>,
    ) -> Result<T, WaitTimeout> {
        self.shared()
            .changes
            .wait_until(what, timeout, || check(self))
            .await
    }

    /// Waits until `n` PURCHASE requests have arrived.
    pub async fn wait_for_purchases(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<IppRequest>, WaitTimeout> {
        self.wait_for_requests("PURCHASE", n, timeout).await
    }

    pub async fn wait_for_requests(
        &self,
        method: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<IppRequest>, WaitTimeout> {
        self.wait_until(format!("{n} {method} requests"), timeout, |sim| {
            let found = sim.requests_for(method);
            (found.len() >= n).then_some(found)
        })
        .await
    }

    /// Waits until `n` COMPLETE_TX requests have arrived; returns their SID_ORIGINALs.
    pub async fn wait_for_completes(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<String>, WaitTimeout> {
        self.wait_until(format!("{n} COMPLETE_TX"), timeout, |sim| {
            let found = sim.completes();
            (found.len() >= n).then_some(found)
        })
        .await
    }

    /// Waits until the terminal runs no transaction.
    pub async fn wait_for_idle(&self, timeout: Duration) -> Result<(), WaitTimeout> {
        self.wait_until("an idle terminal", timeout, |sim| {
            (sim.state() == MyposState::Idle).then_some(())
        })
        .await
    }

    /// Waits until a frame with this STAGE and STATUS has been sent; returns it.
    pub async fn wait_for_reply(
        &self,
        stage: u8,
        status: Status,
        timeout: Duration,
    ) -> Result<Message, WaitTimeout> {
        let (stage, code) = (stage.to_string(), status.code().to_string());
        self.wait_until(
            format!("a STAGE={stage} STATUS={code} frame"),
            timeout,
            |sim| {
                sim.replies()
                    .into_iter()
                    .map(|r| r.message)
                    .find(|m| m.get("STAGE") == Some(&stage) && m.get("STATUS") == Some(&code))
            },
        )
        .await
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }
}

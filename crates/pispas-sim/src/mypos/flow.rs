//! A PURCHASE or REFUND on one connection: refuse it (BUSY, NOT COMPLETED LAST TX, bad
//! amount) or begin it, then walk the scenario's plan — frames, pauses that a customer cancel
//! or a restart can cut short, the outcome, a lost final frame, the slave-mode relay. The only
//! place the myPOS simulator waits on a clock; tests wait for changes instead.

use super::scenario::{Cancel, Ending, Step, Wait};
use super::session::{Conn, Incoming, Next};
use super::status::Status;
use super::terminal::{Interrupt, TxKind};
use super::{frames, methods, IppRequest, Shared};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

pub(crate) async fn transaction<S>(
    shared: &Arc<Shared>,
    conn: &mut Conn<S>,
    message: &super::message::Message,
    sid: &str,
    kind: TxKind,
) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let method = kind.method();
    let parsed = methods::tx_request(message, sid, kind);
    let begun = {
        let mut state = shared.lock();
        let terminal = &mut state.terminal;
        if terminal.is_busy() {
            Err(Status::TerminalBusy)
        } else if terminal.pending().is_some() {
            Err(Status::NotCompletedLastTx)
        } else {
            let pin = terminal.card.entry.needs_pin();
            let plan = terminal.scenario.plan(pin);
            parsed.and_then(|r| terminal.begin(r)).map(|i| (i, plan))
        }
    };
    shared.changed();
    let (index, plan) = match begun {
        Ok(begun) => begun,
        Err(status) => {
            conn.send(shared, frames::refusal(method, sid, status))
                .await;
            return Next::Continue;
        }
    };
    let timeout = shared.pace.timeout_secs;
    for step in plan {
        let interrupt = shared.lock().terminal.interrupted(index);
        if let Some(interrupt) = interrupt {
            return interrupted(shared, conn, method, sid, index, interrupt).await;
        }
        match step {
            Step::Send(stage, status) => {
                shared.lock().terminal.stage_sent(index, stage);
                shared.changed();
                conn.send(
                    shared,
                    frames::progress(method, sid, stage, status, timeout),
                )
                .await;
            }
            Step::Pause(wait, cancel) => {
                shared
                    .lock()
                    .terminal
                    .set_cancellable(cancel == Cancel::Allowed);
                let interrupt = pause(shared, index, wait).await;
                shared.lock().terminal.set_cancellable(false);
                if let Some(interrupt) = interrupt {
                    return interrupted(shared, conn, method, sid, index, interrupt).await;
                }
            }
            Step::End(ending) => {
                finish(shared, conn, method, sid, index, ending).await;
                return Next::Continue;
            }
            Step::LoseReply(ending) => {
                shared.lock().terminal.end(index, ending);
                shared.changed();
                return Next::Close;
            }
            Step::Restart => {
                shared.lock().terminal.restart();
                shared.changed();
                return Next::Close;
            }
            Step::Relay => {
                conn.send(shared, frames::process(sid, timeout)).await;
                let relayed = relay(shared, conn, Duration::from_secs(timeout.into())).await;
                let ending = if relayed {
                    Ending::Approved
                } else {
                    Ending::RelayFailed
                };
                finish(shared, conn, method, sid, index, ending).await;
                return Next::Continue;
            }
        }
    }
    Next::Continue
}

async fn finish<S>(
    shared: &Shared,
    conn: &mut Conn<S>,
    method: &str,
    sid: &str,
    index: usize,
    ending: Ending,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let tx = {
        let mut state = shared.lock();
        state.terminal.end(index, ending);
        state.terminal.transactions[index].clone()
    };
    shared.changed();
    conn.send(shared, frames::final_frame(method, sid, &tx, ending))
        .await;
}

/// A customer cancel ends the request with STATUS=13 at the stage reached; a restart hangs up.
async fn interrupted<S>(
    shared: &Shared,
    conn: &mut Conn<S>,
    method: &str,
    sid: &str,
    index: usize,
    interrupt: Interrupt,
) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    match interrupt {
        Interrupt::Restarted => Next::Close,
        Interrupt::Cancelled => {
            let tx = shared.lock().terminal.transactions[index].clone();
            conn.send(
                shared,
                frames::final_frame(method, sid, &tx, Ending::UserCancel),
            )
            .await;
            Next::Continue
        }
    }
}

/// Waits `wait`, or less when the transaction is cancelled or forgotten meanwhile (or the
/// simulator stops, which counts as a restart).
async fn pause(shared: &Shared, index: usize, wait: Wait) -> Option<Interrupt> {
    let duration = match wait {
        Wait::Steps(n) => Some(shared.pace.step * n),
        Wait::Slow => Some(shared.pace.slow),
        Wait::Forever => None,
    };
    let deadline = duration.map(|d| tokio::time::Instant::now() + d);
    let mut changes = shared.changes.subscribe();
    loop {
        changes.mark_unchanged();
        let interrupt = shared.lock().terminal.interrupted(index);
        if interrupt.is_some() {
            return interrupt;
        }
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shared.cancel.cancelled() => return Some(Interrupt::Restarted),
            _ = timer => return None,
            _ = changes.changed() => {}
        }
    }
}

/// Slave mode: waits for the caller's METHOD=PROCESS (its DATA is the acquirer's answer).
/// Other requests meanwhile get BUSY. False when nothing comes in `timeout` or the peer leaves.
async fn relay<S>(shared: &Shared, conn: &mut Conn<S>, timeout: Duration) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let incoming = tokio::select! {
            _ = shared.cancel.cancelled() => return false,
            _ = tokio::time::sleep_until(deadline) => return false,
            incoming = conn.next() => incoming,
        };
        match incoming {
            Incoming::Message(m) => {
                shared.received(IppRequest::from_message(&conn.transport, &m));
                if m.method() == "PROCESS" {
                    return true;
                }
                let sid = m.get("SID").unwrap_or("").to_string();
                conn.send(
                    shared,
                    frames::refusal(m.method(), &sid, Status::TerminalBusy),
                )
                .await;
            }
            Incoming::Syntax { .. } | Incoming::BadLength(_) | Incoming::Eof => return false,
        }
    }
}

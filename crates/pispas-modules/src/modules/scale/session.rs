//! One connected session with a scale: one operation at a time on the port (READ, a command, or a
//! poll for subscribers), frames decoded as they arrive, and the rules for what counts as a
//! sellable weight.
//!
//! Generic over the transport, so tests drive it over `tokio::io::duplex`. It returns when the
//! link breaks; reconnecting is the caller's job (`driver.rs`).

use super::codec::{Decode, Reading, ScaleCommand, ScaleFrame, ScaleProtocol, ScaleStatus};
use super::driver::{Command, ScaleError, ScaleShared};
use crate::transport::DeviceIo;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Pause before asking again while the weight moves (the 8217 wants ~0.2 s between commands).
const RETRY_GAP: Duration = Duration::from_millis(200);
/// How long an Adam or Dibal scale must stay silent before its last weight counts as current.
const SILENCE_WINDOW: Duration = Duration::from_secs(1);
/// How long to wait for an ACK/NAK after tare or zero before taking silence as done.
const COMMAND_WAIT: Duration = Duration::from_millis(500);

/// What came down the line that the configured protocol could not read.
#[derive(Default)]
struct Line {
    /// A frame of the configured protocol arrived since the port opened: the scale speaks it.
    heard: bool,
    /// Bytes dropped as unreadable since the last frame.
    foreign: usize,
    /// The last of those bytes, to say which protocol they look like.
    sample: Vec<u8>,
    /// When unreadable bytes last arrived.
    last_foreign: Option<Instant>,
    /// The log already said so for this connection.
    warned: bool,
}

/// Unreadable bytes with no frame in between after which the log says so (once per connection).
const WARN_AFTER: usize = 64;

/// How many unreadable bytes are kept to name the protocol they look like.
const SAMPLE: usize = 256;

impl Line {
    fn dropped(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.last_foreign = Some(Instant::now());
        self.foreign = self.foreign.saturating_add(bytes.len());
        self.sample.extend_from_slice(bytes);
        let extra = self.sample.len().saturating_sub(SAMPLE);
        self.sample.drain(..extra);
    }

    /// Publishes the count for STATUS and says it once in the log.
    fn report(&mut self, protocol: ScaleProtocol, sh: &ScaleShared) {
        sh.unreadable
            .store(self.foreign, std::sync::atomic::Ordering::Relaxed);
        if self.foreign >= WARN_AFTER && !self.warned {
            self.warned = true;
            let looks_like = looks_like(protocol, &self.sample).unwrap_or("none known");
            tracing::warn!(scale = %sh.config.name, protocol = protocol.name(), bytes = self.foreign, looks_like, "the scale sends data its configured protocol cannot read: check protocol= in its SCALE key (protocol=auto detects it)");
        }
    }

    fn framed(&mut self) {
        self.heard = true;
        self.foreign = 0;
        self.sample.clear();
    }

    /// No unreadable bytes came since `since`: the line was really quiet.
    fn quiet_since(&self, since: Instant) -> bool {
        self.last_foreign.is_none_or(|at| at < since)
    }

    /// Why a read that began at `began` got no weight in time: silence, or bytes of another
    /// protocol.
    fn no_answer(&self, protocol: ScaleProtocol, began: Instant, waited: Duration) -> ScaleError {
        if self.quiet_since(began) {
            return ScaleError::NoAnswer {
                waited,
                protocol: protocol.name(),
            };
        }
        ScaleError::Foreign {
            waited,
            protocol: protocol.name(),
            bytes: self.foreign,
            looks_like: looks_like(protocol, &self.sample),
        }
    }
}

/// The first other protocol that reads a weight from `sample`.
fn looks_like(configured: ScaleProtocol, sample: &[u8]) -> Option<&'static str> {
    ScaleProtocol::ALL
        .into_iter()
        .filter(|p| *p != configured)
        .find(|p| {
            let mut buf = sample.to_vec();
            let mut scratch = Line::default();
            std::iter::from_fn(|| next_frame(*p, &mut buf, &mut scratch))
                .any(|f| matches!(f, ScaleFrame::Weight(_)))
        })
        .map(|p| p.name())
}

/// Why the last answer was not a sellable weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Motion,
    Overload,
    UnderZero,
    /// Dialog NAK: no load, moving, under zero or overloaded (the protocol does not say which).
    Refused,
}

enum Op {
    Read {
        reply: oneshot::Sender<Result<(Reading, bool), ScaleError>>,
        until: Instant,
        timeout: Duration,
        awaiting: bool,
        fault: Option<Fault>,
        deadline: Instant,
    },
    Command {
        reply: oneshot::Sender<Result<bool, ScaleError>>,
        deadline: Instant,
    },
    Poll {
        deadline: Instant,
    },
}

impl Op {
    fn deadline(&self) -> Instant {
        match self {
            Op::Read { deadline, .. } | Op::Command { deadline, .. } | Op::Poll { deadline } => {
                *deadline
            }
        }
    }
}

/// How long the scale may take to answer one request.
fn reply_timeout(protocol: ScaleProtocol) -> Duration {
    match protocol {
        // Silent protocols: ask again soon, so a weight that settles is caught within the
        // silence window.
        ScaleProtocol::Adam | ScaleProtocol::Dibal => Duration::from_millis(300),
        _ => Duration::from_secs(1),
    }
}

/// Serves until the link breaks or shutdown; returns why it ended.
pub(super) async fn serve<T: DeviceIo>(
    io: T,
    protocol: ScaleProtocol,
    sh: &ScaleShared,
    rx: &mut mpsc::Receiver<Command>,
    shutdown: &CancellationToken,
) -> String {
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    let mut op: Option<Op> = None;
    let mut line = Line::default();
    // A new connection starts with nothing unread (STATUS would show the last one's count).
    line.report(protocol, sh);
    let polled = !protocol.is_streaming();
    let mut poll = tokio::time::interval(sh.config.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let deadline = op.as_ref().map(Op::deadline);
        let watching = polled && op.is_none() && sh.bus.watchers(&sh.topic) > 0;
        let step: Result<(), String> = tokio::select! {
            r = rd.read(&mut chunk) => match r {
                Ok(0) => Err("the port closed".to_string()),
                Err(e) => Err(format!("read failed: {e}")),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(frame) = next_frame(protocol, &mut buf, &mut line) {
                        sh.observe(&frame);
                        if let Some(current) = op.take() {
                            op = on_frame(current, frame, protocol);
                        }
                    }
                    line.report(protocol, sh);
                    Ok(())
                }
            },
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                match op.take() {
                    Some(current) => on_deadline(current, protocol, sh, &line, &mut wr).await.map(|next| op = next),
                    None => Ok(()),
                }
            }
            cmd = rx.recv(), if op.is_none() => match cmd {
                None => return "scale removed from the configuration".into(),
                Some(c) => start(c, protocol, &mut wr).await.map(|next| op = next),
            },
            _ = poll.tick(), if watching => {
                let request = protocol.weight_request().unwrap_or_default();
                op = Some(Op::Poll { deadline: Instant::now() + reply_timeout(protocol) });
                write(&mut wr, &request).await
            }
            _ = sh.bus.watchers_changed(), if polled && op.is_none() && !watching => Ok(()),
            _ = shutdown.cancelled(), if op.is_none() => return "service stopping".into(),
        };
        if let Err(why) = step {
            if let Some(current) = op.take() {
                fail(current, ScaleError::Lost(why.clone()));
            }
            return why;
        }
    }
}

/// Decodes the next frame from the front of `buf`, dropping garbage (counted in `line`).
fn next_frame(protocol: ScaleProtocol, buf: &mut Vec<u8>, line: &mut Line) -> Option<ScaleFrame> {
    loop {
        match protocol.decode(buf) {
            Decode::Incomplete => {
                if buf.len() > 4096 {
                    line.dropped(buf);
                    buf.clear();
                }
                return None;
            }
            Decode::Skip { consumed } => {
                line.dropped(&buf[..consumed.min(buf.len())]);
                buf.drain(..consumed.min(buf.len()));
            }
            Decode::Frame { consumed, frame } => {
                line.framed();
                buf.drain(..consumed.min(buf.len()));
                return Some(frame);
            }
        }
    }
}

async fn write<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    wr.write_all(bytes)
        .await
        .map_err(|e| format!("write failed: {e}"))?;
    wr.flush().await.map_err(|e| format!("write failed: {e}"))
}

async fn start<W: AsyncWrite + Unpin>(
    cmd: Command,
    protocol: ScaleProtocol,
    wr: &mut W,
) -> Result<Option<Op>, String> {
    let now = Instant::now();
    match cmd {
        Command::Read { timeout, reply } => {
            let until = now + timeout;
            let request = protocol.weight_request().unwrap_or_default();
            write(wr, &request).await?;
            let deadline = if protocol.is_streaming() {
                until
            } else {
                (now + reply_timeout(protocol)).min(until)
            };
            Ok(Some(Op::Read {
                reply,
                until,
                timeout,
                awaiting: true,
                fault: None,
                deadline,
            }))
        }
        Command::Run { command, reply } => match protocol.command(command) {
            None => {
                let _ = reply.send(Err(ScaleError::Unsupported {
                    protocol: protocol.name(),
                    command: command_name(command),
                }));
                Ok(None)
            }
            Some(bytes) => {
                write(wr, &bytes).await?;
                Ok(Some(Op::Command {
                    reply,
                    deadline: now + COMMAND_WAIT,
                }))
            }
        },
    }
}

pub(super) fn command_name(c: ScaleCommand) -> &'static str {
    match c {
        ScaleCommand::Tare => "TARE",
        ScaleCommand::Zero => "ZERO",
        ScaleCommand::ClearTare => "CLEAR_TARE",
    }
}

fn status_fault(s: &ScaleStatus) -> Option<Fault> {
    if s.overload {
        Some(Fault::Overload)
    } else if s.under_zero {
        Some(Fault::UnderZero)
    } else if s.motion || s.bad_command {
        Some(Fault::Motion)
    } else {
        None
    }
}

fn reading_fault(r: &Reading) -> Option<Fault> {
    if r.overload {
        Some(Fault::Overload)
    } else if r.under_zero {
        Some(Fault::UnderZero)
    } else if !r.stable {
        Some(Fault::Motion)
    } else {
        None
    }
}

fn on_frame(op: Op, frame: ScaleFrame, protocol: ScaleProtocol) -> Option<Op> {
    match op {
        Op::Poll { .. } => match frame {
            ScaleFrame::Weight(_) | ScaleFrame::Status(_) | ScaleFrame::Nak => None,
            _ => Some(op),
        },
        Op::Command { reply, deadline } => match frame {
            ScaleFrame::Ack => {
                let _ = reply.send(Ok(true));
                None
            }
            ScaleFrame::Nak => {
                let _ = reply.send(Err(ScaleError::Refused));
                None
            }
            ScaleFrame::Status(s) if s.bad_command => {
                let _ = reply.send(Err(ScaleError::Refused));
                None
            }
            _ => Some(Op::Command { reply, deadline }),
        },
        Op::Read {
            reply,
            until,
            timeout,
            awaiting,
            fault,
            deadline,
        } => {
            let this: Fault = match frame {
                ScaleFrame::Weight(r) => match reading_fault(&r) {
                    None => {
                        let _ = reply.send(Ok((r, false)));
                        return None;
                    }
                    Some(f) => f,
                },
                // A status without a fault flag still is not a weight: ask again.
                ScaleFrame::Status(s) => status_fault(&s).unwrap_or(Fault::Motion),
                ScaleFrame::Nak => Fault::Refused,
                // Not an answer to "what do you weigh": keep waiting as before.
                ScaleFrame::Ack | ScaleFrame::Echo(_) => {
                    return Some(Op::Read {
                        reply,
                        until,
                        timeout,
                        awaiting,
                        fault,
                        deadline,
                    });
                }
            };
            // Overload and under zero are not transient like motion: say so now rather than
            // make the cashier wait out TIMEOUT.
            if matches!(this, Fault::Overload | Fault::UnderZero) {
                let _ = reply.send(Err(fault_error(this, timeout)));
                return None;
            }
            let fault = Some(this);
            let now = Instant::now();
            if protocol.is_streaming() {
                return Some(Op::Read {
                    reply,
                    until,
                    timeout,
                    awaiting: true,
                    fault,
                    deadline: until,
                });
            }
            if now >= until {
                let _ = reply.send(Err(fault_error(this, timeout)));
                return None;
            }
            Some(Op::Read {
                reply,
                until,
                timeout,
                awaiting: false,
                fault,
                deadline: (now + RETRY_GAP).min(until),
            })
        }
    }
}

async fn on_deadline<W: AsyncWrite + Unpin>(
    op: Op,
    protocol: ScaleProtocol,
    sh: &ScaleShared,
    line: &Line,
    wr: &mut W,
) -> Result<Option<Op>, String> {
    let now = Instant::now();
    match op {
        Op::Poll { .. } => Ok(None),
        Op::Command { reply, .. } => {
            // No ACK/NAK in this protocol (8217, CAS, Adam): sent, not confirmed.
            let _ = reply.send(Ok(false));
            Ok(None)
        }
        // Adam and Dibal scales say nothing rather than repeat an unchanged weight, and also say
        // nothing while the weight moves. After a second of silence (or TIMEOUT, if shorter) the
        // last weight is taken as still current; until then keep asking, so a new weight that
        // settles within that second is what gets sold.
        Op::Read {
            reply,
            until,
            timeout,
            awaiting: true,
            fault: None,
            ..
        } if silence_means_unchanged(protocol)
            && now >= (until - timeout) + SILENCE_WINDOW.min(timeout)
            // Silence is no bytes at all: another protocol's frames are not "unchanged".
            && line.quiet_since(now - SILENCE_WINDOW.min(timeout))
            && ((protocol == ScaleProtocol::Adam && line.heard) || sh.held().is_some()) =>
        {
            match sh.held() {
                Some(r) => {
                    let _ = reply.send(Ok((r, true)));
                }
                None if protocol == ScaleProtocol::Adam => {
                    // Adam scales are silent with an empty pan (this one has answered as an
                    // Adam scale since the port opened: silence from a line that never did is
                    // no weight at all).
                    let zero = Reading {
                        grams: 0,
                        unit: "kg",
                        stable: true,
                        net: false,
                        overload: false,
                        under_zero: false,
                        price_cents: None,
                        total_cents: None,
                    };
                    let _ = reply.send(Ok((zero, true)));
                }
                None => {
                    let _ = reply.send(Err(line.no_answer(protocol, until - timeout, timeout)));
                }
            }
            Ok(None)
        }
        Op::Read {
            reply,
            until,
            timeout,
            fault,
            ..
        } => {
            if now >= until || protocol.is_streaming() {
                let error = match fault {
                    None => line.no_answer(protocol, until - timeout, timeout),
                    Some(f) => fault_error(f, timeout),
                };
                let _ = reply.send(Err(error));
                return Ok(None);
            }
            write(wr, &protocol.weight_request().unwrap_or_default()).await?;
            let deadline = (now + reply_timeout(protocol)).min(until);
            Ok(Some(Op::Read {
                reply,
                until,
                timeout,
                awaiting: true,
                fault,
                deadline,
            }))
        }
    }
}

/// Protocols that stay silent rather than repeat an unchanged weight.
fn silence_means_unchanged(protocol: ScaleProtocol) -> bool {
    matches!(protocol, ScaleProtocol::Adam | ScaleProtocol::Dibal)
}

/// The error for a fault the scale reported.
fn fault_error(fault: Fault, timeout: Duration) -> ScaleError {
    match fault {
        Fault::Motion => ScaleError::Unstable(timeout),
        Fault::Refused => ScaleError::NotWeighable(timeout),
        Fault::Overload => ScaleError::Overload,
        Fault::UnderZero => ScaleError::UnderZero,
    }
}

fn fail(op: Op, error: ScaleError) {
    match op {
        Op::Read { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        Op::Command { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        Op::Poll { .. } => {}
    }
}

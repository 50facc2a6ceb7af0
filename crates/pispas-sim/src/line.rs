//! The serial line of a simulated device (scale, RFID reader): a log of what went each way,
//! an outbox for bytes pushed from outside (garbage, raw frames), and the session loop that
//! runs a `Device` on an open port: replies to what the host sends, unsolicited frames on a
//! timer when the device streams, and outbox bytes. Protocol details live in the devices.

use crate::port::{BoxPort, Session, SessionEnd};
use crate::wait::{Changes, WaitTimeout};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What crossed the line since start (or `clear`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineLog {
    /// Bytes the host sent to the device.
    pub received: Vec<u8>,
    /// Bytes the device sent to the host.
    pub sent: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct Line {
    outbox: Mutex<Vec<u8>>,
    wake: Notify,
    log: Mutex<LineLog>,
    pub changes: Changes,
}

impl Line {
    /// Queues bytes to send as they are, as soon as the line is plugged.
    pub(crate) fn send(&self, bytes: &[u8]) {
        lock(&self.outbox).extend_from_slice(bytes);
        self.wake.notify_one();
    }

    /// Makes the session re-check its device (e.g. a tag was presented).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn log(&self) -> LineLog {
        lock(&self.log).clone()
    }

    pub(crate) fn clear(&self) {
        *lock(&self.log) = LineLog::default();
        self.changes.bump();
    }

    fn record(&self, received: &[u8], sent: &[u8]) {
        let mut log = lock(&self.log);
        log.received.extend_from_slice(received);
        log.sent.extend_from_slice(sent);
        drop(log);
        self.changes.bump();
    }

    /// Waits until the log satisfies `check`.
    pub(crate) async fn wait_for(
        &self,
        what: String,
        timeout: Duration,
        check: impl Fn(&LineLog) -> bool,
    ) -> Result<LineLog, WaitTimeout> {
        self.changes
            .wait_until(what, timeout, || {
                let log = lock(&self.log);
                check(&log).then(|| log.clone())
            })
            .await
    }
}

/// A std lock that survives poisoning (a panicking test thread), keeping the data.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A device's behaviour on the line.
pub(crate) trait Device: Send + 'static {
    /// Bytes from the host; replies go into `out`.
    fn receive(&mut self, input: &[u8], out: &mut Vec<u8>);
    /// For streaming devices, the time between unsolicited frames while `tick` has something
    /// to send; None while silent.
    fn period(&self) -> Option<Duration>;
    /// One unsolicited frame into `out` (may leave it empty).
    fn tick(&mut self, out: &mut Vec<u8>);
}

/// Makes a fresh device for each plug-in (a replugged device starts from power-on).
pub(crate) type MakeDevice = Box<dyn Fn() -> Box<dyn Device> + Send + Sync>;

pub(crate) struct DeviceSession {
    pub line: Arc<Line>,
    pub make: MakeDevice,
}

impl Session for DeviceSession {
    fn run(
        &self,
        port: BoxPort,
        cancel: CancellationToken,
    ) -> Pin<Box<dyn Future<Output = SessionEnd> + Send + 'static>> {
        Box::pin(run(self.line.clone(), (self.make)(), port, cancel))
    }
}

async fn run(
    line: Arc<Line>,
    mut device: Box<dyn Device>,
    mut port: BoxPort,
    cancel: CancellationToken,
) -> SessionEnd {
    let mut buf = vec![0u8; 4096];
    let mut next_tick: Option<tokio::time::Instant> = None;
    loop {
        let period = device.period();
        if period.is_none() {
            next_tick = None;
        } else if next_tick.is_none() {
            next_tick = Some(tokio::time::Instant::now());
        }
        let tick_at = next_tick.unwrap_or_else(tokio::time::Instant::now);
        let mut out = Vec::new();
        let mut input_len = 0;
        tokio::select! {
            () = cancel.cancelled() => return SessionEnd::Cancelled,
            read = port.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => return SessionEnd::Closed,
                    Ok(n) => n,
                };
                input_len = n;
                device.receive(&buf[..n], &mut out);
            }
            () = tokio::time::sleep_until(tick_at), if next_tick.is_some() => {
                next_tick = period.map(|p| tick_at + p);
                device.tick(&mut out);
                // Nobody may be listening: a real line loses what nobody reads.
                port.discard_unread();
            }
            () = line.wake.notified() => {
                out.append(&mut lock(&line.outbox));
            }
        }
        if !out.is_empty() && port.write_all(&out).await.is_err() {
            return SessionEnd::Closed;
        }
        if input_len > 0 || !out.is_empty() {
            line.record(&buf[..input_len], &out);
        }
    }
}

//! EM4100 serial RFID reader simulator (device-protocols.md §5): while a tag is held on the
//! reader its frame repeats every 100 ms, as real readers do; remove stops it. Also a
//! one-off bad-checksum frame, garbage, and unplug/replug at the same path.

pub mod frame;

pub use frame::{RfidProtocol, TagId};

use crate::line::{lock, Device, DeviceSession, Line, LineLog};
use crate::port::{Plug, PortSpec};
use crate::wait::WaitTimeout;
use anyhow::Context;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a held tag's frame repeats.
pub const REPEAT: Duration = Duration::from_millis(100);

/// Garbage the `garbage` command sends: a stray STX, non-hex characters, a stray ETX.
pub const GARBAGE: &[u8] = b"\x02ZZ\xFF\x00\x03#\r\n";

#[derive(Clone)]
pub struct RfidSim {
    inner: Arc<Inner>,
}

struct Inner {
    protocol: RfidProtocol,
    tag: Arc<Mutex<Option<TagId>>>,
    line: Arc<Line>,
    plug: Plug,
    cancel: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

struct Reader {
    protocol: RfidProtocol,
    tag: Arc<Mutex<Option<TagId>>>,
}

impl Device for Reader {
    fn receive(&mut self, _input: &[u8], _out: &mut Vec<u8>) {}

    fn period(&self) -> Option<Duration> {
        lock(&self.tag).is_some().then_some(REPEAT)
    }

    fn tick(&mut self, out: &mut Vec<u8>) {
        if let Some(tag) = *lock(&self.tag) {
            out.extend(frame::frame(self.protocol, tag, false));
        }
    }
}

impl RfidSim {
    /// A reader on a new pty behind `link`. Fails when the pty or link cannot be made.
    #[cfg(unix)]
    pub async fn start_pty(
        protocol: RfidProtocol,
        link: &std::path::Path,
    ) -> anyhow::Result<RfidSim> {
        Self::start(protocol, PortSpec::Pty(link.to_path_buf())).await
    }

    /// A reader on a real serial port (9600 8N1). Fails when it cannot be opened.
    pub async fn start_port(protocol: RfidProtocol, port: &str) -> anyhow::Result<RfidSim> {
        Self::start(
            protocol,
            PortSpec::Serial {
                name: port.into(),
                baud: 9600,
            },
        )
        .await
    }

    /// A reader on any `PortSpec`. Fails when the line cannot be opened.
    pub async fn start(protocol: RfidProtocol, spec: PortSpec) -> anyhow::Result<RfidSim> {
        let tag = Arc::new(Mutex::new(None));
        let line = Arc::new(Line::default());
        let for_reader = tag.clone();
        let make = Box::new(move || {
            Box::new(Reader {
                protocol,
                tag: for_reader.clone(),
            }) as Box<dyn Device>
        });
        let cancel = CancellationToken::new();
        let session = Arc::new(DeviceSession {
            line: line.clone(),
            make,
        });
        let plug = Plug::new(spec, session, cancel.clone());
        plug.plug()
            .await
            .with_context(|| format!("cannot open {}", plug.spec().device_path()))?;
        Ok(RfidSim {
            inner: Arc::new(Inner {
                protocol,
                tag,
                line,
                plug,
                cancel,
            }),
        })
    }

    pub fn protocol(&self) -> RfidProtocol {
        self.inner.protocol
    }

    pub fn device_path(&self) -> String {
        self.inner.plug.spec().device_path()
    }

    /// The engine configuration line, e.g. `RFID=serial:///tmp/pispas-rfid?protocol=em4100`.
    pub fn config_line(&self) -> String {
        format!("RFID=serial://{}?protocol=em4100", self.device_path())
    }

    /// Holds `tag` on the reader: its frame is sent now and every 100 ms until `remove`.
    pub fn present(&self, tag: TagId) {
        *lock(&self.inner.tag) = Some(tag);
        self.inner.line.wake();
    }

    /// Takes the tag away: the frames stop.
    pub fn remove(&self) {
        *lock(&self.inner.tag) = None;
        self.inner.line.wake();
    }

    pub fn held(&self) -> Option<TagId> {
        *lock(&self.inner.tag)
    }

    /// Sends one frame for `tag` with a wrong checksum.
    pub fn send_bad_checksum(&self, tag: TagId) {
        self.inner
            .line
            .send(&frame::frame(self.inner.protocol, tag, true));
    }

    pub fn send_garbage(&self) {
        self.inner.line.send(GARBAGE);
    }

    pub fn send_raw(&self, bytes: &[u8]) {
        self.inner.line.send(bytes);
    }

    /// Pulls the cable (the link disappears; the held tag stays held for after `replug`).
    pub async fn unplug(&self) {
        self.inner.plug.unplug().await;
    }

    /// Plugs a new line in at the same path. Fails when it cannot be opened.
    pub async fn replug(&self) -> anyhow::Result<()> {
        self.inner.plug.replug().await.context("replug")
    }

    pub fn log(&self) -> LineLog {
        self.inner.line.log()
    }

    pub fn clear_log(&self) {
        self.inner.line.clear();
    }

    /// Waits until at least `n` complete frames (ETX-terminated) have been sent in total.
    pub async fn wait_for_frames(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<LineLog, WaitTimeout> {
        self.inner
            .line
            .wait_for(format!("{n} frame(s)"), timeout, |l| {
                l.sent.iter().filter(|b| **b == 0x03).count() >= n
            })
            .await
    }
}

//! Serial scale simulator (device-protocols.md §4): a scale with a settable load, stability,
//! overload, under-zero and tare, speaking one protocol on a pty (or a real serial port), and
//! a cable you can pull (`unplug`) and plug back in at the same path (`replug`).

pub mod protocol;
pub mod state;

pub use protocol::PROTOCOLS;
pub use state::ScaleState;

use crate::line::{lock, Device, DeviceSession, Line, LineLog};
use crate::port::{Plug, PortSpec};
use crate::wait::WaitTimeout;
use anyhow::Context;
use protocol::Protocol;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Garbage the `garbage` command puts on the line: bytes no protocol frames, with a stray
/// STX and line ends so a decoder must resynchronise.
pub const GARBAGE: &[u8] = b"\xFF\x00#x\x02?1\x7F\xFE\r\n\x03zz";

/// A cheap, cloneable handle; the device stops when the last handle is dropped.
#[derive(Clone)]
pub struct ScaleSim {
    inner: Arc<Inner>,
}

struct Inner {
    protocol: String,
    scale: Arc<Mutex<ScaleState>>,
    line: Arc<Line>,
    plug: Plug,
    cancel: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

struct ScaleDevice {
    protocol: Box<dyn Protocol>,
    scale: Arc<Mutex<ScaleState>>,
}

impl ScaleDevice {
    fn finish(&self, scale: &mut ScaleState, out: &mut [u8]) {
        if scale.corrupt_next && !out.is_empty() {
            scale.corrupt_next = false;
            self.protocol.corrupt(out);
        }
    }
}

impl Device for ScaleDevice {
    fn receive(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let scale = self.scale.clone();
        let mut scale = lock(&scale);
        self.protocol.receive(input, &mut scale, out);
        self.finish(&mut scale, out);
    }

    fn period(&self) -> Option<Duration> {
        self.protocol.period()
    }

    fn tick(&mut self, out: &mut Vec<u8>) {
        let scale = self.scale.clone();
        let mut scale = lock(&scale);
        self.protocol.frame(&scale, out);
        self.finish(&mut scale, out);
    }
}

impl ScaleSim {
    /// A scale speaking `protocol` (one of `PROTOCOLS`) on a new pty behind `link`.
    /// Fails for an unknown protocol, or when the pty or link cannot be made.
    #[cfg(unix)]
    pub async fn start_pty(protocol: &str, link: &std::path::Path) -> anyhow::Result<ScaleSim> {
        Self::start(protocol, PortSpec::Pty(link.to_path_buf())).await
    }

    /// A scale on a real serial port (`COM5`, `/dev/ttyUSB1`), e.g. one end of a null-modem
    /// pair. Fails for an unknown protocol or when the port cannot be opened.
    pub async fn start_port(protocol: &str, port: &str, baud: u32) -> anyhow::Result<ScaleSim> {
        Self::start(
            protocol,
            PortSpec::Serial {
                name: port.into(),
                baud,
            },
        )
        .await
    }

    /// A scale on any `PortSpec`. Fails as `start_pty` / `start_port`.
    pub async fn start(protocol: &str, spec: PortSpec) -> anyhow::Result<ScaleSim> {
        anyhow::ensure!(
            protocol::by_name(protocol).is_some(),
            "unknown scale protocol {protocol:?} (known: {})",
            PROTOCOLS.join(", ")
        );
        let scale = Arc::new(Mutex::new(ScaleState::default()));
        let line = Arc::new(Line::default());
        let (name, for_device) = (protocol.to_string(), scale.clone());
        let make = Box::new(move || {
            let protocol = protocol::by_name(&name).unwrap_or_else(|| Box::new(Silent));
            Box::new(ScaleDevice {
                protocol,
                scale: for_device.clone(),
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
        Ok(ScaleSim {
            inner: Arc::new(Inner {
                protocol: protocol.into(),
                scale,
                line,
                plug,
                cancel,
            }),
        })
    }

    pub fn protocol(&self) -> &str {
        &self.inner.protocol
    }

    /// The path (or port name) to configure in the engine.
    pub fn device_path(&self) -> String {
        self.inner.plug.spec().device_path()
    }

    /// The engine configuration line, e.g. `SCALE=serial:///tmp/pispas-scale?protocol=adam`.
    pub fn config_line(&self) -> String {
        format!(
            "SCALE=serial://{}?protocol={}",
            self.device_path(),
            self.protocol()
        )
    }

    // ---- the scale -------------------------------------------------------------------

    pub fn state(&self) -> ScaleState {
        lock(&self.inner.scale).clone()
    }

    fn update(&self, change: impl FnOnce(&mut ScaleState)) {
        change(&mut lock(&self.inner.scale));
        self.inner.line.changes.bump();
    }

    /// Puts `grams` on the platform (stability is left as it is).
    pub fn set_weight(&self, grams: i64) {
        self.update(|s| s.set_load(grams));
    }

    pub fn set_stable(&self, stable: bool) {
        self.update(|s| s.stable = stable);
    }

    pub fn set_overload(&self, on: bool) {
        self.update(|s| s.force_overload = on);
    }

    pub fn set_under_zero(&self, on: bool) {
        self.update(|s| s.force_under_zero = on);
    }

    /// The tare key: the gross weight becomes the tare (net mode); on an empty platform it
    /// clears the tare.
    pub fn tare(&self) {
        self.update(ScaleState::tare);
    }

    pub fn clear_tare(&self) {
        self.update(ScaleState::clear_tare);
    }

    /// The zero key: the current load reads as zero.
    pub fn zero(&self) {
        self.update(ScaleState::zero);
    }

    // ---- the line --------------------------------------------------------------------

    /// Pulls the cable: closes the line (the pty master; the link disappears).
    pub async fn unplug(&self) {
        self.inner.plug.unplug().await;
    }

    /// Plugs a new line in at the same path; the device restarts as from power-on.
    /// Fails when the pty or port cannot be opened.
    pub async fn replug(&self) -> anyhow::Result<()> {
        self.inner.plug.replug().await.context("replug")
    }

    pub async fn is_plugged(&self) -> bool {
        self.inner.plug.is_plugged().await
    }

    /// Sends `GARBAGE` now, unsolicited.
    pub fn send_garbage(&self) {
        self.inner.line.send(GARBAGE);
    }

    /// Sends raw bytes now, unsolicited.
    pub fn send_raw(&self, bytes: &[u8]) {
        self.inner.line.send(bytes);
    }

    /// The next frame the scale sends is damaged (a digit turned to `x`; for Dibal, a wrong
    /// checksum), so a decoder has to reject it.
    pub fn corrupt_next(&self) {
        self.update(|s| s.corrupt_next = true);
    }

    /// What crossed the line since start or `clear_log`.
    pub fn log(&self) -> LineLog {
        self.inner.line.log()
    }

    pub fn clear_log(&self) {
        self.inner.line.clear();
    }

    /// Waits until the scale has sent at least `n` bytes in total; returns the log.
    pub async fn wait_for_sent(&self, n: usize, timeout: Duration) -> Result<LineLog, WaitTimeout> {
        self.inner
            .line
            .wait_for(format!("{n} byte(s) sent"), timeout, |l| l.sent.len() >= n)
            .await
    }

    /// Waits until the host has sent at least `n` bytes in total; returns the log.
    pub async fn wait_for_received(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<LineLog, WaitTimeout> {
        self.inner
            .line
            .wait_for(format!("{n} byte(s) received"), timeout, |l| {
                l.received.len() >= n
            })
            .await
    }
}

/// Never used: `start` checks the name first. Here so no `unwrap` is needed in `make`.
struct Silent;

impl Protocol for Silent {
    fn receive(&mut self, _: &[u8], _: &mut ScaleState, _: &mut Vec<u8>) {}
}

//! One task per configured scale: opens the port (detecting the protocol when `protocol=auto`),
//! serves a session until the link breaks, and reopens with backoff. While the scale is away,
//! requests fail at once with DEVICE_UNAVAILABLE instead of waiting.
//!
//! The [`ScaleHandle`] is what the service holds: a command channel plus the shared state STATUS
//! reads without disturbing the port.

use super::codec::{
    probe_sequence, Decode, ProbeReply, Reading, ScaleCommand, ScaleFrame, ScaleProtocol,
};
use super::config::ScaleConfig;
use super::session;
use crate::clock::now_ms;
use crate::events::{Audience, Event, EventBus};
use crate::transport::backoff::Backoff;
use crate::transport::link::LinkState;
use crate::transport::BoxedIo;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What the scale could not do, as a value the service maps to a FAILURE code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScaleError {
    #[error("the scale is not connected: {0}")]
    Unavailable(String),
    #[error("the scale did not answer within {waited:?}: check that it is on and that protocol={protocol} is its protocol (protocol=auto detects it)")]
    NoAnswer {
        waited: Duration,
        protocol: &'static str,
    },
    #[error("the scale sends data that is not protocol={protocol} ({bytes} bytes, no frame of it within {waited:?}){}: set the scale's protocol in its SCALE key (protocol=auto detects it)", looks_like.map(|p| format!("; it looks like protocol={p}")).unwrap_or_default())]
    Foreign {
        waited: Duration,
        protocol: &'static str,
        bytes: usize,
        looks_like: Option<&'static str>,
    },
    #[error("the weight did not settle within {0:?}")]
    Unstable(Duration),
    #[error("the scale refused to weigh for {0:?}: no load, in motion, under zero or overloaded")]
    NotWeighable(Duration),
    #[error("the load is over the scale's capacity")]
    Overload,
    #[error("the scale reads below zero: empty the pan and zero it")]
    UnderZero,
    #[error("protocol {protocol} has no {command} command")]
    Unsupported {
        protocol: &'static str,
        command: &'static str,
    },
    #[error("the scale refused the command")]
    Refused,
    #[error("the connection to the scale was lost: {0}")]
    Lost(String),
}

/// A request to the scale task.
pub(super) enum Command {
    Read {
        timeout: Duration,
        reply: oneshot::Sender<Result<(Reading, bool), ScaleError>>,
    },
    Run {
        command: ScaleCommand,
        reply: oneshot::Sender<Result<bool, ScaleError>>,
    },
}

impl Command {
    fn fail(self, error: ScaleError) {
        match self {
            Command::Read { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Command::Run { reply, .. } => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

/// State shared by the task and the service.
pub(super) struct ScaleShared {
    pub config: ScaleConfig,
    /// Event topic, `SCALE:<NAME>`.
    pub topic: String,
    pub bus: EventBus,
    pub link: LinkState,
    detected: Mutex<Option<ScaleProtocol>>,
    last: Mutex<Option<(Reading, Instant, u64)>>,
    published: Mutex<Option<Value>>,
    /// Unreadable bytes since the last frame (the session keeps it current).
    pub unreadable: AtomicUsize,
}

impl ScaleShared {
    /// Remembers weights and publishes a WEIGHT event when what a display shows changes.
    pub(crate) fn observe(&self, frame: &ScaleFrame) {
        let data = match frame {
            ScaleFrame::Weight(r) => {
                if let Ok(mut last) = self.last.lock() {
                    *last = Some((r.clone(), Instant::now(), now_ms()));
                }
                reading_json(r, false)
            }
            ScaleFrame::Status(s) if s.is_fault() => {
                json!({ "STABLE": false, "MOTION": s.motion, "OVERLOAD": s.overload, "UNDER_ZERO": s.under_zero })
            }
            _ => return,
        };
        let changed = match self.published.lock() {
            Ok(mut p) if p.as_ref() != Some(&data) => {
                *p = Some(data.clone());
                true
            }
            _ => false,
        };
        if changed {
            let mut event = data;
            if let Some(map) = event.as_object_mut() {
                map.insert("EVENT".into(), json!("WEIGHT"));
                map.insert("SCALE".into(), json!(self.config.name));
            }
            self.bus.publish(Event {
                service: "SCALE".into(),
                uuid: Value::Null,
                audience: Audience::Topic(self.topic.clone()),
                data: event,
            });
        }
    }

    /// The last stable weight if it is younger than `hold_ms` (for scales that go silent).
    pub(crate) fn held(&self) -> Option<Reading> {
        let last = self.last.lock().ok()?;
        let (r, at, _) = last.as_ref()?;
        (at.elapsed() <= self.config.hold && r.stable).then(|| r.clone())
    }

    pub(crate) fn protocol(&self) -> Option<ScaleProtocol> {
        self.config
            .protocol
            .or_else(|| self.detected.lock().ok().and_then(|d| *d))
    }

    pub(crate) fn status_json(&self) -> Value {
        let last = self
            .last
            .lock()
            .ok()
            .and_then(|l| l.as_ref().map(|(r, _, at)| (reading_json(r, false), *at)));
        json!({
            "SCALE": self.config.name,
            "DEVICE": self.config.endpoint.describe(),
            "PROTOCOL": self.protocol().map(|p| p.name()),
            "AUTO": self.config.protocol.is_none(),
            "LINK": self.link.to_json(),
            "LAST": last.as_ref().map(|(r, _)| r.clone()),
            "LAST_AT_MS": last.map(|(_, at)| at),
            "SUBSCRIBERS": self.bus.watchers(&self.topic),
            // Bytes since the last frame that the protocol could not read: a scale that speaks
            // another protocol (or a wrong baud rate) shows here, with no weight ever.
            "UNREADABLE_BYTES": self.unreadable.load(Ordering::Relaxed),
        })
    }
}

/// The reply/event body for a reading.
pub(super) fn reading_json(r: &Reading, held: bool) -> Value {
    json!({
        "WEIGHT": r.grams as f64 / 1000.0,
        "GRAMS": r.grams,
        "UNIT": r.unit,
        "STABLE": r.stable,
        "NET": r.net,
        "GROSS": !r.net,
        "OVERLOAD": r.overload,
        "UNDER_ZERO": r.under_zero,
        "MOTION": !r.stable,
        "PRICE_CENTS": r.price_cents,
        "TOTAL_CENTS": r.total_cents,
        "HELD": held,
    })
}

/// How long a connection to a serial device server may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// The service's handle to one scale task.
#[derive(Clone)]
pub(crate) struct ScaleHandle {
    pub(super) shared: Arc<ScaleShared>,
    tx: mpsc::Sender<Command>,
}

impl ScaleHandle {
    /// Starts the task for `config` on `tracker`; it runs until `shutdown`.
    pub(crate) fn spawn(
        config: ScaleConfig,
        bus: EventBus,
        tracker: &tokio_util::task::TaskTracker,
        shutdown: CancellationToken,
    ) -> ScaleHandle {
        let topic = format!("SCALE:{}", config.name);
        let shared = Arc::new(ScaleShared {
            config,
            topic,
            bus,
            link: LinkState::default(),
            detected: Mutex::new(None),
            last: Mutex::new(None),
            published: Mutex::new(None),
            unreadable: AtomicUsize::new(0),
        });
        let (tx, rx) = mpsc::channel(32);
        tracker.spawn(run(shared.clone(), rx, shutdown));
        ScaleHandle { shared, tx }
    }

    pub(super) async fn send(&self, command: Command) -> Result<(), ScaleError> {
        self.tx
            .send(command)
            .await
            .map_err(|_| ScaleError::Unavailable("the scale task has stopped".into()))
    }
}

async fn run(sh: Arc<ScaleShared>, mut rx: mpsc::Receiver<Command>, shutdown: CancellationToken) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        let why = match connect(&sh, &shutdown).await {
            Ok((io, protocol)) => {
                backoff.reset();
                if let Ok(mut d) = sh.detected.lock() {
                    *d = Some(protocol);
                }
                let detail = format!(
                    "connected to {} ({})",
                    sh.config.endpoint.describe(),
                    protocol.name()
                );
                sh.link.set(true, &detail, &sh.bus, "SCALE", &sh.topic);
                session::serve(io, protocol, &sh, &mut rx, &shutdown).await
            }
            Err(why) => why,
        };
        if shutdown.is_cancelled() {
            return;
        }
        sh.link.set(false, &why, &sh.bus, "SCALE", &sh.topic);
        let until = tokio::time::Instant::now() + backoff.next_delay();
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => break,
                _ = shutdown.cancelled() => return,
                cmd = rx.recv() => match cmd {
                    None => return,
                    Some(c) => c.fail(ScaleError::Unavailable(why.clone())),
                },
            }
        }
    }
}

/// Opens the port with the configured protocol, or tries each known protocol in turn.
async fn connect(
    sh: &ScaleShared,
    shutdown: &CancellationToken,
) -> Result<(BoxedIo, ScaleProtocol), String> {
    let endpoint = &sh.config.endpoint;
    let open = |protocol: ScaleProtocol| async move {
        let settings = sh.config.settings(protocol).map_err(|e| e.to_string())?;
        endpoint
            .open(&settings, OPEN_TIMEOUT)
            .await
            .map_err(|e| format!("cannot open {}: {e}", endpoint.describe()))
    };
    if let Some(protocol) = sh.config.protocol {
        return open(protocol).await.map(|io| (io, protocol));
    }
    for step in probe_sequence() {
        if shutdown.is_cancelled() {
            break;
        }
        let mut io = open(step.protocol).await?;
        if probe(&mut io, &step).await {
            if !step.after.is_empty() {
                let _ = io.write_all(&step.after).await;
            }
            tracing::info!(scale = %sh.config.name, protocol = step.protocol.name(), "scale protocol detected");
            return Ok((io, step.protocol));
        }
    }
    Err("protocol=auto: no known scale protocol answered (is the scale on, and does it have a load for Adam scales?)".into())
}

async fn probe(io: &mut BoxedIo, step: &super::codec::ProbeStep) -> bool {
    if !step.send.is_empty() && io.write_all(&step.send).await.is_err() {
        return false;
    }
    let until = tokio::time::Instant::now() + step.listen;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        let read = tokio::time::timeout_at(until, io.read(&mut chunk)).await;
        match read {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return false,
        }
        let matched = match &step.reply {
            ProbeReply::Exact(want) => buf.windows(want.len()).any(|w| w == want.as_slice()),
            ProbeReply::AnyFrame => any_frame(step.protocol, &buf),
        };
        if matched {
            return true;
        }
    }
}

fn any_frame(protocol: ScaleProtocol, buf: &[u8]) -> bool {
    let mut rest = buf;
    loop {
        match protocol.decode(rest) {
            Decode::Frame { .. } => return true,
            Decode::Incomplete => return false,
            Decode::Skip { consumed } => rest = &rest[consumed.min(rest.len())..],
        }
        if rest.is_empty() {
            return false;
        }
    }
}

impl crate::devices::NamedDevice for ScaleHandle {
    fn name(&self) -> &str {
        &self.shared.config.name
    }

    fn topic(&self) -> &str {
        &self.shared.topic
    }

    fn link(&self) -> &LinkState {
        &self.shared.link
    }

    fn status_json(&self) -> Value {
        self.shared.status_json()
    }
}

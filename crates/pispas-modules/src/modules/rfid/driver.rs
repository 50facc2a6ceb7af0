//! One task per configured reader: opens the port, decodes frames as they stream in (a reader
//! sends by itself; nothing is polled), turns repeats into one presentation, and reopens with
//! backoff when the reader is unplugged.

use super::codec::em4100::{self, RfidDecode};
use super::codec::{Dedup, Tag};
use super::config::ReaderConfig;
use crate::clock::now_ms;
use crate::events::{Audience, Event, EventBus};
use crate::transport::backoff::Backoff;
use crate::transport::link::LinkState;
use crate::transport::DeviceIo;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// How long a connection to a serial device server may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// State shared by the reader task and the service.
pub struct ReaderShared {
    pub config: ReaderConfig,
    /// Event topic, `RFID:<NAME>`.
    pub topic: String,
    pub bus: EventBus,
    pub link: LinkState,
    last: Mutex<Option<Value>>,
    waiters: Mutex<Vec<oneshot::Sender<Value>>>,
    bad_checksums: std::sync::atomic::AtomicU64,
}

impl ReaderShared {
    pub fn new(config: ReaderConfig, bus: EventBus) -> Arc<ReaderShared> {
        Arc::new(ReaderShared {
            topic: format!("RFID:{}", config.name),
            config,
            bus,
            link: LinkState::default(),
            last: Mutex::new(None),
            waiters: Mutex::new(Vec::new()),
            bad_checksums: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Waits for the next presentation.
    pub fn next_tag(&self) -> oneshot::Receiver<Value> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiters.lock() {
            w.retain(|s| !s.is_closed());
            w.push(tx);
        }
        rx
    }

    pub fn last(&self) -> Option<Value> {
        self.last.lock().ok().and_then(|l| l.clone())
    }

    pub fn status_json(&self) -> Value {
        json!({
            "READER": self.config.name,
            "DEVICE": self.config.endpoint.describe(),
            "PROTOCOL": self.config.protocol.name(),
            "DEDUP_MS": self.config.dedup.as_millis() as u64,
            "LINK": self.link.to_json(),
            "LAST": self.last(),
            "BAD_CHECKSUMS": self.bad_checksums.load(std::sync::atomic::Ordering::Relaxed),
            "SUBSCRIBERS": self.bus.watchers(&self.topic),
        })
    }

    fn presented(&self, tag: &Tag) {
        let data = json!({
            "EVENT": "TAG",
            "UID": tag.uid,
            "TECH": "em4100",
            "DECIMAL": format!("{:010}", tag.id),
            "READER": self.config.name,
            "AT_MS": now_ms(),
        });
        if let Ok(mut last) = self.last.lock() {
            *last = Some(data.clone());
        }
        if let Ok(mut waiters) = self.waiters.lock() {
            for w in waiters.drain(..) {
                let _ = w.send(data.clone());
            }
        }
        self.bus.publish(Event {
            service: "RFID".into(),
            uuid: Value::Null,
            audience: Audience::Topic(self.topic.clone()),
            data,
        });
    }
}

/// Runs the reader until shutdown.
pub(crate) async fn run(sh: Arc<ReaderShared>, shutdown: CancellationToken) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    let mut dedup = Dedup::new(sh.config.dedup);
    loop {
        let why = match sh
            .config
            .endpoint
            .open(&sh.config.settings, OPEN_TIMEOUT)
            .await
        {
            Ok(io) => {
                backoff.reset();
                let detail = format!(
                    "connected to {} ({})",
                    sh.config.endpoint.describe(),
                    sh.config.protocol.name()
                );
                sh.link.set(true, &detail, &sh.bus, "RFID", &sh.topic);
                serve(io, &sh, &mut dedup, &shutdown).await
            }
            Err(e) => format!("cannot open {}: {e}", sh.config.endpoint.describe()),
        };
        if shutdown.is_cancelled() {
            return;
        }
        sh.link.set(false, &why, &sh.bus, "RFID", &sh.topic);
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Reads frames until the link breaks; returns why.
pub(crate) async fn serve<T: DeviceIo>(
    mut io: T,
    sh: &ReaderShared,
    dedup: &mut Dedup,
    shutdown: &CancellationToken,
) -> String {
    let mut buf: Vec<u8> = Vec::with_capacity(64);
    let mut chunk = [0u8; 256];
    loop {
        let n = tokio::select! {
            r = io.read(&mut chunk) => match r {
                Ok(0) => return "the port closed".into(),
                Ok(n) => n,
                Err(e) => return format!("read failed: {e}"),
            },
            _ = shutdown.cancelled() => return "service stopping".into(),
        };
        buf.extend_from_slice(&chunk[..n]);
        loop {
            match em4100::decode(&buf) {
                RfidDecode::Incomplete => break,
                RfidDecode::Skip { consumed } => {
                    buf.drain(..consumed.min(buf.len()));
                }
                RfidDecode::BadChecksum { consumed } => {
                    sh.bad_checksums
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::debug!(reader = %sh.config.name, "frame with a bad checksum skipped");
                    buf.drain(..consumed.min(buf.len()));
                }
                RfidDecode::Tag { consumed, tag } => {
                    buf.drain(..consumed.min(buf.len()));
                    if dedup.observe(&tag.uid, Instant::now()) {
                        sh.presented(&tag);
                    }
                }
            }
        }
        if buf.len() > 1024 {
            buf.clear();
        }
    }
}

impl crate::devices::NamedDevice for Arc<ReaderShared> {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn topic(&self) -> &str {
        &self.topic
    }

    fn link(&self) -> &LinkState {
        &self.link
    }

    fn status_json(&self) -> Value {
        ReaderShared::status_json(self)
    }
}

//! The durable print queue: jobs are stored before they are acknowledged, one worker per
//! printer prints them in order, and everyone who asked about a job (the request, a retried
//! request with the same UUIDV4, event subscribers) hears about its state changes.
//!
//! `store.rs` is the table, `worker.rs` the per-printer loop. A slow or dead printer only
//! blocks its own worker.

mod budget;
pub mod state;
pub mod store;
mod turnstile;
mod view;
mod worker;

pub use budget::OverBudget;
pub use state::JobState;
pub use turnstile::Ticket;
pub use view::{job_json, reply_for};

use super::error::PrintError;
use super::printer::{PrintConfig, PrinterConfig};
use super::render::Renderer;
use super::state::PrinterState;
use crate::clock::now_ms_i64;
use crate::events::{Audience, DeviceState, Event, EventBus};
use crate::protocol::ErrorCode;
use crate::store::group_commit::GroupCommit;
use crate::store::StoreError;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{Inserted, JobRow, JobStore, NewJob};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often finished jobs are trimmed while running.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The topic job and printer events are published on.
pub const TOPIC: &str = "PRINT";

/// What the worker of one printer shares with the service.
pub struct Slot {
    pub config: PrinterConfig,
    wake: Notify,
    live: Mutex<Live>,
    /// Held while talking to the printer, so a STATUS query never opens a second connection
    /// in the middle of a job (most printers take one at a time).
    pub line: tokio::sync::Mutex<()>,
    /// Keeps jobs in the order they arrived.
    turnstile: turnstile::Turnstile,
    /// Why the printer cannot print now (the code, and a sentence), while its worker waits.
    blocked: watch::Sender<Option<(ErrorCode, String)>>,
}

/// In-memory state of a printer.
#[derive(Default)]
struct Live {
    /// The job whose bytes are going out now (it cannot be cancelled).
    sending: Option<i64>,
    cancelled: HashSet<i64>,
    /// Last known state and when.
    state: Option<(PrinterState, i64)>,
}

impl Slot {
    fn new(config: PrinterConfig) -> Slot {
        Slot {
            config,
            wake: Notify::new(),
            live: Mutex::new(Live::default()),
            line: tokio::sync::Mutex::new(()),
            turnstile: turnstile::Turnstile::default(),
            blocked: watch::channel(None).0,
        }
    }

    /// The last known state and when it was seen.
    pub fn last_state(&self) -> Option<(PrinterState, i64)> {
        self.live.lock().ok().and_then(|l| l.state)
    }

    /// Records the printer's state; returns whether it changed.
    pub fn set_state(&self, s: PrinterState) -> bool {
        let Ok(mut l) = self.live.lock() else {
            return false;
        };
        let changed = l.state.map(|(old, _)| old != s).unwrap_or(true);
        l.state = Some((s, now_ms_i64()));
        changed
    }

    /// Records why the printer is not printing (None: it is).
    pub fn set_blocked(&self, why: Option<(ErrorCode, String)>) {
        self.blocked.send_if_modified(|b| {
            let changed = *b != why;
            *b = why;
            changed
        });
    }

    pub fn sending(&self) -> Option<i64> {
        self.live.lock().ok().and_then(|l| l.sending)
    }
}

/// A cheap handle to the queue.
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    store: JobStore,
    /// New jobs are stored in group commits: a burst of tickets shares one disk flush.
    inserter: GroupCommit<NewJob, Inserted>,
    events: EventBus,
    renderer: Renderer,
    config: Arc<PrintConfig>,
    /// One per printer: the configured ones from the start, and OS printers a POS named
    /// (they get a slot and a worker the first time).
    slots: std::sync::RwLock<BTreeMap<String, Arc<Slot>>>,
    tracker: TaskTracker,
    watchers: Mutex<HashMap<String, watch::Sender<Option<JobRow>>>>,
    /// Which connection asked for a job, for its events.
    origins: Mutex<HashMap<String, u64>>,
    /// When each job accepted by this run was accepted, on the monotonic clock: its age for
    /// PRINT_RESUME_WINDOW, so a wall clock that jumps (NTP correcting a till that booted with
    /// the wrong time) neither expires a job that waited seconds nor keeps one that waited long.
    accepted: Mutex<HashMap<String, tokio::time::Instant>>,
    budget: budget::Budget,
    shutdown: CancellationToken,
}

impl Queue {
    /// Reports jobs that were going out when the service stopped (PRINT_INTERRUPTED), expires
    /// jobs older than the resume window, then starts one worker per printer; workers pick up
    /// the jobs left from before a restart that had not started to print.
    ///
    /// Fails when the queue's table cannot be read or written.
    pub fn start(
        store: JobStore,
        events: EventBus,
        renderer: Renderer,
        config: Arc<PrintConfig>,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<Queue, StoreError> {
        let slots = config
            .printers
            .values()
            .map(|p| (p.name.clone(), Arc::new(Slot::new(p.clone()))))
            .collect();
        let budget = budget::Budget::new(config.queue_max_bytes, config.max_pending_renders, 0);
        let queue = Queue {
            inner: Arc::new(Inner {
                inserter: {
                    let s = store.clone();
                    GroupCommit::start(
                        "print jobs",
                        Arc::new(move |jobs: &[NewJob]| s.insert_batch_blocking(jobs)),
                        tracker,
                        shutdown.clone(),
                    )
                },
                store,
                events,
                renderer,
                config,
                slots: std::sync::RwLock::new(slots),
                tracker: tracker.clone(),
                watchers: Mutex::new(HashMap::new()),
                origins: Mutex::new(HashMap::new()),
                accepted: Mutex::new(HashMap::new()),
                budget,
                shutdown,
            }),
        };
        let now = now_ms_i64();
        for job in queue.inner.store.interrupt_started(now)? {
            tracing::warn!(job = job.id, printer = %job.printer,
                "the service stopped while this job was going to the printer; reported as PRINT_INTERRUPTED, not sent again");
            queue.publish(&job);
        }
        let window = queue.inner.config.resume_window.as_millis() as i64;
        for job in queue.inner.store.expire_older_than(now - window, now)? {
            tracing::warn!(job = job.id, printer = %job.printer, "job not printed within PRINT_RESUME_WINDOW; expired");
            queue.publish(&job);
        }
        // What still waits after the expiry above (jobs from before this start).
        queue
            .inner
            .budget
            .reset_waiting(queue.inner.store.waiting_bytes()?);
        queue.prune(now);
        // Finished jobs are kept for re-sending, within limits held while running too.
        let (q, stop) = (queue.clone(), queue.inner.shutdown.clone());
        tracker.spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(PRUNE_EVERY) => {}
                }
                let q2 = q.clone();
                let _ = tokio::task::spawn_blocking(move || q2.prune(now_ms_i64())).await;
            }
        });
        for slot in queue.slots().into_values() {
            tracker.spawn(worker::run(queue.clone(), slot));
        }
        Ok(queue)
    }

    /// Removes finished jobs older than a week (expired ones too) and the oldest finished ones
    /// while the table's documents take more than PRINT_KEEP_MB. Blocking.
    fn prune(&self, now: i64) {
        let week = 7 * 24 * 3600 * 1000;
        let store = &self.inner.store;
        match (
            store.prune(now - week),
            store.prune_to_size(self.inner.config.keep_max_bytes),
        ) {
            (Ok(aged), Ok(sized)) if aged + sized > 0 => {
                tracing::info!(
                    aged,
                    sized,
                    "finished print jobs removed (a week old, or over PRINT_KEEP_MB)"
                );
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "old print jobs could not be removed")
            }
            _ => {}
        }
    }

    /// Every printer's slot (a snapshot).
    pub fn slots(&self) -> BTreeMap<String, Arc<Slot>> {
        self.inner
            .slots
            .read()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// The slot of `printer`, if it has one.
    pub fn slot(&self, printer: &str) -> Option<Arc<Slot>> {
        self.inner.slots.read().ok()?.get(printer).cloned()
    }

    /// The slot of a printer that was not configured (an OS printer a POS named), made with its
    /// worker the first time.
    pub fn ensure_slot(&self, config: &PrinterConfig) -> Option<Arc<Slot>> {
        if let Some(slot) = self.slot(&config.name) {
            return Some(slot);
        }
        let mut slots = self.inner.slots.write().ok()?;
        let slot = slots
            .entry(config.name.clone())
            .or_insert_with(|| {
                let slot = Arc::new(Slot::new(config.clone()));
                self.inner
                    .tracker
                    .spawn(worker::run(self.clone(), slot.clone()));
                slot
            })
            .clone();
        Some(slot)
    }

    /// Printers with jobs still to print that have no slot (OS printers used before a
    /// restart), so their jobs can resume.
    pub async fn orphaned_printers(&self) -> Vec<String> {
        let pending = self.inner.store.pending_counts().await.unwrap_or_default();
        pending
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| self.slot(p).is_none())
            .collect()
    }

    pub fn store(&self) -> &JobStore {
        &self.inner.store
    }

    pub fn renderer(&self) -> &Renderer {
        &self.inner.renderer
    }

    /// Stores a job (or finds the one with the same UUIDV4) and waits until it is delivered,
    /// waiting for the printer, failed, or PRINT_REPLY_TIMEOUT_MS passed. Returns the job as it
    /// then is, and whether it was a repeat.
    ///
    /// Fails when the job cannot be stored.
    pub async fn submit(
        &self,
        job: NewJob,
        connection: Option<u64>,
        client: &str,
        ticket: Option<Ticket>,
    ) -> Result<(JobRow, bool), PrintError> {
        let uuid = job.uuid.clone();
        if let Some(t) = &ticket {
            t.wait_turn().await;
        }
        let render = matches!(
            job.format,
            super::document::Format::Html
                | super::document::Format::Pdf
                | super::document::Format::Image
        );
        if let Err(over) = self
            .inner
            .budget
            .take(&uuid, client, job.data.len() as u64, render)
        {
            // A retry of a job already stored is never refused: it gets the first job's outcome.
            if self.inner.store.by_uuid(&uuid).await?.is_none() {
                return Err(PrintError::QueueFull(over));
            }
        }
        let mut rx = self.watch(&uuid);
        if let (Some(c), Ok(mut o)) = (connection, self.inner.origins.lock()) {
            o.entry(uuid.clone()).or_insert(c);
        }
        // Before it is stored, so the worker that picks it up knows its age.
        let first = self.inner.accepted.lock().is_ok_and(|mut a| {
            let fresh = !a.contains_key(&uuid);
            a.entry(uuid.clone())
                .or_insert_with(tokio::time::Instant::now);
            fresh
        });
        let pending = self.inner.inserter.enqueue(job);
        // In line now: later jobs for this printer may go (and share this job's disk flush).
        drop(ticket);
        let committed = pending.committed().await;
        if first && !matches!(committed, Ok(Inserted::New(_))) {
            // Not a job of this run (a retry of an older one) or not stored: no age here.
            if let Ok(mut a) = self.inner.accepted.lock() {
                a.remove(&uuid);
            }
        }
        let (row, repeat) = match committed? {
            Inserted::New(row) => {
                self.publish(&row);
                if let Some(slot) = self.slot(&row.printer) {
                    slot.wake.notify_one();
                }
                (row, false)
            }
            Inserted::Existing(row) => {
                self.inner.budget.give_back(&uuid);
                (row, true)
            }
        };
        if row.state.settles_the_reply() {
            self.forget_if_final(&row);
            return Ok((row, repeat));
        }
        let slot = self.slot(&row.printer);
        let mut blocked = slot.as_ref().map(|s| s.blocked.subscribe());
        let deadline = tokio::time::Instant::now() + self.inner.config.reply_timeout;
        let mut latest = row;
        loop {
            let seen = rx.borrow_and_update().clone();
            if let Some(r) = seen.filter(|r| r.id == latest.id) {
                latest = r;
                if latest.state.settles_the_reply() {
                    break;
                }
            }
            // Behind a job that waits for the printer: say so now rather than at the timeout.
            let why = blocked.as_mut().and_then(|b| b.borrow_and_update().clone());
            if let (Some((code, message)), true) = (why, latest.state == JobState::Queued) {
                latest.reason = Some(code);
                latest.message = Some(message);
                break;
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                Some(Ok(())) = async { match blocked.as_mut() { Some(b) => Some(b.changed().await), None => None } } => {}
                _ = tokio::time::sleep_until(deadline) => break,
                _ = self.inner.shutdown.cancelled() => break,
            }
        }
        Ok((latest, repeat))
    }

    fn watch(&self, uuid: &str) -> watch::Receiver<Option<JobRow>> {
        let Ok(mut w) = self.inner.watchers.lock() else {
            return watch::channel(None).1;
        };
        w.entry(uuid.to_string())
            .or_insert_with(|| watch::channel(None).0)
            .subscribe()
    }

    fn forget_if_final(&self, row: &JobRow) {
        if row.state.is_final() {
            if let Ok(mut w) = self.inner.watchers.lock() {
                w.remove(&row.uuid);
            }
            if let Ok(mut o) = self.inner.origins.lock() {
                o.remove(&row.uuid);
            }
        }
    }

    /// Tells waiters and subscribers about a job's new state.
    fn publish(&self, row: &JobRow) {
        if let Ok(w) = self.inner.watchers.lock() {
            if let Some(tx) = w.get(&row.uuid) {
                tx.send_replace(Some(row.clone()));
            }
        }
        let data = json!({ "EVENT": "JOB", "JOB": job_json(row) });
        let origin = self
            .inner
            .origins
            .lock()
            .ok()
            .and_then(|o| o.get(&row.uuid).copied());
        if let Some(conn) = origin {
            self.inner.events.publish(Event {
                service: "PRINT".into(),
                uuid: Value::String(row.uuid.clone()),
                audience: Audience::Connection(conn),
                data: data.clone(),
            });
        }
        self.inner.events.publish(Event {
            service: "PRINT".into(),
            uuid: Value::String(row.uuid.clone()),
            audience: Audience::Topic(TOPIC.into()),
            data,
        });
        self.forget_if_final(row);
    }

    /// Tells subscribers a printer's state changed: a PRINTER event, and the engine-wide
    /// DEVICE_STATE the status window lists and the tray notifies about.
    fn publish_printer(&self, slot: &Slot, state: PrinterState, detail: &str) {
        let detail = if detail.is_empty() {
            state.sentence()
        } else {
            detail
        };
        self.inner.events.publish(Event {
            service: "PRINT".into(),
            uuid: Value::Null,
            audience: Audience::Topic(TOPIC.into()),
            data: json!({ "EVENT": "PRINTER", "PRINTER": slot.config.name, "STATE": state.as_str(), "DETAIL": detail }),
        });
        let device = DeviceState::new(
            format!("PRINT:{}", slot.config.name),
            state.device_status(),
            detail,
        );
        self.inner
            .events
            .publish(device.event("PRINT", Audience::Topic(TOPIC.into())));
    }

    /// Cancels a job that has not started printing.
    ///
    /// Fails when there is no such job or it is printing or finished.
    pub async fn cancel(&self, id: i64) -> Result<JobRow, PrintError> {
        let row = self
            .inner
            .store
            .get(id)
            .await?
            .ok_or_else(|| PrintError::JobNotFound(id.to_string()))?;
        if row.state.is_final() {
            return Err(PrintError::NotCancellable {
                id,
                state: row.state,
            });
        }
        let slot = self.slot(&row.printer);
        if let Some(slot) = &slot {
            let Ok(mut live) = slot.live.lock() else {
                return Err(PrintError::ShuttingDown);
            };
            if live.sending == Some(id) {
                return Err(PrintError::NotCancellable {
                    id,
                    state: JobState::Printing,
                });
            }
            live.cancelled.insert(id);
        }
        let now = self
            .inner
            .store
            .cancel(id, now_ms_i64())
            .await?
            .ok_or_else(|| PrintError::JobNotFound(id.to_string()))?;
        if now.state != JobState::Cancelled {
            return Err(PrintError::NotCancellable {
                id,
                state: now.state,
            });
        }
        self.released(&now);
        self.publish(&now);
        if let Some(slot) = slot {
            slot.wake.notify_one();
        }
        Ok(now)
    }

    /// How long ago `job` was accepted, in ms: by the monotonic clock for a job of this run, by
    /// the wall clock (all there is) for one from before a restart.
    pub(crate) fn age_ms(&self, job: &JobRow) -> i64 {
        let this_run = self
            .inner
            .accepted
            .lock()
            .ok()
            .and_then(|a| a.get(&job.uuid).copied());
        match this_run {
            Some(at) => i64::try_from(at.elapsed().as_millis()).unwrap_or(i64::MAX),
            None => now_ms_i64() - job.accepted_at,
        }
    }

    /// A job stopped waiting: its room in the budget is free.
    pub(crate) fn released(&self, row: &JobRow) {
        if let Ok(mut a) = self.inner.accepted.lock() {
            a.remove(&row.uuid);
        }
        self.inner
            .budget
            .release(&row.uuid, u64::try_from(row.size).unwrap_or(0));
    }

    /// A place in `printer`'s line, taken when the request arrives.
    pub fn ticket(&self, printer: &str) -> Option<Ticket> {
        self.slot(printer).map(|s| s.turnstile.ticket())
    }

    /// Makes a waiting printer's worker try again now.
    pub fn nudge(&self, printer: &str) {
        if let Some(slot) = self.slot(printer) {
            slot.wake.notify_one();
        }
    }

    /// The job with its in-memory state (PRINTING) applied.
    pub fn live_view(&self, mut row: JobRow) -> JobRow {
        if let Some(slot) = self.slot(&row.printer) {
            if slot.sending() == Some(row.id) && row.state == JobState::Queued {
                row.state = JobState::Printing;
            }
        }
        row
    }
}

/// How long a worker waits before asking a printer that was not ready again.
pub(crate) fn retry_delay(attempt: u32) -> Duration {
    Duration::from_millis((500u64 << attempt.min(4)).min(5_000))
}

//! One printer's worker: takes its oldest pending job, renders it once, sends it, and records the
//! outcome. A printer that is not ready keeps its job WAITING and is asked again with backoff
//! (or at once when nudged); a connection that breaks mid-job is retried whole, up to three
//! times, before the job waits for the printer.
//!
//! Shutdown is only noticed between jobs and while waiting, never while bytes are going out.
//! Just before a job's first byte leaves, the store records it (`sending_at`): after a crash such
//! a job is reported PRINT_INTERRUPTED, not printed again (store.rs).

use super::state::JobState;
use super::store::JobRow;
use super::{retry_delay, Queue, Slot};
use crate::clock::now_ms_i64 as now_ms;
use crate::modules::print::document::build_program;
use crate::modules::print::error::{not_ready_code, not_ready_text, PrintError};
use crate::modules::print::escpos::{self, Profile};
use crate::modules::print::program::Op;
use crate::modules::print::state::PrinterState;
use crate::modules::print::transport::{self, Delivery, Rendered, TransportError};
use crate::protocol::ErrorCode;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Quick retries of a job whose connection broke mid-way.
const MID_JOB_RETRIES: u32 = 3;

pub(super) async fn run(queue: Queue, slot: Arc<Slot>) {
    let name = slot.config.name.clone();
    let shutdown = queue.inner.shutdown.clone();
    let mut prepared: Option<(i64, Rendered, u64)> = None;
    let mut attempt: u32 = 0;
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let next = match queue.inner.store.next_pending(&name).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(printer = %name, error = %e, "cannot read the print queue");
                tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(Duration::from_secs(1)) => continue }
            }
        };
        let Some((job, data)) = next else {
            prepared = None;
            attempt = 0;
            slot.set_blocked(None);
            tokio::select! { _ = shutdown.cancelled() => return, _ = slot.wake.notified() => continue }
        };
        if prepared.as_ref().is_some_and(|(id, _, _)| *id != job.id) {
            prepared = None;
            attempt = 0;
        }
        let window = queue.inner.config.resume_window.as_millis() as i64;
        if window > 0 && queue.age_ms(&job) > window {
            finish(&queue, &job, JobState::Expired, Some(ErrorCode::JobExpired), Some("not printed within PRINT_RESUME_WINDOW; re-send it from the command log if still wanted".into()), None).await;
            continue;
        }
        let options = job.options.clone();
        let picked = now_ms();
        let rendered = match prepared.take() {
            Some(p) => p,
            None => {
                let t = Instant::now();
                match render(&queue, &slot, &job, &data, &options).await {
                    Ok(r) => (job.id, r, t.elapsed().as_millis() as u64),
                    Err(e) => {
                        tracing::warn!(printer = %name, job = job.id, error = %e, "job cannot be rendered");
                        finish(
                            &queue,
                            &job,
                            JobState::Failed,
                            Some(e.code()),
                            Some(e.to_string()),
                            None,
                        )
                        .await;
                        continue;
                    }
                }
            }
        };
        tracing::debug!(printer = %name, job = job.id, attempt, bytes = rendered.1.bytes.len(), "sending job");
        {
            let Ok(mut live) = slot.live.lock() else {
                return;
            };
            if live.cancelled.remove(&job.id) {
                continue;
            }
            live.sending = Some(job.id);
        }
        let mut printing = job.clone();
        printing.state = JobState::Printing;
        queue.publish(&printing);
        let t = Instant::now();
        let result = {
            let _line = slot.line.lock().await;
            // Durable before the first byte: a restart never sends a job that may be on paper.
            let starting = async {
                if let Err(e) = queue.inner.store.mark_sending(job.id, now_ms()).await {
                    tracing::error!(printer = %name, job = job.id, error = %e,
                        "cannot record that the job is going out; a crash now would print it again");
                }
            };
            transport::deliver(&slot.config, &rendered.1, starting).await
        };
        let send_ms = t.elapsed().as_millis() as u64;
        tracing::debug!(printer = %name, job = job.id, send_ms, outcome = ?result, "delivery attempt done");
        if let Ok(mut live) = slot.live.lock() {
            live.sending = None;
        }
        match result {
            Ok(Delivery::Delivered { confirmed, status }) => {
                slot.set_blocked(None);
                let state = status
                    .as_ref()
                    .map_or(PrinterState::Ready, PrinterState::from_status);
                if slot.set_state(state) {
                    queue.publish_printer(&slot, state, "");
                }
                let done = now_ms();
                let timings = json!({
                    "QUEUED_MS": picked - job.accepted_at,
                    "RENDER_MS": rendered.2,
                    "SEND_MS": send_ms,
                    "TOTAL_MS": done - job.accepted_at,
                    "CONFIRMED": confirmed,
                });
                finish(
                    &queue,
                    &job,
                    JobState::Delivered,
                    None,
                    None,
                    Some((done, rendered.1.bytes.len() as i64, timings)),
                )
                .await;
                attempt = 0;
            }
            Ok(Delivery::NotReady(reason, _)) => {
                let code = not_ready_code(reason);
                let state = PrinterState::from(reason);
                if slot.set_state(state) {
                    queue.publish_printer(&slot, state, not_ready_text(reason));
                }
                let message = format!(
                    "printer {name}: {}; the job prints when it is ready",
                    not_ready_text(reason)
                );
                if !options.queue {
                    let e = PrintError::NotReady {
                        printer: name.clone(),
                        reason,
                    };
                    finish(
                        &queue,
                        &job,
                        JobState::Failed,
                        Some(code),
                        Some(e.to_string()),
                        None,
                    )
                    .await;
                    continue;
                }
                wait_for_printer(&queue, &slot, &job, code, message, attempt).await;
                attempt += 1;
                prepared = Some(rendered);
            }
            Err(e) => {
                attempt += 1;
                let mid_job = !matches!(e, TransportError::Connect { .. });
                tracing::warn!(printer = %name, job = job.id, attempt, error = %e, "delivery failed");
                if mid_job && attempt < MID_JOB_RETRIES {
                    prepared = Some(rendered);
                    tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                    continue;
                }
                let err = PrintError::Transport {
                    printer: name.clone(),
                    source: e,
                };
                let code = err.code();
                if slot.set_state(PrinterState::Offline) {
                    queue.publish_printer(&slot, PrinterState::Offline, &err.to_string());
                }
                if !options.queue || code != ErrorCode::PrinterOffline {
                    finish(
                        &queue,
                        &job,
                        JobState::Failed,
                        Some(code),
                        Some(err.to_string()),
                        None,
                    )
                    .await;
                    continue;
                }
                wait_for_printer(
                    &queue,
                    &slot,
                    &job,
                    code,
                    format!("{err}; the job prints when the printer is back"),
                    attempt,
                )
                .await;
                prepared = Some(rendered);
            }
        }
    }
}

/// Builds and encodes the job for this printer.
async fn render(
    queue: &Queue,
    slot: &Slot,
    job: &JobRow,
    data: &[u8],
    options: &crate::modules::print::document::Options,
) -> Result<Rendered, PrintError> {
    let program = build_program(
        job.format,
        data,
        options,
        &slot.config,
        &queue.inner.renderer,
    )
    .await?;
    let bytes = escpos::encode(
        &program,
        Profile {
            codepage: slot.config.codepage,
        },
    );
    let ignore_paper =
        !program.ops.is_empty() && program.ops.iter().all(|op| matches!(op, Op::Drawer { .. }));
    Ok(Rendered {
        bytes,
        program,
        ignore_paper,
    })
}

/// Records WAITING (once per reason) and sleeps until the retry time, a nudge, or shutdown.
async fn wait_for_printer(
    queue: &Queue,
    slot: &Slot,
    job: &JobRow,
    code: ErrorCode,
    message: String,
    attempt: u32,
) {
    slot.set_blocked(Some((
        code,
        format!("waiting behind job {}: {message}", job.id),
    )));
    if job.state != JobState::Waiting || job.reason != Some(code) {
        match queue
            .inner
            .store
            .set_state(
                job.id,
                JobState::Waiting,
                Some(code),
                Some(message.clone()),
                None,
            )
            .await
        {
            Ok(true) => {
                let mut row = job.clone();
                row.state = JobState::Waiting;
                row.reason = Some(code);
                row.message = Some(message);
                row.attempts += 1;
                queue.publish(&row);
            }
            Ok(false) => return,
            Err(e) => tracing::error!(job = job.id, error = %e, "cannot record the job as waiting"),
        }
    }
    tokio::select! {
        _ = queue.inner.shutdown.cancelled() => {}
        _ = slot.wake.notified() => {}
        _ = tokio::time::sleep(retry_delay(attempt)) => {}
    }
}

/// Records a final state and tells everyone.
async fn finish(
    queue: &Queue,
    job: &JobRow,
    new_state: JobState,
    reason: Option<ErrorCode>,
    message: Option<String>,
    done: Option<(i64, i64, serde_json::Value)>,
) {
    let finished_at = done.as_ref().map(|d| d.0).unwrap_or_else(now_ms);
    let (bytes, timings) = match &done {
        Some((_, b, t)) => (Some(*b), Some(t.clone())),
        None => (None, None),
    };
    let stored = queue
        .inner
        .store
        .set_state(
            job.id,
            new_state,
            reason,
            message.clone(),
            Some((
                finished_at,
                bytes.unwrap_or(0),
                timings.clone().unwrap_or(serde_json::Value::Null),
            )),
        )
        .await;
    match stored {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => tracing::error!(job = job.id, error = %e, "cannot record the job's outcome"),
    }
    let mut row = job.clone();
    queue.released(&row);
    row.state = new_state;
    row.reason = reason;
    row.message = message;
    row.finished_at = Some(finished_at);
    row.bytes = bytes;
    row.timings = timings;
    queue.publish(&row);
}

//! Group commit for new jobs: requests that arrive together are stored in one transaction, so a
//! burst of tickets costs one disk flush instead of one each — and every request still gets its
//! reply only after its own job is committed.
//!
//! One task owns the batching; it stops with the engine. Order within a batch is arrival order.

use super::store::{Inserted, JobStore, NewJob};
use crate::store::StoreError;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Most jobs stored by one transaction.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Inserted, BatchError>>;

/// A cheap handle to the batching task.
#[derive(Clone)]
pub(crate) struct Inserter {
    tx: mpsc::UnboundedSender<(NewJob, Reply)>,
}

impl Inserter {
    /// Starts the task.
    pub(crate) fn start(
        store: JobStore,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Inserter {
        let (tx, rx) = mpsc::unbounded_channel();
        tracker.spawn(run(store, rx, shutdown));
        Inserter { tx }
    }

    /// Puts `job` in line to be stored (synchronously, so the caller can keep arrival order);
    /// await the returned [`Pending`] for the committed row.
    pub(crate) fn enqueue(&self, job: NewJob) -> Pending {
        let (reply, wait) = oneshot::channel();
        let sent = self.tx.send((job, reply)).is_ok();
        Pending { wait, sent }
    }
}

/// Why a batch was not stored, for every job in it (errors cannot be cloned, their kind can).
#[derive(Debug, Clone)]
enum BatchError {
    Full(String),
    Other(String),
}

/// A job on its way into the database.
pub(crate) struct Pending {
    wait: oneshot::Receiver<Result<Inserted, BatchError>>,
    sent: bool,
}

impl Pending {
    /// The job as stored (new, or the one already stored under its UUID), once committed.
    ///
    /// Fails when the database cannot be written or the engine is stopping.
    pub(crate) async fn committed(self) -> Result<Inserted, StoreError> {
        let stopping = || StoreError::Worker("the print queue is stopping".into());
        if !self.sent {
            return Err(stopping());
        }
        match self.wait.await {
            Ok(r) => r.map_err(|e| match e {
                BatchError::Full(m) => StoreError::Full(m),
                BatchError::Other(m) => StoreError::Worker(m),
            }),
            Err(_) => Err(stopping()),
        }
    }
}

async fn run(
    store: JobStore,
    mut rx: mpsc::UnboundedReceiver<(NewJob, Reply)>,
    shutdown: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = rx.recv() => match next { Some(n) => n, None => return },
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let (jobs, replies): (Vec<NewJob>, Vec<Reply>) = batch.into_iter().unzip();
        let s = store.clone();
        let result = tokio::task::spawn_blocking(move || s.insert_batch_blocking(&jobs))
            .await
            .map_err(|e| BatchError::Other(e.to_string()))
            .and_then(|r| {
                r.map_err(|e| {
                    if e.is_full() {
                        BatchError::Full(e.to_string())
                    } else {
                        BatchError::Other(e.to_string())
                    }
                })
            });
        match result {
            Ok(rows) => {
                for (reply, row) in replies.into_iter().zip(rows) {
                    let _ = reply.send(Ok(row));
                }
            }
            Err(e) => {
                tracing::error!(error = ?e, "print jobs could not be stored");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

//! Group commit for durable requests: rows that arrive together are written by one transaction,
//! so a burst costs one disk flush instead of one each — and every caller still gets its answer
//! only after its own row is committed. The print queue's jobs and the payment journal's
//! payments both go through it; what a batch writes is the owner's closure.
//!
//! One task owns the batching; it stops with the engine. Order within a batch is arrival order.

use super::StoreError;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Most rows written by one transaction.
const MAX_BATCH: usize = 256;

type Reply<O> = oneshot::Sender<Result<O, BatchError>>;

/// Why a batch was not stored, for every row in it (errors cannot be cloned, their kind can: a
/// full disk must reach the caller as such, to be answered STORAGE_FULL).
#[derive(Debug, Clone)]
enum BatchError {
    Full(String),
    Other(String),
}

/// Writes a batch in one transaction, one result per item in order. Blocking (it runs on the
/// blocking pool); fails as a whole, then nothing of the batch is stored.
pub type WriteBatch<I, O> = Arc<dyn Fn(&[I]) -> Result<Vec<O>, StoreError> + Send + Sync>;

/// A cheap handle to the batching task.
pub struct GroupCommit<I, O> {
    tx: mpsc::UnboundedSender<(I, Reply<O>)>,
}

impl<I, O> Clone for GroupCommit<I, O> {
    fn clone(&self) -> Self {
        GroupCommit {
            tx: self.tx.clone(),
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> GroupCommit<I, O> {
    /// Starts the task; `what` names the rows in the log ("print jobs", "payments").
    pub fn start(
        what: &'static str,
        write: WriteBatch<I, O>,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> GroupCommit<I, O> {
        let (tx, rx) = mpsc::unbounded_channel();
        tracker.spawn(run(what, write, rx, shutdown));
        GroupCommit { tx }
    }

    /// Puts `item` in line to be stored (synchronously, so the caller can keep arrival order);
    /// await the returned [`Pending`] for the committed row.
    pub fn enqueue(&self, item: I) -> Pending<O> {
        let (reply, wait) = oneshot::channel();
        let sent = self.tx.send((item, reply)).is_ok();
        Pending { wait, sent }
    }
}

/// A row on its way into the database.
pub struct Pending<O> {
    wait: oneshot::Receiver<Result<O, BatchError>>,
    sent: bool,
}

impl<O> Pending<O> {
    /// The batch writer's result for this row, once committed.
    ///
    /// Fails when the database cannot be written or the engine is stopping.
    pub async fn committed(self) -> Result<O, StoreError> {
        let stopping = || StoreError::Worker("the service is stopping".into());
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

async fn run<I: Send + 'static, O: Send + 'static>(
    what: &'static str,
    write: WriteBatch<I, O>,
    mut rx: mpsc::UnboundedReceiver<(I, Reply<O>)>,
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
        let (items, replies): (Vec<I>, Vec<Reply<O>>) = batch.into_iter().unzip();
        let w = write.clone();
        let result = tokio::task::spawn_blocking(move || w(&items))
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
                tracing::error!(error = ?e, "{what} could not be stored");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

//! Group commit: writes that arrive together are applied in one transaction, so a burst costs one
//! disk flush instead of one each — and every caller still gets its answer only after its own
//! write is committed. The print queue stores new jobs through it; CACHE its SETs and DELETEs.
//!
//! One task owns the batching; it stops with the engine. Order within a batch is arrival order.
//! What a write does is the owner's `apply` function; this file knows no table.

use super::StoreError;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Most writes applied by one transaction.
const MAX_BATCH: usize = 256;

type Reply<Out> = oneshot::Sender<Result<Out, String>>;

/// Applies a batch in one transaction and returns one output per write, in order. Blocking: it
/// runs on the blocking pool. An `Err` means nothing of the batch was kept.
pub type Apply<Op, Out> = dyn Fn(Vec<Op>) -> Result<Vec<Out>, StoreError> + Send + Sync;

/// A cheap handle to the batching task.
pub struct GroupCommit<Op, Out> {
    tx: mpsc::UnboundedSender<(Op, Reply<Out>)>,
    name: &'static str,
}

impl<Op, Out> Clone for GroupCommit<Op, Out> {
    fn clone(&self) -> Self {
        GroupCommit {
            tx: self.tx.clone(),
            name: self.name,
        }
    }
}

impl<Op: Send + 'static, Out: Send + 'static> GroupCommit<Op, Out> {
    /// Starts the task; `name` ("print jobs", "cache") is used in logs and errors.
    pub fn start(
        name: &'static str,
        apply: Arc<Apply<Op, Out>>,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> GroupCommit<Op, Out> {
        let (tx, rx) = mpsc::unbounded_channel();
        tracker.spawn(run(name, apply, rx, shutdown));
        GroupCommit { tx, name }
    }

    /// Puts `op` in line (synchronously, so the caller can keep arrival order); await the
    /// returned [`Pending`] for its committed output.
    pub fn enqueue(&self, op: Op) -> Pending<Out> {
        let (reply, wait) = oneshot::channel();
        let sent = self.tx.send((op, reply)).is_ok();
        Pending {
            wait,
            sent,
            name: self.name,
        }
    }
}

/// A write on its way into the database.
pub struct Pending<Out> {
    wait: oneshot::Receiver<Result<Out, String>>,
    sent: bool,
    name: &'static str,
}

impl<Out> Pending<Out> {
    /// The write's output, once committed.
    ///
    /// Fails when the database cannot be written or the engine is stopping.
    pub async fn committed(self) -> Result<Out, StoreError> {
        let name = self.name;
        let stopping = || StoreError::Worker(format!("the {name} writer is stopping"));
        if !self.sent {
            return Err(stopping());
        }
        match self.wait.await {
            Ok(r) => r.map_err(StoreError::Worker),
            Err(_) => Err(stopping()),
        }
    }
}

async fn run<Op: Send + 'static, Out: Send + 'static>(
    name: &'static str,
    apply: Arc<Apply<Op, Out>>,
    mut rx: mpsc::UnboundedReceiver<(Op, Reply<Out>)>,
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
        let (ops, replies): (Vec<Op>, Vec<Reply<Out>>) = batch.into_iter().unzip();
        let f = apply.clone();
        let result = tokio::task::spawn_blocking(move || f(ops))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        match result {
            Ok(outs) => {
                for (reply, out) in replies.into_iter().zip(outs) {
                    let _ = reply.send(Ok(out));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "{name}: a batch could not be stored");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_burst_shares_batches_and_each_caller_gets_its_own_output() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let apply: Arc<Apply<u32, u32>> = Arc::new(move |ops: Vec<u32>| {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(ops.into_iter().map(|x| x * 2).collect())
        });
        let tracker = TaskTracker::new();
        let gc = GroupCommit::start("test", apply, &tracker, CancellationToken::new());
        let pending: Vec<_> = (0..100).map(|i| gc.enqueue(i)).collect();
        for (i, p) in pending.into_iter().enumerate() {
            assert_eq!(p.committed().await.unwrap(), i as u32 * 2);
        }
        assert!(batches.load(Ordering::SeqCst) < 100, "writes were batched");
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_caller_in_it() {
        let apply: Arc<Apply<u32, u32>> = Arc::new(|_| Err(StoreError::Worker("disk full".into())));
        let tracker = TaskTracker::new();
        let gc = GroupCommit::start("test", apply, &tracker, CancellationToken::new());
        assert!(gc.enqueue(1).committed().await.is_err());
    }
}

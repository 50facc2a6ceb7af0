//! What the queue may hold: bytes of documents waiting to print (PRINT_QUEUE_MAX_MB) and, per
//! client, documents waiting to be rendered (PRINT_MAX_PENDING_RENDERS), so one page cannot fill
//! the disk or keep the browser busy for every other till. Refusals are PRINT_QUEUE_FULL, before
//! anything is stored. Kept in memory; the waiting bytes are read back from the table at start.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Why a job was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverBudget {
    Bytes { waiting: u64, max: u64 },
    Renders { client: String, max: usize },
}

/// The queue's budget.
#[derive(Debug)]
pub(crate) struct Budget {
    max_bytes: u64,
    max_renders: usize,
    waiting_bytes: AtomicU64,
    /// UUIDV4 → (client, bytes, needs a render) of jobs accepted by this run and still waiting.
    jobs: Mutex<HashMap<String, (String, u64, bool)>>,
    renders: Mutex<HashMap<String, usize>>,
}

impl Budget {
    pub(crate) fn new(max_bytes: u64, max_renders: usize, waiting_bytes: u64) -> Self {
        Budget {
            max_bytes,
            max_renders,
            waiting_bytes: AtomicU64::new(waiting_bytes),
            jobs: Mutex::default(),
            renders: Mutex::default(),
        }
    }

    /// Takes room for a job of `bytes` from `client` (`render`: HTML, PDF or an image).
    ///
    /// Fails when the queue holds too much or the client has too many renders waiting.
    pub(crate) fn take(
        &self,
        uuid: &str,
        client: &str,
        bytes: u64,
        render: bool,
    ) -> Result<(), OverBudget> {
        let waiting = self.waiting_bytes.load(Ordering::Relaxed);
        if waiting + bytes > self.max_bytes {
            return Err(OverBudget::Bytes {
                waiting,
                max: self.max_bytes,
            });
        }
        if render {
            let mut r = self.renders.lock().map_err(|_| OverBudget::Renders {
                client: client.into(),
                max: self.max_renders,
            })?;
            let n = r.entry(client.to_string()).or_insert(0);
            if *n >= self.max_renders {
                return Err(OverBudget::Renders {
                    client: client.into(),
                    max: self.max_renders,
                });
            }
            *n += 1;
        }
        self.waiting_bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Ok(mut j) = self.jobs.lock() {
            j.insert(uuid.to_string(), (client.to_string(), bytes, render));
        }
        Ok(())
    }

    /// The bytes waiting, as read from the table (at start).
    pub(crate) fn reset_waiting(&self, bytes: u64) {
        self.waiting_bytes.store(bytes, Ordering::Relaxed);
    }

    /// A job taken by [`Budget::take`] turned out to be a repeat (nothing new was stored).
    pub(crate) fn give_back(&self, uuid: &str) {
        self.release(uuid, 0);
    }

    /// A job stopped waiting (printed, failed, cancelled, expired): its room is free again.
    /// `size` counts jobs from before a restart, which this run never took.
    pub(crate) fn release(&self, uuid: &str, size: u64) {
        let taken = self.jobs.lock().ok().and_then(|mut j| j.remove(uuid));
        let bytes = match taken {
            Some((client, bytes, render)) => {
                if render {
                    if let Ok(mut r) = self.renders.lock() {
                        if let Some(n) = r.get_mut(&client) {
                            *n = n.saturating_sub(1);
                        }
                    }
                }
                bytes
            }
            None => size,
        };
        let _ = self
            .waiting_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                Some(w.saturating_sub(bytes))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_refuses_until_a_job_is_done() {
        let b = Budget::new(100, 10, 0);
        b.take("a", "pos", 60, false).unwrap();
        assert!(matches!(
            b.take("b", "pos", 60, false),
            Err(OverBudget::Bytes { .. })
        ));
        b.release("a", 0);
        b.take("b", "pos", 60, false).unwrap();
    }

    #[test]
    fn one_client_cannot_hold_every_render_but_another_still_can() {
        let b = Budget::new(1 << 30, 2, 0);
        b.take("1", "https://a.example", 1, true).unwrap();
        b.take("2", "https://a.example", 1, true).unwrap();
        assert!(matches!(
            b.take("3", "https://a.example", 1, true),
            Err(OverBudget::Renders { .. })
        ));
        b.take("4", "https://b.example", 1, true).unwrap();
        b.take("5", "https://a.example", 1, false).unwrap();
        b.release("1", 0);
        b.take("3", "https://a.example", 1, true).unwrap();
    }

    #[test]
    fn jobs_from_before_a_restart_are_released_by_their_size() {
        let b = Budget::new(100, 1, 90);
        assert!(b.take("x", "pos", 20, false).is_err());
        b.release("old", 50);
        b.take("x", "pos", 20, false).unwrap();
    }
}

//! Arrival order for one printer's jobs. Requests are handled concurrently (a big PDF decodes
//! while a small ticket arrives), but jobs must be queued in the order the POS sent them. A
//! ticket is taken synchronously when the request is routed, and a job is stored only when every
//! earlier ticket is done — stored, refused or abandoned (a dropped ticket counts as done).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Default)]
struct Turns {
    next: u64,
    serving: u64,
    done_early: BTreeSet<u64>,
}

/// One printer's turnstile; a cheap clone.
#[derive(Clone, Default)]
pub(crate) struct Turnstile {
    turns: Arc<Mutex<Turns>>,
    notify: Arc<Notify>,
}

/// A place in line; dropping it lets the next one through.
pub struct Ticket {
    n: u64,
    gate: Turnstile,
}

impl Turnstile {
    /// The next place in line.
    pub(crate) fn ticket(&self) -> Ticket {
        let n = self.turns.lock().map(|mut t| {
            let n = t.next;
            t.next += 1;
            n
        });
        Ticket {
            n: n.unwrap_or(0),
            gate: self.clone(),
        }
    }
}

impl Ticket {
    /// Waits until every earlier ticket is done.
    pub async fn wait_turn(&self) {
        loop {
            let notified = self.gate.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let serving = self.gate.turns.lock().map(|t| t.serving).unwrap_or(self.n);
            if serving >= self.n {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let Ok(mut t) = self.gate.turns.lock() else {
            return;
        };
        if t.serving == self.n {
            t.serving += 1;
            loop {
                let s = t.serving;
                if !t.done_early.remove(&s) {
                    break;
                }
                t.serving += 1;
            }
            drop(t);
            self.gate.notify.notify_waiters();
        } else {
            t.done_early.insert(self.n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn later_tickets_wait_for_earlier_ones_and_abandoned_ones_do_not_block() {
        let gate = Turnstile::default();
        let first = gate.ticket();
        let second = gate.ticket();
        let third = gate.ticket();
        drop(second);
        let waiter = tokio::spawn(async move {
            third.wait_turn().await;
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "the first ticket is still out");
        first.wait_turn().await;
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}

//! Moves a started transaction along in time: waits the current step's time (a pace step, the
//! slow time, or forever), then advances it, until it finishes, waits forever, or is no longer
//! the terminal's (cancelled, restarted). The only place the Paytef simulator sleeps; tests do
//! not sleep, they wait for changes.

use super::scenario::Wait;
use super::{PaytefEvent, Shared};
use std::sync::Arc;

pub(crate) async fn run(shared: Arc<Shared>, index: usize) {
    loop {
        let (from, wait) = {
            let state = shared.lock();
            let terminal = &state.api.terminal;
            let Some(tx) = terminal.transactions.get(index) else {
                return;
            };
            if !terminal.runs(index) {
                return;
            }
            (tx.step_index(), tx.wait())
        };
        let delay = match wait {
            Wait::Steps(n) => shared.pace.step * n,
            Wait::Slow => shared.pace.slow,
            Wait::Forever => return,
        };
        tokio::select! {
            _ = shared.cancel.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        let event = {
            let mut state = shared.lock();
            let terminal = &mut state.api.terminal;
            if !terminal.advance(index, from) {
                continue;
            }
            terminal
                .transactions
                .get(index)
                .map(PaytefEvent::from_transaction)
        };
        shared.changed(event);
    }
}

//! The handle that asks the process hosting the engine to restart or stop it.
//!
//! It is core, not part of `host.rs`, so BASE (CONFIG_SAVE, RESTART) can be handed one without
//! importing the host; the host owns the receiving end and decides what a restart means.

use tokio::sync::mpsc;

/// What the host is asked to do.
#[derive(Debug)]
pub enum HostCommand {
    /// Stop the engine, reload the configuration and start again.
    Restart(String),
    /// Stop the engine and return from the host's run loop.
    Stop,
}

/// A cheap, cloneable handle that sends [`HostCommand`]s to the host.
#[derive(Clone, Debug)]
pub struct Control {
    tx: mpsc::UnboundedSender<HostCommand>,
}

impl Control {
    /// A control and the receiver the host reads commands from.
    pub fn channel() -> (Control, mpsc::UnboundedReceiver<HostCommand>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Control { tx }, rx)
    }

    /// Asks for an in-process restart; false when the host has already stopped.
    pub fn restart(&self, reason: impl Into<String>) -> bool {
        self.tx.send(HostCommand::Restart(reason.into())).is_ok()
    }

    /// Asks the host to stop the engine and return.
    pub fn stop(&self) {
        let _ = self.tx.send(HostCommand::Stop);
    }
}

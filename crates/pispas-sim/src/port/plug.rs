//! Runs a device session on a port and lets tests pull the cable: `unplug` ends the session
//! and closes the line (for a pty: closes the master and removes the link), `plug` opens a new
//! line at the same place (same link path, so the engine's configured path stays valid). A
//! session that ends with `Dropped` is reopened at once (a printer dropping one connection).

use super::{BoxPort, PortSpec};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Why a session returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// Unplugged or shut down.
    Cancelled,
    /// The device hung up on purpose (fault injection): reopen the line.
    Dropped,
    /// The line failed (read or write error).
    Closed,
}

/// The device behaviour run on an open line.
pub trait Session: Send + Sync + 'static {
    fn run(
        &self,
        port: BoxPort,
        cancel: CancellationToken,
    ) -> Pin<Box<dyn Future<Output = SessionEnd> + Send + 'static>>;
}

struct Running {
    cancel: CancellationToken,
    handle: JoinHandle<()>,
}

pub struct Plug {
    spec: PortSpec,
    session: Arc<dyn Session>,
    shutdown: CancellationToken,
    running: Mutex<Option<Running>>,
}

impl Plug {
    /// A plug that is not yet plugged in; `shutdown` ends every session it starts.
    pub fn new(spec: PortSpec, session: Arc<dyn Session>, shutdown: CancellationToken) -> Plug {
        Plug {
            spec,
            session,
            shutdown,
            running: Mutex::new(None),
        }
    }

    pub fn spec(&self) -> &PortSpec {
        &self.spec
    }

    /// Opens the line and starts the session; a no-op when already plugged. Fails when the
    /// line cannot be opened (see `PortSpec::open`).
    pub async fn plug(&self) -> io::Result<()> {
        let mut running = self.running.lock().await;
        if running.as_ref().is_some_and(|r| !r.handle.is_finished()) {
            return Ok(());
        }
        let port = self.spec.open()?;
        let cancel = self.shutdown.child_token();
        let (spec, session, token) = (self.spec.clone(), self.session.clone(), cancel.clone());
        let handle = tokio::spawn(async move {
            let mut port = port;
            loop {
                let end = session.run(port, token.clone()).await;
                if end != SessionEnd::Dropped || token.is_cancelled() {
                    break;
                }
                match spec.open() {
                    Ok(p) => port = p,
                    Err(_) => break,
                }
            }
        });
        *running = Some(Running { cancel, handle });
        Ok(())
    }

    /// Ends the session and closes the line; returns once the line is closed.
    pub async fn unplug(&self) {
        if let Some(running) = self.running.lock().await.take() {
            running.cancel.cancel();
            let _ = running.handle.await;
        }
    }

    /// Unplugs, then plugs a new line in at the same place.
    pub async fn replug(&self) -> io::Result<()> {
        self.unplug().await;
        self.plug().await
    }

    pub async fn is_plugged(&self) -> bool {
        self.running
            .lock()
            .await
            .as_ref()
            .is_some_and(|r| !r.handle.is_finished())
    }
}

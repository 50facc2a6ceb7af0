//! The virtual printer on a pty (Unix only), so the engine can use it as a serial printer:
//! the link path plays `/dev/ttyUSB0`. Jobs end at cuts, since a serial line has no
//! connections; `drop_after` closes the pty and opens a new one behind the same link.

use super::session::{serve, JobSplit};
use super::state::Shared;
use crate::port::{BoxPort, Plug, PortSpec, Session, SessionEnd};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

struct PrinterSession {
    shared: Arc<Shared>,
    transport: String,
}

impl Session for PrinterSession {
    fn run(
        &self,
        port: BoxPort,
        cancel: CancellationToken,
    ) -> Pin<Box<dyn Future<Output = SessionEnd> + Send + 'static>> {
        Box::pin(serve(
            self.shared.clone(),
            port,
            self.transport.clone(),
            JobSplit::AtCuts,
            cancel,
        ))
    }
}

/// Makes the pty, points `link` at it and serves it until `cancel`. Fails as `PtyStream::open`.
pub(crate) async fn open(
    shared: Arc<Shared>,
    link: &Path,
    cancel: CancellationToken,
) -> std::io::Result<Arc<Plug>> {
    let session = Arc::new(PrinterSession {
        shared,
        transport: format!("pty {}", link.display()),
    });
    let plug = Arc::new(Plug::new(
        PortSpec::Pty(link.to_path_buf()),
        session,
        cancel,
    ));
    plug.plug().await?;
    Ok(plug)
}

//! The myPOS terminal on a serial line (USB-CDC / RS-232, as a Sigma), played by a pty whose
//! slave the engine opens (Unix only). Same framing as TCP; the line is one long "connection".

use super::{session, Shared};
use crate::port::{BoxPort, Plug, PortSpec, Session, SessionEnd};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

struct SerialSession {
    shared: Arc<Shared>,
    transport: String,
}

impl Session for SerialSession {
    fn run(
        &self,
        port: BoxPort,
        cancel: CancellationToken,
    ) -> Pin<Box<dyn Future<Output = SessionEnd> + Send + 'static>> {
        let (shared, transport) = (self.shared.clone(), self.transport.clone());
        Box::pin(async move {
            tokio::select! {
                _ = cancel.cancelled() => SessionEnd::Cancelled,
                _ = session::serve(shared, port, transport, false) => SessionEnd::Closed,
            }
        })
    }
}

/// Makes the pty, points `link` at it and serves it. Fails when no pty can be made or `link`
/// is a file that is not a symlink.
pub(crate) async fn open(shared: Arc<Shared>, link: &Path) -> std::io::Result<Plug> {
    let cancel = shared.cancel.clone();
    let session = Arc::new(SerialSession {
        shared,
        transport: format!("serial {}", link.display()),
    });
    let plug = Plug::new(PortSpec::Pty(link.to_path_buf()), session, cancel);
    plug.plug().await?;
    Ok(plug)
}

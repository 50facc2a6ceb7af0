//! The raw ESC/POS TCP port (9100 style). Like an Epson network interface it serves one
//! connection at a time: a second connection is accepted but not read until the first closes.

use super::session::{serve, JobSplit};
use super::state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Binds `addr` and serves it until `cancel`. Fails when the address cannot be bound.
pub(crate) async fn listen(
    shared: Arc<Shared>,
    addr: &str,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let one_at_a_time = Arc::new(Semaphore::new(1));
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = cancel.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let Ok((socket, peer)) = accepted else {
                // Out of descriptors or similar: back off a little rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let _ = socket.set_nodelay(true);
            let (shared, gate, cancel) = (shared.clone(), one_at_a_time.clone(), cancel.clone());
            tokio::spawn(async move {
                let permit = tokio::select! {
                    () = cancel.cancelled() => return,
                    permit = gate.acquire_owned() => permit,
                };
                let Ok(_permit) = permit else { return };
                serve(
                    shared,
                    socket,
                    format!("tcp {peer}"),
                    JobSplit::PerConnection,
                    cancel,
                )
                .await;
            });
        }
    });
    Ok(local)
}

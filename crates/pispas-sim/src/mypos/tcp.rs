//! The myPOS terminal's TCP side ("ECR mode" over Wi-Fi): the terminal is the server and
//! accepts several connections, but runs one transaction at a time (the others get BUSY).

use super::{session, Shared};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Binds `addr` and serves until the simulator stops. Fails when it cannot bind.
pub(crate) async fn listen(shared: Arc<Shared>, addr: &str) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = shared.cancel.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let Ok((socket, peer)) = accepted else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let _ = socket.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(session::serve(shared, socket, format!("tcp {peer}"), true));
        }
    });
    Ok(local)
}

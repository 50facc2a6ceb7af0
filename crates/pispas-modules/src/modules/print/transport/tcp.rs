//! TCP (raw port 9100, "JetDirect"): connect with a timeout, and close politely so the printer's
//! single connection slot is free for the next till at once.
//!
//! A connection is opened per job rather than held: most network printers accept one client at a
//! time, and a held socket would lock the other tills out.

use super::TransportError;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Connects to `host:port` within `wait`.
///
/// Fails when the name does not resolve, the connection is refused, or it takes too long.
pub async fn connect(host: &str, port: u16, wait: Duration) -> Result<TcpStream, TransportError> {
    let what = format!("{host}:{port}");
    let stream = tokio::time::timeout(wait, TcpStream::connect((host, port)))
        .await
        .map_err(|_| TransportError::Connect {
            what: what.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer in {wait:?}"),
            ),
        })?
        .map_err(|source| TransportError::Connect { what, source })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Shuts the write side down so the printer sees the end of the job, without waiting long.
pub async fn finish(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_millis(500), stream.shutdown()).await;
}

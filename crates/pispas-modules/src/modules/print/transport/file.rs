//! `file://` printers: the job's bytes are appended to a file, for debugging a POS without a
//! printer (decode the file with the simulator, or `cat` it to a real printer later).

use super::TransportError;
use tokio::io::AsyncWriteExt;

/// Appends `bytes` to `path`, creating it.
///
/// Fails when the file cannot be opened or written.
pub async fn append(path: &str, bytes: &[u8]) -> Result<(), TransportError> {
    let mut f = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await
        .map_err(|source| TransportError::Connect {
            what: path.to_string(),
            source,
        })?;
    f.write_all(bytes).await?;
    f.flush().await?;
    Ok(())
}

/// Whether the file can be opened for appending.
///
/// Fails as [`append`] does.
pub async fn check(path: &str) -> Result<(), TransportError> {
    append(path, &[]).await
}

//! Serial and Bluetooth SPP printers (`serial://COM3`, `serial:///dev/ttyUSB0`).
//!
//! The port is opened read-write as a device file; line settings are left to the OS (a pty
//! ignores them and most USB-serial printers autobaud or use the driver's default). To be
//! replaced by the engine's shared `transport::serial` (tokio-serial) when it lands, which sets
//! `baud` and friends properly.

use super::TransportError;
use tokio::fs::File;

/// Opens the port at `path`. `baud` is recorded for the log only until the shared serial
/// transport sets it.
///
/// Fails when the port does not exist or is in use.
pub async fn open(path: &str, baud: u32) -> Result<File, TransportError> {
    let device = device_path(path);
    tracing::trace!(port = %device, baud, "opening serial printer");
    tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&device)
        .await
        .map_err(|source| TransportError::Connect { what: device, source })
}

/// `COM10` needs the `\\.\` prefix on Windows; elsewhere the path is used as is.
fn device_path(path: &str) -> String {
    if cfg!(windows) && path.to_ascii_uppercase().starts_with("COM") {
        format!(r"\\.\{path}")
    } else {
        path.to_string()
    }
}

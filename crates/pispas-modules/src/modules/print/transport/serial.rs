//! Serial and Bluetooth SPP printers (`serial://COM3`, `serial:///dev/ttyUSB0?baud=19200`),
//! opened through the engine's shared serial transport (tokio-serial) with the line settings
//! from the URI (`baud`, `parity`, `databits`, `stopbits`; default 9600 8N1).

use super::TransportError;
use crate::transport::serial::{self, SerialSettings};
use crate::transport::BoxedIo;

/// Opens the port at `path`.
///
/// Fails when the port does not exist, is in use or refuses the settings.
pub async fn open(path: &str, settings: &SerialSettings) -> Result<BoxedIo, TransportError> {
    serial::open(path, settings).map_err(|source| TransportError::Connect {
        what: format!("{path} ({})", settings.describe()),
        source,
    })
}

//! A real serial port (any OS) as a device's line, through tokio-serial. Used when the
//! simulator is given `--port COMn` / `--port /dev/ttyX` instead of making a pty.

use super::{BoxPort, Port};
use std::io;

impl Port for tokio_serial::SerialStream {}

/// Opens `name` at `baud`, 8N1. Fails when the port does not exist or is busy.
pub(super) fn open(name: &str, baud: u32) -> io::Result<BoxPort> {
    let builder = tokio_serial::new(name, baud);
    let stream = tokio_serial::SerialStream::open(&builder).map_err(io::Error::from)?;
    Ok(Box::new(stream))
}

//! Where a simulated serial device lives: a pty pair with a symlink the engine opens (Unix), or
//! a real serial port given by name (`COM3`, `/dev/ttyUSB1`: for a null-modem cable or a
//! virtual COM pair on Windows). `Plug` runs a device session on it and unplugs/replugs it.
//! Device behaviour is not here.

mod plug;
#[cfg(unix)]
mod pty;
mod serial;

pub use plug::{Plug, Session, SessionEnd};
#[cfg(unix)]
pub use pty::PtyStream;

use std::io;
use std::path::PathBuf;
use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream to a host, as a device sees it.
pub trait Port: AsyncRead + AsyncWrite + Unpin + Send {
    /// Throws away bytes this device wrote that the host has not read yet. A serial line
    /// nobody listens to loses what is sent on it; a pty would keep it for whoever opens the
    /// slave next, so streaming devices call this before each unsolicited frame.
    fn discard_unread(&self) {}
}

impl Port for tokio::io::DuplexStream {}

pub type BoxPort = Box<dyn Port>;

/// How to open the device's end of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    /// A new pty pair, the slave reachable through a symlink at this path (like socat's
    /// `link=`). Unplug removes the link; replug makes a new pair behind the same link.
    #[cfg(unix)]
    Pty(PathBuf),
    /// A serial port opened by name at this baud rate.
    Serial { name: String, baud: u32 },
}

impl PortSpec {
    /// Opens the line. Fails when the pty cannot be made or the link path is taken by a
    /// file that is not a symlink, or when the serial port cannot be opened.
    pub fn open(&self) -> io::Result<BoxPort> {
        match self {
            #[cfg(unix)]
            PortSpec::Pty(link) => Ok(Box::new(PtyStream::open(link)?)),
            PortSpec::Serial { name, baud } => serial::open(name, *baud),
        }
    }

    /// The path or port name the engine should be configured with.
    pub fn device_path(&self) -> String {
        match self {
            #[cfg(unix)]
            PortSpec::Pty(link) => link.display().to_string(),
            PortSpec::Serial { name, .. } => name.clone(),
        }
    }

    /// The link path of a pty spec.
    pub fn link(&self) -> Option<PathBuf> {
        match self {
            #[cfg(unix)]
            PortSpec::Pty(link) => Some(link.clone()),
            PortSpec::Serial { .. } => None,
        }
    }
}

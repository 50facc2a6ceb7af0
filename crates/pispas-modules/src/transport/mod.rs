//! Byte transports shared by device modules: device URIs, the one opener for serial ports, TCP
//! sockets and USB nodes ([`Endpoint`]), reconnect backoff and a device's link state.
//!
//! Drivers never name a concrete port type: they take `AsyncRead + AsyncWrite` (see
//! [`DeviceIo`]), so tests plug in a duplex stream or a pty and production a serial port.

pub mod backoff;
pub mod endpoint;
pub mod http;
pub mod link;
pub mod serial;
pub mod uri;
pub mod usb;
pub mod ws_client;

pub use endpoint::Endpoint;

use tokio::io::{AsyncRead, AsyncWrite};

/// Any two-way byte stream a driver can talk over.
pub trait DeviceIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> DeviceIo for T {}

/// A boxed transport, as returned by openers.
pub type BoxedIo = Box<dyn DeviceIo>;

//! Where a device's bytes come from, and the one opener every module uses: a serial port (also
//! Bluetooth SPP and ptys), a TCP socket (a network printer's port 9100, a scale behind a serial
//! device server) or a USB printer node. Each gives a two-way [`BoxedIo`].
//!
//! Parsing a module's own URI schemes stays with the module; this file only opens. One call is
//! one attempt: nothing here retries.

use super::serial::{self, SerialSettings};
use super::uri::{DeviceUri, UriError};
use super::usb::{self, UsbDevice};
use super::BoxedIo;
use std::io;
use std::time::Duration;

/// A two-way byte stream's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A local serial port: `/dev/ttyUSB0`, a pty link, `COM3`.
    Serial(String),
    /// A TCP socket.
    Tcp { host: String, port: u16 },
    /// A USB printer (Linux usblp node).
    Usb(UsbDevice),
}

impl Endpoint {
    /// `serial://…` or `tcp://host:port` (a serial device server), as scales and readers are
    /// configured; fails for other schemes or a TCP address without a port.
    pub fn from_uri(uri: &DeviceUri) -> Result<Endpoint, UriError> {
        let bad = |why: &str| UriError::BadValue {
            uri: uri.to_string(),
            key: "scheme".into(),
            value: uri.scheme.clone(),
            why: why.into(),
        };
        match uri.scheme.as_str() {
            "serial" => Ok(Endpoint::Serial(uri.path.clone())),
            "tcp" => {
                let (host, port) = host_port(&uri.path, None).map_err(|e| bad(&e))?;
                Ok(Endpoint::Tcp { host, port })
            }
            _ => Err(bad("expected serial:// or tcp://")),
        }
    }

    /// Opens it. The settings matter only for real serial ports; `connect_timeout` bounds a TCP
    /// connect.
    ///
    /// Fails when the port is missing or busy, the host refuses or does not answer in time, or
    /// the USB device is not attached (`Unsupported` where USB ids cannot be looked up).
    pub async fn open(
        &self,
        settings: &SerialSettings,
        connect_timeout: Duration,
    ) -> io::Result<BoxedIo> {
        match self {
            Endpoint::Serial(path) => serial::open(path, settings),
            Endpoint::Tcp { host, port } => {
                let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
                let s = tokio::time::timeout(connect_timeout, connect)
                    .await
                    .map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no answer in {connect_timeout:?}"),
                        )
                    })??;
                s.set_nodelay(true)?;
                Ok(Box::new(s))
            }
            Endpoint::Usb(device) => Ok(Box::new(usb::open(device).await?)),
        }
    }

    /// How it is shown to people (`/dev/ttyUSB0`, `tcp://10.0.0.5:4001`, `usb://04b8:0e28`).
    pub fn describe(&self) -> String {
        match self {
            Endpoint::Serial(p) => p.clone(),
            Endpoint::Tcp { host, port } if host.contains(':') => format!("tcp://[{host}]:{port}"),
            Endpoint::Tcp { host, port } => format!("tcp://{host}:{port}"),
            Endpoint::Usb(d) => d.describe(),
        }
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the port is `default` when absent (an error when
/// there is no default).
///
/// Fails with a sentence when the host is empty or the port is not a number.
pub fn host_port(place: &str, default: Option<u16>) -> Result<(String, u16), String> {
    if place.is_empty() {
        return Err("the URI needs a host (tcp://192.168.1.50:9100)".into());
    }
    let need = |host: &str| {
        default.ok_or_else(|| format!("{host} has no port (write host:port, e.g. {host}:4001)"))
    };
    if let Some(rest) = place.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unclosed [ in host")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port {p:?}"))?,
            None => need(place)?,
        };
        return Ok((h.to_string(), port));
    }
    match place.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            let port = p.parse().map_err(|_| format!("bad port {p:?}"))?;
            Ok((h.to_string(), port))
        }
        _ => Ok((place.to_string(), need(place)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(text: &str) -> Result<Endpoint, UriError> {
        Endpoint::from_uri(&DeviceUri::parse(text).unwrap())
    }

    #[test]
    fn a_scale_behind_a_device_server_is_host_and_port() {
        assert_eq!(
            endpoint("tcp://10.0.0.5:4001").unwrap(),
            Endpoint::Tcp {
                host: "10.0.0.5".into(),
                port: 4001
            }
        );
        assert!(
            endpoint("tcp://10.0.0.5").is_err(),
            "a device server needs its port"
        );
        assert!(endpoint("usb://04b8:0e28").is_err());
    }

    #[test]
    fn hosts_take_a_default_port_and_v6_in_brackets() {
        assert_eq!(
            host_port("printer", Some(9100)).unwrap(),
            ("printer".into(), 9100)
        );
        assert_eq!(host_port("[::1]:81", Some(80)).unwrap(), ("::1".into(), 81));
        assert_eq!(host_port("::1", Some(80)).unwrap(), ("::1".into(), 80));
        assert!(host_port("h:x", Some(1)).is_err());
        assert!(host_port("", Some(1)).is_err());
    }

    #[test]
    fn endpoints_describe_themselves_as_uris() {
        let v6 = Endpoint::Tcp {
            host: "::1".into(),
            port: 9100,
        };
        assert_eq!(v6.describe(), "tcp://[::1]:9100");
    }

    #[tokio::test]
    async fn a_tcp_endpoint_opens_a_connection_to_a_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let ep = Endpoint::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        let (opened, accepted) = tokio::join!(
            ep.open(&SerialSettings::DEFAULT, Duration::from_secs(5)),
            listener.accept()
        );
        assert!(opened.is_ok() && accepted.is_ok());
    }
}

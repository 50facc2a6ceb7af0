//! Printer URIs: `PRINTER_<NAME>=<scheme>://<where>?<options>`.
//!
//! Schemes: `tcp://host[:9100]`, `serial://COM3` / `serial:///dev/ttyUSB0` / `serial://\\.\COM10`
//! (also Bluetooth SPP ports), `usb://04b8:0e28` or `usb:///dev/usb/lp0`, `spooler://<queue>`
//! (Windows spooler or CUPS, raw), `epos://host[:80]` (Epson ePOS-Print XML over HTTP),
//! `file://<path>` (debugging: bytes are appended to the file). The text is split by the engine's
//! shared [`DeviceUri`]; this file maps schemes to addresses, `printer.rs` reads the options, and
//! nothing here touches a device.

use crate::transport::endpoint::host_port;
use crate::transport::uri::{DeviceUri, UriError};
use crate::transport::usb::UsbDevice;
use crate::transport::Endpoint;
use std::collections::BTreeMap;

/// Where a printer is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterAddress {
    /// A two-way byte stream: TCP 9100, a serial/Bluetooth port, a USB node.
    Stream(Endpoint),
    Spooler {
        queue: String,
    },
    Epos {
        host: String,
        port: u16,
        /// `epos+https://` or `?tls=on`: the printer's web server speaks HTTPS.
        https: bool,
        /// `?verify=off`: accept the printer's self-signed certificate (most Epson printers
        /// ship one). Checked against the system's roots otherwise.
        verify: bool,
    },
    File {
        path: String,
    },
}

impl PrinterAddress {
    /// The transport's name as shown to clients.
    pub fn kind(&self) -> &'static str {
        match self {
            PrinterAddress::Stream(Endpoint::Tcp { .. }) => "TCP",
            PrinterAddress::Stream(Endpoint::Serial(_)) => "SERIAL",
            PrinterAddress::Stream(Endpoint::Usb(_)) => "USB",
            PrinterAddress::Spooler { .. } => "SPOOLER",
            PrinterAddress::Epos { .. } => "EPOS",
            PrinterAddress::File { .. } => "FILE",
        }
    }

    /// Whether the printer can answer `DLE EOT` over this transport.
    pub fn two_way(&self) -> bool {
        matches!(self, PrinterAddress::Stream(_))
    }
}

/// A parsed printer URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterUri {
    pub address: PrinterAddress,
    /// Query options, keys lower-cased.
    pub options: BTreeMap<String, String>,
    /// The text as configured.
    pub raw: String,
}

/// Parses a printer URI.
///
/// Fails with a sentence saying what is wrong and how a valid one looks.
pub fn parse(raw: &str) -> Result<PrinterUri, String> {
    let text = raw.trim();
    let device = DeviceUri::parse(text).map_err(|e| match e {
        UriError::NoScheme(_) => {
            format!("{text:?} is not a printer URI (e.g. tcp://192.168.1.50:9100)")
        }
        other => other.to_string(),
    })?;
    let place = device.path.clone();
    let tls_option = device
        .query
        .get("tls")
        .map(|v| super::printer::parse_bool(v).ok_or(format!("tls={v:?} must be on or off")))
        .transpose()?;
    let address = match device.scheme.as_str() {
        "tcp" | "socket" | "raw" => {
            let (host, port) = host_port(&place, Some(9100))?;
            PrinterAddress::Stream(Endpoint::Tcp { host, port })
        }
        "serial" | "com" | "bt" | "bluetooth" => PrinterAddress::Stream(Endpoint::Serial(place)),
        "usb" => PrinterAddress::Stream(Endpoint::Usb(usb(&place)?)),
        "spooler" | "cups" | "winspool" => PrinterAddress::Spooler { queue: place },
        "epos" | "epos+https" => {
            let https = device.scheme == "epos+https" || tls_option == Some(true);
            let default = if https { 443 } else { 80 };
            let (host, port) = host_port(place.trim_end_matches('/'), Some(default))?;
            let verify = device
                .query
                .get("verify")
                .map(|v| {
                    super::printer::parse_bool(v).ok_or(format!("verify={v:?} must be on or off"))
                })
                .transpose()?
                .unwrap_or(true);
            PrinterAddress::Epos {
                host,
                port,
                https,
                verify,
            }
        }
        "file" => PrinterAddress::File { path: place },
        other => {
            return Err(format!(
                "unknown printer scheme {other:?} (tcp, serial, usb, spooler, epos, file)"
            ))
        }
    };
    Ok(PrinterUri {
        address,
        options: device.query,
        raw: text.to_string(),
    })
}

fn usb(place: &str) -> Result<UsbDevice, String> {
    if let Some((v, p)) = place.split_once(':') {
        if v.len() == 4 && p.len() == 4 {
            let vid = u16::from_str_radix(v, 16).map_err(|_| format!("bad USB vendor id {v:?}"))?;
            let pid =
                u16::from_str_radix(p, 16).map_err(|_| format!("bad USB product id {p:?}"))?;
            return Ok(UsbDevice::Id { vid, pid });
        }
    }
    if place.is_empty() {
        return Err(
            "usb:// needs VID:PID (usb://04b8:0e28) or a device path (usb:///dev/usb/lp0)".into(),
        );
    }
    Ok(UsbDevice::Path(place.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_in_the_design_parses() {
        let cases = [
            (
                "tcp://192.168.1.50:9100?width=576",
                PrinterAddress::Stream(Endpoint::Tcp {
                    host: "192.168.1.50".into(),
                    port: 9100,
                }),
            ),
            (
                "tcp://printer.local",
                PrinterAddress::Stream(Endpoint::Tcp {
                    host: "printer.local".into(),
                    port: 9100,
                }),
            ),
            (
                "serial:///dev/ttyUSB0?baud=19200",
                PrinterAddress::Stream(Endpoint::Serial("/dev/ttyUSB0".into())),
            ),
            (
                "serial://COM3",
                PrinterAddress::Stream(Endpoint::Serial("COM3".into())),
            ),
            (
                r"serial://\\.\COM10",
                PrinterAddress::Stream(Endpoint::Serial(r"\\.\COM10".into())),
            ),
            (
                "usb://04b8:0e28",
                PrinterAddress::Stream(Endpoint::Usb(UsbDevice::Id {
                    vid: 0x04b8,
                    pid: 0x0e28,
                })),
            ),
            (
                "usb:///dev/usb/lp0",
                PrinterAddress::Stream(Endpoint::Usb(UsbDevice::Path("/dev/usb/lp0".into()))),
            ),
            (
                "spooler://EPSON TM-T20III",
                PrinterAddress::Spooler {
                    queue: "EPSON TM-T20III".into(),
                },
            ),
            (
                "spooler://EPSON%20TM?cut=full",
                PrinterAddress::Spooler {
                    queue: "EPSON TM".into(),
                },
            ),
            (
                "epos://192.168.1.60",
                PrinterAddress::Epos {
                    host: "192.168.1.60".into(),
                    port: 80,
                    https: false,
                    verify: true,
                },
            ),
            (
                "file:///tmp/out.bin",
                PrinterAddress::File {
                    path: "/tmp/out.bin".into(),
                },
            ),
            (
                "tcp://[::1]:9101",
                PrinterAddress::Stream(Endpoint::Tcp {
                    host: "::1".into(),
                    port: 9101,
                }),
            ),
        ];
        for (text, address) in cases {
            assert_eq!(parse(text).unwrap().address, address, "{text}");
        }
    }

    #[test]
    fn epos_over_https_defaults_to_port_443() {
        let a = parse("epos+https://192.168.1.60").unwrap().address;
        assert_eq!(
            a,
            PrinterAddress::Epos {
                host: "192.168.1.60".into(),
                port: 443,
                https: true,
                verify: true
            }
        );
        let b = parse("epos://10.0.0.2:8443?tls=on&verify=off")
            .unwrap()
            .address;
        assert!(matches!(
            b,
            PrinterAddress::Epos {
                port: 8443,
                https: true,
                verify: false,
                ..
            }
        ));
    }

    #[test]
    fn options_are_lower_cased_keys() {
        let u = parse("tcp://h:1?Width=384&CODEPAGE=cp858&cut=").unwrap();
        assert_eq!(u.options["width"], "384");
        assert_eq!(u.options["codepage"], "cp858");
        assert_eq!(u.options["cut"], "");
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(parse("192.168.1.50").unwrap_err().contains("tcp://"));
        assert!(parse("lpt://x")
            .unwrap_err()
            .contains("unknown printer scheme"));
        assert!(parse("tcp://h:notaport").unwrap_err().contains("bad port"));
        assert!(parse("spooler://").is_err());
    }
}

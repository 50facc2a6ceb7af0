//! Printer URIs: `PRINTER_<NAME>=<scheme>://<where>?<options>`.
//!
//! Schemes: `tcp://host[:9100]`, `serial://COM3` / `serial:///dev/ttyUSB0` / `serial://\\.\COM10`
//! (also Bluetooth SPP ports), `usb://04b8:0e28` or `usb:///dev/usb/lp0`, `spooler://<queue>`
//! (Windows spooler or CUPS, raw), `epos://host[:80]` (Epson ePOS-Print XML over HTTP),
//! `file://<path>` (debugging: bytes are appended to the file). The text is split by the engine's
//! shared [`DeviceUri`]; this file maps schemes to targets, `printer.rs` reads the options, and
//! nothing here touches a device.

use crate::transport::uri::{DeviceUri, UriError};
use std::collections::BTreeMap;

/// Where a printer is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tcp {
        host: String,
        port: u16,
    },
    Serial {
        path: String,
    },
    /// A USB printer by vendor and product id (found through the OS).
    UsbId {
        vid: u16,
        pid: u16,
    },
    /// A USB printer device node (`/dev/usb/lp0`).
    UsbPath {
        path: String,
    },
    Spooler {
        queue: String,
    },
    Epos {
        host: String,
        port: u16,
    },
    File {
        path: String,
    },
}

impl Target {
    /// The transport's name as shown to clients.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Tcp { .. } => "TCP",
            Target::Serial { .. } => "SERIAL",
            Target::UsbId { .. } | Target::UsbPath { .. } => "USB",
            Target::Spooler { .. } => "SPOOLER",
            Target::Epos { .. } => "EPOS",
            Target::File { .. } => "FILE",
        }
    }

    /// Whether the printer can answer `DLE EOT` over this transport.
    pub fn two_way(&self) -> bool {
        matches!(
            self,
            Target::Tcp { .. }
                | Target::Serial { .. }
                | Target::UsbPath { .. }
                | Target::UsbId { .. }
        )
    }
}

/// A parsed printer URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterUri {
    pub target: Target,
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
    let target = match device.scheme.as_str() {
        "tcp" | "socket" | "raw" => {
            let (host, port) = host_port(&place, 9100)?;
            Target::Tcp { host, port }
        }
        "serial" | "com" | "bt" | "bluetooth" => Target::Serial { path: place },
        "usb" => usb(&place)?,
        "spooler" | "cups" | "winspool" => Target::Spooler { queue: place },
        "epos" => {
            let (host, port) = host_port(place.trim_end_matches('/'), 80)?;
            Target::Epos { host, port }
        }
        "file" => Target::File { path: place },
        other => {
            return Err(format!(
                "unknown printer scheme {other:?} (tcp, serial, usb, spooler, epos, file)"
            ))
        }
    };
    Ok(PrinterUri {
        target,
        options: device.query,
        raw: text.to_string(),
    })
}

fn usb(place: &str) -> Result<Target, String> {
    if let Some((v, p)) = place.split_once(':') {
        if v.len() == 4 && p.len() == 4 {
            let vid = u16::from_str_radix(v, 16).map_err(|_| format!("bad USB vendor id {v:?}"))?;
            let pid =
                u16::from_str_radix(p, 16).map_err(|_| format!("bad USB product id {p:?}"))?;
            return Ok(Target::UsbId { vid, pid });
        }
    }
    if place.is_empty() {
        return Err(
            "usb:// needs VID:PID (usb://04b8:0e28) or a device path (usb:///dev/usb/lp0)".into(),
        );
    }
    Ok(Target::UsbPath {
        path: place.to_string(),
    })
}

fn host_port(place: &str, default: u16) -> Result<(String, u16), String> {
    if place.is_empty() {
        return Err("the URI needs a host (tcp://192.168.1.50:9100)".into());
    }
    // [v6]:port, host:port, or host alone.
    if let Some(rest) = place.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unclosed [ in host")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port {p:?}"))?,
            None => default,
        };
        return Ok((h.to_string(), port));
    }
    match place.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            let port = p.parse().map_err(|_| format!("bad port {p:?}"))?;
            Ok((h.to_string(), port))
        }
        _ => Ok((place.to_string(), default)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_in_the_design_parses() {
        let cases = [
            (
                "tcp://192.168.1.50:9100?width=576",
                Target::Tcp {
                    host: "192.168.1.50".into(),
                    port: 9100,
                },
            ),
            (
                "tcp://printer.local",
                Target::Tcp {
                    host: "printer.local".into(),
                    port: 9100,
                },
            ),
            (
                "serial:///dev/ttyUSB0?baud=19200",
                Target::Serial {
                    path: "/dev/ttyUSB0".into(),
                },
            ),
            (
                "serial://COM3",
                Target::Serial {
                    path: "COM3".into(),
                },
            ),
            (
                r"serial://\\.\COM10",
                Target::Serial {
                    path: r"\\.\COM10".into(),
                },
            ),
            (
                "usb://04b8:0e28",
                Target::UsbId {
                    vid: 0x04b8,
                    pid: 0x0e28,
                },
            ),
            (
                "usb:///dev/usb/lp0",
                Target::UsbPath {
                    path: "/dev/usb/lp0".into(),
                },
            ),
            (
                "spooler://EPSON TM-T20III",
                Target::Spooler {
                    queue: "EPSON TM-T20III".into(),
                },
            ),
            (
                "spooler://EPSON%20TM?cut=full",
                Target::Spooler {
                    queue: "EPSON TM".into(),
                },
            ),
            (
                "epos://192.168.1.60",
                Target::Epos {
                    host: "192.168.1.60".into(),
                    port: 80,
                },
            ),
            (
                "file:///tmp/out.bin",
                Target::File {
                    path: "/tmp/out.bin".into(),
                },
            ),
            (
                "tcp://[::1]:9101",
                Target::Tcp {
                    host: "::1".into(),
                    port: 9101,
                },
            ),
        ];
        for (text, target) in cases {
            assert_eq!(parse(text).unwrap().target, target, "{text}");
        }
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

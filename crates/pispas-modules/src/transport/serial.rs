//! Serial ports (RS-232, USB-serial, Bluetooth SPP): line settings, opening by path or `COMn`, and
//! listing the ports this machine has.
//!
//! Opening is the only place a concrete port type appears; drivers get a [`BoxedIo`]. Windows
//! device-name rules live in `serial_windows.rs`.

use super::uri::{DeviceUri, UriError};
use super::BoxedIo;
use serde_json::{json, Value};

#[cfg(windows)]
#[path = "serial_windows.rs"]
mod platform;

/// Parity of a serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    None,
    Even,
    Odd,
}

/// Line settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialSettings {
    pub baud: u32,
    /// 7 or 8.
    pub data_bits: u8,
    pub parity: Parity,
    /// 1 or 2.
    pub stop_bits: u8,
}

impl SerialSettings {
    /// 9600 8N1.
    pub const DEFAULT: SerialSettings = SerialSettings {
        baud: 9600,
        data_bits: 8,
        parity: Parity::None,
        stop_bits: 1,
    };

    /// Applies `baud`, `parity` (n/e/o or none/even/odd), `databits` and `stopbits` from the URI
    /// over these defaults; fails naming the bad parameter.
    pub fn with_overrides(mut self, uri: &DeviceUri) -> Result<SerialSettings, UriError> {
        if let Some(b) = uri.get::<u32>("baud", "a baud rate such as 9600")? {
            if !(50..=4_000_000).contains(&b) {
                return Err(uri.bad_value("baud", "out of range 50–4000000"));
            }
            self.baud = b;
        }
        if let Some(p) = uri.query.get("parity") {
            self.parity = match p.to_ascii_lowercase().as_str() {
                "n" | "none" => Parity::None,
                "e" | "even" => Parity::Even,
                "o" | "odd" => Parity::Odd,
                _ => return Err(uri.bad_value("parity", "expected none, even or odd")),
            };
        }
        if let Some(d) = uri.get::<u8>("databits", "7 or 8")? {
            if !(5..=8).contains(&d) {
                return Err(uri.bad_value("databits", "expected 7 or 8"));
            }
            self.data_bits = d;
        }
        if let Some(s) = uri.get::<u8>("stopbits", "1 or 2")? {
            if !(1..=2).contains(&s) {
                return Err(uri.bad_value("stopbits", "expected 1 or 2"));
            }
            self.stop_bits = s;
        }
        Ok(self)
    }

    /// `9600 7E1` style, for logs and STATUS.
    pub fn describe(&self) -> String {
        let p = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        format!("{} {}{}{}", self.baud, self.data_bits, p, self.stop_bits)
    }
}

/// Opens a serial port. `path` is `/dev/ttyUSB0`, a pty link, `COM3` or `\\.\COM10`.
///
/// Fails when the device does not exist, is busy or refuses the settings.
pub fn open(path: &str, settings: &SerialSettings) -> std::io::Result<BoxedIo> {
    use tokio_serial::SerialPortBuilderExt;
    #[cfg(windows)]
    let device = platform::device_name(path);
    #[cfg(windows)]
    let path = device.as_str();
    let parity = match settings.parity {
        Parity::None => tokio_serial::Parity::None,
        Parity::Even => tokio_serial::Parity::Even,
        Parity::Odd => tokio_serial::Parity::Odd,
    };
    let data_bits = match settings.data_bits {
        5 => tokio_serial::DataBits::Five,
        6 => tokio_serial::DataBits::Six,
        7 => tokio_serial::DataBits::Seven,
        _ => tokio_serial::DataBits::Eight,
    };
    let stop_bits = if settings.stop_bits == 2 {
        tokio_serial::StopBits::Two
    } else {
        tokio_serial::StopBits::One
    };
    let port = tokio_serial::new(path, settings.baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()
        .map_err(std::io::Error::from)?;
    Ok(Box::new(port))
}

/// The serial ports the OS lists (ptys are not listed: open them by path). For the configurator.
pub fn list_ports() -> Value {
    match tokio_serial::available_ports() {
        Ok(ports) => Value::Array(
            ports
                .into_iter()
                .map(|p| {
                    let (kind, detail) = match p.port_type {
                        tokio_serial::SerialPortType::UsbPort(u) => (
                            "usb",
                            json!({ "VID": format!("{:04x}", u.vid), "PID": format!("{:04x}", u.pid),
                                    "MANUFACTURER": u.manufacturer, "PRODUCT": u.product, "SERIAL": u.serial_number }),
                        ),
                        tokio_serial::SerialPortType::BluetoothPort => ("bluetooth", Value::Null),
                        tokio_serial::SerialPortType::PciPort => ("pci", Value::Null),
                        tokio_serial::SerialPortType::Unknown => ("unknown", Value::Null),
                    };
                    json!({ "PATH": p.port_name, "TYPE": kind, "USB": detail })
                })
                .collect(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list serial ports");
            json!([])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parameters_override_the_protocol_defaults() {
        let uri =
            DeviceUri::parse("serial://COM3?baud=4800&parity=even&databits=7&stopbits=2").unwrap();
        let s = SerialSettings::DEFAULT.with_overrides(&uri).unwrap();
        assert_eq!(
            s,
            SerialSettings {
                baud: 4800,
                data_bits: 7,
                parity: Parity::Even,
                stop_bits: 2
            }
        );
        assert_eq!(s.describe(), "4800 7E2");
    }

    #[test]
    fn bad_line_settings_are_refused_naming_the_key() {
        for (q, key) in [
            ("baud=0", "baud"),
            ("parity=mark", "parity"),
            ("databits=9", "databits"),
            ("stopbits=3", "stopbits"),
        ] {
            let uri = DeviceUri::parse(&format!("serial://COM1?{q}")).unwrap();
            let e = SerialSettings::DEFAULT
                .with_overrides(&uri)
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{q}: {e}");
        }
    }

    #[tokio::test]
    async fn opening_a_missing_port_is_an_error_not_a_panic() {
        assert!(open("/dev/pispas-no-such-port", &SerialSettings::DEFAULT).is_err());
    }
}

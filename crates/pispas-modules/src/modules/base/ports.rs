//! BASE `LIST_PORTS`: the serial ports and the operating system's printers on this machine, so the
//! configurator offers a list to pick from instead of asking a cashier to type `COM3`.
//!
//! Serial ports come from the `serialport` crate (udev on Linux, the registry on Windows); OS
//! printers from `lpstat` (CUPS, Linux and macOS) or `Get-Printer` (Windows, `ports_windows.rs`).
//! A lister that fails gives an empty list and a note, never an error: the user can still type.

use serde_json::{json, Value};
use std::time::Duration;

#[cfg(windows)]
#[path = "ports_windows.rs"]
mod platform;

#[cfg(not(windows))]
mod platform {
    /// The CUPS queue names (`lpstat -e`), or why they could not be listed.
    pub(crate) async fn printers() -> Result<Vec<String>, String> {
        let out = tokio::process::Command::new("lpstat")
            .arg("-e")
            .output()
            .await
            .map_err(|e| format!("lpstat: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            // No printers configured is not an error worth showing.
            if err.is_empty() || err.contains("No destinations") {
                return Ok(Vec::new());
            }
            return Err(format!("lpstat: {err}"));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// Longest a lister may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(5);

/// `{SERIAL: [{PORT, TYPE, DESCRIPTION}], PRINTERS: [name], NOTES: [..]}`.
pub(crate) async fn list() -> Value {
    let mut notes = Vec::new();
    let serial = match tokio::task::spawn_blocking(serialport::available_ports).await {
        Ok(Ok(ports)) => ports
            .into_iter()
            .map(|p| {
                let (kind, description) = match p.port_type {
                    serialport::SerialPortType::UsbPort(u) => (
                        "usb",
                        [u.manufacturer, u.product]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    serialport::SerialPortType::BluetoothPort => ("bluetooth", String::new()),
                    serialport::SerialPortType::PciPort => ("pci", String::new()),
                    serialport::SerialPortType::Unknown => ("unknown", String::new()),
                };
                json!({ "PORT": p.port_name, "TYPE": kind, "DESCRIPTION": description })
            })
            .collect(),
        Ok(Err(e)) => {
            notes.push(format!("serial ports could not be listed: {e}"));
            Vec::new()
        }
        Err(e) => {
            notes.push(format!("serial ports could not be listed: {e}"));
            Vec::new()
        }
    };
    let printers = match tokio::time::timeout(LIST_TIMEOUT, platform::printers()).await {
        Ok(Ok(list)) => list,
        Ok(Err(e)) => {
            notes.push(format!("printers could not be listed: {e}"));
            Vec::new()
        }
        Err(_) => {
            notes.push("listing printers took too long".into());
            Vec::new()
        }
    };
    json!({ "SERIAL": serial, "PRINTERS": printers, "NOTES": notes })
}

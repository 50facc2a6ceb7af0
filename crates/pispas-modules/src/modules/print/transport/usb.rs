//! USB printers: a device node (`usb:///dev/usb/lp0`) or vendor:product id (`usb://04b8:0e28`),
//! found on Linux through sysfs (`/sys/class/usbmisc/lp*`, the usblp driver). The node is a
//! two-way stream, so `DLE EOT` status works as over TCP.
//!
//! On Windows and macOS a USB receipt printer is reached through its spooler queue
//! (`spooler://<queue>`): raw USB without a driver needs libusb, which we do not ship.

use super::TransportError;
use crate::modules::print::uri::Target;
use tokio::fs::File;

/// Opens the USB printer.
///
/// Fails when no such device is attached, or (outside Linux) for vendor:product ids.
pub async fn open(target: &Target) -> Result<File, TransportError> {
    let path = match target {
        Target::UsbPath { path } => path.clone(),
        Target::UsbId { vid, pid } => find_node(*vid, *pid)?,
        other => {
            return Err(TransportError::Unsupported(format!(
                "{other:?} is not a USB printer"
            )))
        }
    };
    tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .map_err(|source| TransportError::Connect { what: path, source })
}

#[cfg(target_os = "linux")]
fn find_node(vid: u16, pid: u16) -> Result<String, TransportError> {
    let class = std::path::Path::new("/sys/class/usbmisc");
    let entries = std::fs::read_dir(class).map_err(|_| not_found(vid, pid))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("lp") {
            continue;
        }
        // device → the interface; its parent holds idVendor/idProduct.
        let dev = entry.path().join("device/..");
        let read = |f: &str| {
            std::fs::read_to_string(dev.join(f))
                .ok()
                .and_then(|s| u16::from_str_radix(s.trim(), 16).ok())
        };
        if read("idVendor") == Some(vid) && read("idProduct") == Some(pid) {
            return Ok(format!("/dev/usb/{name}"));
        }
    }
    Err(not_found(vid, pid))
}

#[cfg(not(target_os = "linux"))]
fn find_node(vid: u16, pid: u16) -> Result<String, TransportError> {
    Err(TransportError::Unsupported(format!(
        "usb://{vid:04x}:{pid:04x}: on this system use the printer's spooler queue (spooler://<name>) instead"
    )))
}

#[cfg(target_os = "linux")]
fn not_found(vid: u16, pid: u16) -> TransportError {
    TransportError::Connect {
        what: format!("usb://{vid:04x}:{pid:04x}"),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such USB printer attached (is it on, and is the usblp driver loaded?)",
        ),
    }
}

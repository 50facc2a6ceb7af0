//! USB printers: a device node (`usb:///dev/usb/lp0`) or vendor:product id (`usb://04b8:0e28`),
//! found on Linux through sysfs (`/sys/class/usbmisc/lp*`, the usblp driver). The node is a
//! two-way stream, so `DLE EOT` status works as over TCP.
//!
//! On Windows and macOS a USB receipt printer is reached through its spooler queue
//! (`spooler://<queue>`): raw USB without a driver needs libusb, which we do not ship.

use std::io;
use tokio::fs::File;

/// A USB device, by node or by ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsbDevice {
    /// A device node (`/dev/usb/lp0`).
    Path(String),
    /// Vendor and product id, looked up through the OS.
    Id { vid: u16, pid: u16 },
}

impl UsbDevice {
    pub fn describe(&self) -> String {
        match self {
            UsbDevice::Path(p) => format!("usb://{p}"),
            UsbDevice::Id { vid, pid } => format!("usb://{vid:04x}:{pid:04x}"),
        }
    }
}

/// Opens the USB device for reading and writing.
///
/// Fails with `NotFound` when no such device is attached, and `Unsupported` for
/// vendor:product ids outside Linux.
pub async fn open(device: &UsbDevice) -> io::Result<File> {
    let path = match device {
        UsbDevice::Path(path) => path.clone(),
        UsbDevice::Id { vid, pid } => find_node(*vid, *pid)?,
    };
    tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
}

#[cfg(target_os = "linux")]
fn find_node(vid: u16, pid: u16) -> io::Result<String> {
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
fn find_node(vid: u16, pid: u16) -> io::Result<String> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!("usb://{vid:04x}:{pid:04x}: on this system use the printer's spooler queue (spooler://<name>) instead"),
    ))
}

#[cfg(target_os = "linux")]
fn not_found(vid: u16, pid: u16) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("no USB printer {vid:04x}:{pid:04x} attached (is it on, and is the usblp driver loaded?)"),
    )
}

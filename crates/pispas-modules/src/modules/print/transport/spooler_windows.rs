//! Windows spooler (winspool) FFI: raw jobs (`StartDocPrinterW` with datatype `RAW`), queue
//! state (`GetPrinterW` level 2) and the installed printers (`EnumPrintersW`).
//!
//! The only `unsafe` in the PRINT module lives here. Each call passes buffers we own, sized as
//! the API asked, and every handle is closed by a guard.
#![allow(unsafe_code)]

use super::spooler::SystemPrinter;
use super::TransportError;
use crate::modules::print::escpos::status::NotReady;
use windows_sys::Win32::Graphics::Printing::{
    ClosePrinter, EndDocPrinter, EndPagePrinter, EnumPrintersW, GetPrinterW, OpenPrinterW,
    StartDocPrinterW, StartPagePrinter, WritePrinter, DOC_INFO_1W, PRINTER_ATTRIBUTE_WORK_OFFLINE,
    PRINTER_ENUM_CONNECTIONS, PRINTER_ENUM_LOCAL, PRINTER_HANDLE, PRINTER_INFO_2W,
    PRINTER_STATUS_DOOR_OPEN, PRINTER_STATUS_ERROR, PRINTER_STATUS_NOT_AVAILABLE,
    PRINTER_STATUS_OFFLINE, PRINTER_STATUS_PAPER_JAM, PRINTER_STATUS_PAPER_OUT,
    PRINTER_STATUS_PAUSED,
};

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn last_error(what: &str) -> TransportError {
    TransportError::Spooler(format!("{what}: {}", std::io::Error::last_os_error()))
}

/// An open printer handle, closed on drop.
struct Handle(PRINTER_HANDLE);

impl Handle {
    fn open(queue: &str) -> Result<Handle, TransportError> {
        let name = wide(queue);
        let mut h = PRINTER_HANDLE::default();
        // SAFETY: `name` is NUL-terminated and outlives the call; `h` is a valid out pointer.
        let ok = unsafe { OpenPrinterW(name.as_ptr(), &raw mut h, std::ptr::null()) };
        if ok == 0 {
            return Err(last_error(&format!("no printer {queue:?}")));
        }
        Ok(Handle(h))
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from OpenPrinterW and is closed once.
        unsafe { ClosePrinter(self.0) };
    }
}

/// Sends `bytes` as one RAW document.
pub(crate) fn write_raw(queue: &str, bytes: &[u8]) -> Result<(), TransportError> {
    let h = Handle::open(queue)?;
    let mut doc_name = wide("Pispas receipt");
    let mut datatype = wide("RAW");
    let info = DOC_INFO_1W {
        pDocName: doc_name.as_mut_ptr(),
        pOutputFile: std::ptr::null_mut(),
        pDatatype: datatype.as_mut_ptr(),
    };
    // SAFETY: `info` points at NUL-terminated buffers alive for the call.
    if unsafe { StartDocPrinterW(h.0, 1, &raw const info) } == 0 {
        return Err(last_error("StartDocPrinter"));
    }
    // SAFETY: valid handle with a started document.
    unsafe { StartPagePrinter(h.0) };
    let mut written = 0u32;
    // SAFETY: `bytes` is valid for `len` bytes; `written` is a valid out pointer.
    let ok = unsafe {
        WritePrinter(
            h.0,
            bytes.as_ptr().cast(),
            bytes.len() as u32,
            &raw mut written,
        )
    };
    // SAFETY: valid handle; ends what was started above.
    unsafe {
        EndPagePrinter(h.0);
        EndDocPrinter(h.0);
    }
    if ok == 0 || written as usize != bytes.len() {
        return Err(last_error("WritePrinter"));
    }
    Ok(())
}

fn describe(status: u32, attributes: u32) -> (String, bool, Option<NotReady>) {
    if status & PRINTER_STATUS_DOOR_OPEN != 0 {
        ("COVER_OPEN".into(), false, Some(NotReady::CoverOpen))
    } else if status & PRINTER_STATUS_PAPER_OUT != 0 {
        ("PAPER_OUT".into(), false, Some(NotReady::PaperOut))
    } else if status & PRINTER_STATUS_OFFLINE != 0
        || attributes & PRINTER_ATTRIBUTE_WORK_OFFLINE != 0
    {
        ("OFFLINE".into(), false, Some(NotReady::Offline))
    } else if status
        & (PRINTER_STATUS_ERROR | PRINTER_STATUS_PAPER_JAM | PRINTER_STATUS_NOT_AVAILABLE)
        != 0
    {
        ("ERROR".into(), false, Some(NotReady::Error))
    } else if status & PRINTER_STATUS_PAUSED != 0 {
        ("PAUSED".into(), false, Some(NotReady::Offline))
    } else {
        ("IDLE".into(), true, None)
    }
}

/// The queue's state word, whether it takes jobs, and why not.
pub(crate) fn state(queue: &str) -> Result<(String, bool, Option<NotReady>), TransportError> {
    let h = Handle::open(queue)?;
    let mut needed = 0u32;
    // SAFETY: a size query with a null buffer of length 0.
    unsafe { GetPrinterW(h.0, 2, std::ptr::null_mut(), 0, &raw mut needed) };
    if needed == 0 {
        return Err(last_error("GetPrinter"));
    }
    let mut buf = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: `buf` has at least `needed` bytes and is 8-byte aligned for PRINTER_INFO_2W.
    if unsafe { GetPrinterW(h.0, 2, buf.as_mut_ptr().cast(), needed, &raw mut needed) } == 0 {
        return Err(last_error("GetPrinter"));
    }
    // SAFETY: the call filled a PRINTER_INFO_2W at the start of `buf`.
    let info = unsafe { &*buf.as_ptr().cast::<PRINTER_INFO_2W>() };
    Ok(describe(info.Status, info.Attributes))
}

fn from_wide(p: windows_sys::core::PWSTR) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the spooler returns NUL-terminated strings inside the buffer we own.
    unsafe {
        let mut len = 0;
        while *p.add(len) != 0 {
            len += 1;
        }
        String::from_utf16_lossy(std::slice::from_raw_parts(p, len))
    }
}

/// Local and connected printers.
pub(crate) fn list() -> Vec<SystemPrinter> {
    let flags = PRINTER_ENUM_LOCAL | PRINTER_ENUM_CONNECTIONS;
    let (mut needed, mut count) = (0u32, 0u32);
    // SAFETY: a size query with a null buffer of length 0.
    unsafe {
        EnumPrintersW(
            flags,
            std::ptr::null(),
            2,
            std::ptr::null_mut(),
            0,
            &raw mut needed,
            &raw mut count,
        )
    };
    if needed == 0 {
        return Vec::new();
    }
    let mut buf = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: `buf` holds `needed` bytes, aligned for PRINTER_INFO_2W.
    let ok = unsafe {
        EnumPrintersW(
            flags,
            std::ptr::null(),
            2,
            buf.as_mut_ptr().cast(),
            needed,
            &raw mut needed,
            &raw mut count,
        )
    };
    if ok == 0 {
        return Vec::new();
    }
    // SAFETY: the call wrote `count` PRINTER_INFO_2W records at the start of `buf`.
    let infos = unsafe {
        std::slice::from_raw_parts(buf.as_ptr().cast::<PRINTER_INFO_2W>(), count as usize)
    };
    infos
        .iter()
        .map(|i| {
            let (state, ready, _) = describe(i.Status, i.Attributes);
            SystemPrinter {
                name: from_wide(i.pPrinterName),
                state,
                ready,
            }
        })
        .collect()
}

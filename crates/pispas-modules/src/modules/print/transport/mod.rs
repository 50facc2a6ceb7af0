//! Getting a rendered job to a printer, and asking it for status, whatever the transport:
//! TCP 9100, serial/Bluetooth COM ports, USB printer nodes, the OS spooler (CUPS or Windows),
//! Epson ePOS-Print over HTTP, or a file.
//!
//! Two-way byte streams share `stream.rs`; the others have a file each. Nothing here retries or
//! queues: one call is one attempt, and the worker decides what to do with the result.

pub mod epos;
pub mod file;
pub mod serial;
pub mod spooler;
#[cfg(windows)]
mod spooler_windows;
pub mod stream;
pub mod tcp;
pub mod usb;

use super::escpos::status::{NotReady, PrinterStatus};
use super::printer::PrinterConfig;
use super::program::Program;
use super::uri::Target;
use std::io;
use stream::StreamOutcome;

/// Why an attempt did not reach the printer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot reach {what}: {source}")]
    Connect { what: String, source: io::Error },
    #[error("connection to the printer failed mid-job: {0}")]
    Io(#[from] io::Error),
    #[error("the printer did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("spooler: {0}")]
    Spooler(String),
    #[error("ePOS printer: {0}")]
    Epos(String),
    #[error("{0}")]
    Unsupported(String),
}

/// A job ready for the wire: ESC/POS bytes, and the program (ePOS builds its XML from it).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub program: Program,
    /// Only a drawer kick or cut: paper out does not stop it.
    pub ignore_paper: bool,
}

/// The result of one delivery attempt that reached the printer (or its spooler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handed over; `confirmed` when the printer acknowledged after the last byte.
    Delivered {
        confirmed: bool,
        status: Option<PrinterStatus>,
    },
    /// The printer (or spooler) said it cannot print now; nothing was sent.
    NotReady(NotReady, Option<PrinterStatus>),
}

impl From<StreamOutcome> for Delivery {
    fn from(o: StreamOutcome) -> Self {
        match o {
            StreamOutcome::Sent { confirmed, status } => Delivery::Delivered { confirmed, status },
            StreamOutcome::NotReady(r, s) => Delivery::NotReady(r, Some(s)),
        }
    }
}

/// What a status query found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusReport {
    /// From the printer itself (`DLE EOT` or ePOS ASB bits).
    Printer(PrinterStatus),
    /// From the OS spooler: its state word and whether it accepts jobs.
    Spooler {
        state: String,
        ready: bool,
        reason: Option<NotReady>,
    },
    /// The transport works but the printer does not report status (a file, a silent clone).
    Unknown,
}

/// One delivery attempt.
///
/// Fails when the printer cannot be reached or the connection breaks mid-job.
pub async fn deliver(printer: &PrinterConfig, job: &Rendered) -> Result<Delivery, TransportError> {
    let wait = printer.timeout;
    let check = printer.status;
    let high = printer.drawer_open_high;
    match &printer.uri.target {
        Target::Tcp { host, port } => {
            let mut s = tcp::connect(host, *port, wait).await?;
            let out =
                stream::send_job(&mut s, &job.bytes, check, job.ignore_paper, wait, high).await?;
            tcp::finish(s).await;
            Ok(out.into())
        }
        Target::Serial { path } => {
            let mut s = serial::open(path, &printer.serial).await?;
            Ok(
                stream::send_job(&mut s, &job.bytes, check, job.ignore_paper, wait, high)
                    .await?
                    .into(),
            )
        }
        Target::UsbPath { .. } | Target::UsbId { .. } => {
            let mut s = usb::open(&printer.uri.target).await?;
            Ok(
                stream::send_job(&mut s, &job.bytes, check, job.ignore_paper, wait, high)
                    .await?
                    .into(),
            )
        }
        Target::File { path } => {
            file::append(path, &job.bytes).await?;
            Ok(Delivery::Delivered {
                confirmed: false,
                status: None,
            })
        }
        Target::Spooler { queue } => spooler::submit(queue, &job.bytes, wait).await,
        Target::Epos { host, port } => epos::print(host, *port, &job.program, printer, wait).await,
    }
}

/// Asks the printer (or its spooler) how it is.
///
/// Fails when it cannot be reached.
pub async fn query(printer: &PrinterConfig) -> Result<StatusReport, TransportError> {
    let wait = printer.timeout;
    let high = printer.drawer_open_high;
    let from = |s: Option<PrinterStatus>| {
        s.map(StatusReport::Printer)
            .unwrap_or(StatusReport::Unknown)
    };
    match &printer.uri.target {
        Target::Tcp { host, port } => {
            let mut s = tcp::connect(host, *port, wait).await?;
            let st = stream::query_status(&mut s, wait, high).await?;
            tcp::finish(s).await;
            Ok(from(st))
        }
        Target::Serial { path } => {
            let mut s = serial::open(path, &printer.serial).await?;
            Ok(from(stream::query_status(&mut s, wait, high).await?))
        }
        Target::UsbPath { .. } | Target::UsbId { .. } => {
            let mut s = usb::open(&printer.uri.target).await?;
            Ok(from(stream::query_status(&mut s, wait, high).await?))
        }
        Target::File { path } => file::check(path).await.map(|_| StatusReport::Unknown),
        Target::Spooler { queue } => spooler::status(queue, wait).await,
        Target::Epos { host, port } => epos::status(host, *port, wait, high).await,
    }
}

//! Getting a rendered job to a printer, and asking it for status, whatever the transport:
//! TCP 9100, serial/Bluetooth COM ports, USB printer nodes, the OS spooler (CUPS or Windows),
//! Epson ePOS-Print over HTTP, or a file.
//!
//! Two-way byte streams share `stream.rs`; the others have a file each. Nothing here retries or
//! queues: one call is one attempt, and the worker decides what to do with the result.

pub mod epos;
pub mod file;
pub mod spooler;
#[cfg(windows)]
mod spooler_windows;
pub mod stream;

use super::escpos::status::{NotReady, PrinterStatus};
use super::printer::PrinterConfig;
use super::program::Program;
use super::uri::PrinterAddress;
use crate::transport::{BoxedIo, Endpoint};
use std::future::Future;
use std::io;
use std::time::Duration;
use stream::StreamOutcome;
use tokio::io::AsyncWriteExt;

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

/// Opens a two-way printer: TCP, serial or USB, through the engine's one opener.
///
/// Fails when it cannot be reached; an id USB cannot look up on this system is `Unsupported`.
async fn open(
    endpoint: &Endpoint,
    printer: &PrinterConfig,
    wait: Duration,
) -> Result<BoxedIo, TransportError> {
    endpoint
        .open(&printer.serial, wait)
        .await
        .map_err(|source| match source.kind() {
            io::ErrorKind::Unsupported => TransportError::Unsupported(source.to_string()),
            _ => TransportError::Connect {
                what: match endpoint {
                    Endpoint::Serial(path) => format!("{path} ({})", printer.serial.describe()),
                    other => other.describe(),
                },
                source,
            },
        })
}

/// Ends a job's stream so the printer sees its end (and a network printer's single connection
/// slot is free for the next till at once), without waiting long.
async fn finish(mut stream: BoxedIo) {
    let _ = tokio::time::timeout(Duration::from_millis(500), stream.shutdown()).await;
}

/// One delivery attempt. `starting` is awaited once, just before the job's first byte leaves
/// (after a stream printer said it is ready; before the spooler, the file or the ePOS printer
/// is handed the job): from then on the job may be on paper.
///
/// Fails when the printer cannot be reached or the connection breaks mid-job.
pub async fn deliver(
    printer: &PrinterConfig,
    job: &Rendered,
    starting: impl Future<Output = ()>,
) -> Result<Delivery, TransportError> {
    let wait = printer.timeout;
    let check = printer.status;
    let high = printer.drawer_open_high;
    match &printer.uri.address {
        PrinterAddress::Stream(endpoint) => {
            let mut s = open(endpoint, printer, wait).await?;
            let out = stream::send_job(
                &mut s,
                &job.bytes,
                check,
                job.ignore_paper,
                wait,
                high,
                starting,
            )
            .await?;
            finish(s).await;
            Ok(out.into())
        }
        PrinterAddress::File { path } => {
            starting.await;
            file::append(path, &job.bytes).await?;
            Ok(Delivery::Delivered {
                confirmed: false,
                status: None,
            })
        }
        PrinterAddress::Spooler { queue } => {
            starting.await;
            spooler::submit(queue, &job.bytes, wait).await
        }
        PrinterAddress::Epos { .. } => {
            starting.await;
            epos::print(&job.program, printer, wait).await
        }
    }
}

/// Asks the printer (or its spooler) how it is.
///
/// Fails when it cannot be reached.
pub async fn query(printer: &PrinterConfig) -> Result<StatusReport, TransportError> {
    let wait = printer.timeout;
    let high = printer.drawer_open_high;
    match &printer.uri.address {
        PrinterAddress::Stream(endpoint) => {
            let mut s = open(endpoint, printer, wait).await?;
            let status = stream::query_status(&mut s, wait, high).await?;
            finish(s).await;
            Ok(status.map_or(StatusReport::Unknown, StatusReport::Printer))
        }
        PrinterAddress::File { path } => file::check(path).await.map(|_| StatusReport::Unknown),
        PrinterAddress::Spooler { queue } => spooler::status(queue, wait).await,
        PrinterAddress::Epos { .. } => epos::status(printer, wait, high).await,
    }
}

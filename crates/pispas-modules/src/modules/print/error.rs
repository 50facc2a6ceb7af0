//! PRINT's errors and the one place they become FAILURE codes. The match is exhaustive, down to
//! the renderer's and the transports' variants, so a new failure forces a decision about what
//! the POS is told.

use super::escpos::status::NotReady;
use super::queue::JobState;
use super::receipt::ReceiptError;
use super::render::RenderError;
use super::transport::TransportError;
use crate::protocol::{ErrorCode, Failure};
use crate::store::StoreError;
use serde_json::json;

/// Everything that can go wrong in PRINT.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("no printer {name:?} (configured: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    PrinterNotFound { name: String, known: Vec<String> },
    #[error("PRINTER was not given and no default printer is set (DEFAULT_PRINTER)")]
    NoDefaultPrinter,
    #[error("{0}")]
    BadData(String),
    #[error("DATA is {size} bytes; at most {max} are accepted (PRINT_MAX_DATA_BYTES)")]
    TooLarge { size: usize, max: usize },
    #[error("RECEIPT: {0}")]
    Receipt(#[from] ReceiptError),
    #[error("rendering failed: {0}")]
    Render(#[from] RenderError),
    #[error("printer {printer}: {}", not_ready_text(*reason))]
    NotReady { printer: String, reason: NotReady },
    #[error("printer {printer}: {source}")]
    Transport {
        printer: String,
        source: TransportError,
    },
    #[error("no job {0}")]
    JobNotFound(String),
    #[error("job {id} is {} and cannot be cancelled", state.as_str())]
    NotCancellable { id: i64, state: JobState },
    #[error("job {0} was cancelled")]
    Cancelled(i64),
    #[error("job {0} expired before it could print (PRINT_RESUME_WINDOW)")]
    Expired(i64),
    #[error("print queue database: {0}")]
    Store(#[from] StoreError),
    #[error("the service is stopping")]
    ShuttingDown,
    #[error("{}", match .0 {
        super::queue::OverBudget::Bytes { waiting, max } => format!("the print queue holds {waiting} bytes of documents waiting, at most {max} (PRINT_QUEUE_MAX_MB): the job was not taken; check the printers"),
        super::queue::OverBudget::Renders { client, max } => format!("{client} has {max} documents waiting to be rendered (PRINT_MAX_PENDING_RENDERS): the job was not taken; wait for them"),
    })]
    QueueFull(super::queue::OverBudget),
}

/// A sentence for a cashier.
pub fn not_ready_text(reason: NotReady) -> &'static str {
    match reason {
        NotReady::CoverOpen => "the cover is open",
        NotReady::PaperOut => "out of paper",
        NotReady::Error => "the printer reports an error (check the cutter and paper path)",
        NotReady::Offline => "offline",
    }
}

/// The stable code for a printer that cannot print now.
pub fn not_ready_code(reason: NotReady) -> ErrorCode {
    match reason {
        NotReady::CoverOpen => ErrorCode::CoverOpen,
        NotReady::PaperOut => ErrorCode::PaperOut,
        NotReady::Error => ErrorCode::PrinterError,
        NotReady::Offline => ErrorCode::PrinterOffline,
    }
}

fn render_code(e: &RenderError) -> ErrorCode {
    match e {
        RenderError::BrowserMissing(_)
        | RenderError::Browser(_)
        | RenderError::Timeout(_)
        | RenderError::PdfiumMissing(_)
        | RenderError::Pdf(_)
        | RenderError::Image(_) => ErrorCode::RenderFailed,
        RenderError::TooLarge(_) => ErrorCode::DataTooLarge,
    }
}

fn transport_code(e: &TransportError) -> ErrorCode {
    match e {
        TransportError::Connect { .. } | TransportError::Io(_) | TransportError::Timeout(_) => {
            ErrorCode::PrinterOffline
        }
        TransportError::Spooler(_) | TransportError::Epos(_) | TransportError::Unsupported(_) => {
            ErrorCode::DeliveryFailed
        }
    }
}

impl PrintError {
    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            PrintError::PrinterNotFound { .. } | PrintError::NoDefaultPrinter => {
                ErrorCode::PrinterNotFound
            }
            PrintError::BadData(_) | PrintError::Receipt(_) => ErrorCode::BadData,
            PrintError::TooLarge { .. } => ErrorCode::DataTooLarge,
            PrintError::Render(e) => render_code(e),
            PrintError::NotReady { reason, .. } => not_ready_code(*reason),
            PrintError::Transport { source, .. } => transport_code(source),
            PrintError::JobNotFound(_) => ErrorCode::JobNotFound,
            PrintError::NotCancellable { .. } => ErrorCode::JobNotCancellable,
            PrintError::Cancelled(_) => ErrorCode::JobCancelled,
            PrintError::Expired(_) => ErrorCode::JobExpired,
            PrintError::Store(e) if e.is_full() => ErrorCode::StorageFull,
            PrintError::Store(_) => ErrorCode::Internal,
            PrintError::ShuttingDown => ErrorCode::ShuttingDown,
            PrintError::QueueFull(_) => ErrorCode::PrintQueueFull,
        }
    }

    /// The FAILURE reply: code, message, and for unknown printers the configured names.
    pub fn to_failure(&self) -> Failure {
        let failure = Failure::new(self.code(), self.to_string());
        match self {
            PrintError::PrinterNotFound { known, .. } => {
                failure.with_details(json!({ "PRINTERS": known }))
            }
            PrintError::Store(e) if e.is_full() => Failure::new(
                ErrorCode::StorageFull,
                "the disk holding the service's data folder is full: the job was not stored (nothing stored before was lost); free some space on it and send it again",
            ),
            _ => failure,
        }
    }
}

impl From<PrintError> for Failure {
    fn from(e: PrintError) -> Failure {
        if matches!(e, PrintError::Store(_)) {
            tracing::error!(error = %e, "print queue database error");
        }
        e.to_failure()
    }
}

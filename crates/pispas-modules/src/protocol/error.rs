//! Stable failure codes: the machine-readable half of every FAILURE reply.
//!
//! Codes are part of the public protocol (docs/protocol.md lists them); a POS branches on them,
//! so a code is never renamed. Modules add their own variants here so the list stays in one place.

use serde_json::{json, Value};
use std::fmt;

/// A stable, machine-readable reason for a FAILURE reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The text frame was not valid JSON.
    BadJson,
    /// Valid JSON, but not a request object (not an object, or a required field is missing or of
    /// the wrong type).
    BadRequest,
    /// A parameter of the action is missing or has the wrong type or value.
    BadParams,
    /// No module is registered under this TARGET.
    UnknownTarget,
    /// The module exists but has no such ACTION.
    UnknownAction,
    /// The module is listed in MODULES but is not available in this build or failed to start.
    ModuleUnavailable,
    /// A binary WebSocket frame arrived; the protocol is JSON text.
    BinaryNotSupported,
    /// A frame exceeded MAX_FRAME_BYTES.
    FrameTooLarge,
    /// The action needs the admin token.
    Unauthorized,
    /// The service is shutting down and takes no new work.
    ShuttingDown,
    /// A device or dependency did not answer in time.
    Timeout,
    /// The device is not connected or is being reconnected.
    DeviceUnavailable,
    /// No device of that name is configured (the message lists the configured ones).
    DeviceNotFound,
    /// The device's protocol has no such command (a scale without tare, for example).
    Unsupported,
    /// The device refused the command (a NAK).
    DeviceRefused,
    /// The scale did not settle within TIMEOUT.
    ScaleUnstable,
    /// The load is over the scale's capacity.
    ScaleOverload,
    /// The scale reads below zero (re-zero it with the pan empty).
    ScaleUnderZero,
    /// Configuration rejected (the message names the key).
    InvalidConfig,
    /// Changing this needs administrator rights that could not be had (the message says what
    /// to run instead).
    NeedsElevation,
    /// A bug or an unexpected internal condition; the log has the details.
    Internal,
    /// No printer of that name is configured (or none is and no default is set).
    PrinterNotFound,
    /// The printer cannot be reached or says it is offline.
    PrinterOffline,
    /// The printer is out of paper.
    PaperOut,
    /// The printer's cover is open.
    CoverOpen,
    /// The printer reports a mechanical, cutter or unrecoverable error.
    PrinterError,
    /// The document could not be rendered (browser or pdfium missing, a load that timed out, an unreadable PDF or image).
    RenderFailed,
    /// DATA is not valid for its FORMAT (bad base64, empty document, malformed RECEIPT).
    BadData,
    /// DATA is larger than PRINT_MAX_DATA_BYTES or has more pages than PRINT_MAX_PAGES.
    DataTooLarge,
    /// No print job has that id.
    JobNotFound,
    /// The job is being printed or is already finished.
    JobNotCancellable,
    /// The job was cancelled before it printed.
    JobCancelled,
    /// The job was not printed within PRINT_RESUME_WINDOW and will not be.
    JobExpired,
    /// The engine stopped while the job was going to the printer: it may have printed whole, in
    /// part or not at all. Never sent again by itself; look at the printer and REPRINT if needed.
    PrintInterrupted,
    /// The printer or spooler refused the job (the message says why).
    DeliveryFailed,
    /// The print queue is full (bytes waiting, or this client's renders waiting): not stored.
    PrintQueueFull,
    /// The disk holding the service's database is full: nothing was written.
    StorageFull,
    /// The card terminal (or the bank) declined the payment: the customer was not charged.
    PaymentDeclined,
    /// The payment was cancelled (by the customer, the cashier, or refused before it started):
    /// the customer was not charged.
    PaymentCancelled,
    /// Nobody can tell whether the customer was charged: a person must check the terminal and
    /// resolve it with PAYMENT_RESOLVE. Never retry such a payment with a new UUIDV4 first.
    PaymentUnknownOutcome,
    /// The terminal runs another payment (or is being reconciled): not started, not journaled.
    TerminalBusy,
    /// The terminal cannot be reached, or is in a mode the service cannot use.
    TerminalUnavailable,
    /// AMOUNT is not a whole number of cents above 0 and at most PAYMENT_MAX_AMOUNT.
    InvalidAmount,
    /// No payment has that UUIDV4 in the journal.
    PaymentNotFound,
    /// The cash machine cannot pay the change for what the customer hands over: nothing taken.
    ChangeUnavailable,
    /// A CACHE VALUE is larger than CACHE_MAX_VALUE_BYTES: not stored.
    ValueTooLarge,
    /// CACHE is at CACHE_MAX_BYTES: not stored.
    CacheFull,
    /// A CACHE write's IF_VERSION is not the key's current version: not stored.
    VersionConflict,
    /// A request from the cloud names a TARGET that REMOTE_TARGETS does not allow.
    RemoteNotAllowed,
    /// No kitchen ticket has that TICKET id (or it is older than KITCHEN_RETENTION).
    TicketNotFound,
    /// The kitchen ticket has no line with that LINE id.
    LineNotFound,
    /// The kitchen ticket is served or voided and cannot be changed.
    TicketClosed,
    /// RECALL found no bump to undo (for that ticket, or by that display).
    NothingToRecall,
}

impl ErrorCode {
    /// Every code, in the order docs/protocol.md lists them.
    pub const ALL: [ErrorCode; 53] = [
        ErrorCode::BadJson,
        ErrorCode::BadRequest,
        ErrorCode::BadParams,
        ErrorCode::UnknownTarget,
        ErrorCode::UnknownAction,
        ErrorCode::ModuleUnavailable,
        ErrorCode::BinaryNotSupported,
        ErrorCode::FrameTooLarge,
        ErrorCode::Unauthorized,
        ErrorCode::ShuttingDown,
        ErrorCode::Timeout,
        ErrorCode::DeviceUnavailable,
        ErrorCode::DeviceNotFound,
        ErrorCode::Unsupported,
        ErrorCode::DeviceRefused,
        ErrorCode::ScaleUnstable,
        ErrorCode::ScaleOverload,
        ErrorCode::ScaleUnderZero,
        ErrorCode::InvalidConfig,
        ErrorCode::NeedsElevation,
        ErrorCode::Internal,
        ErrorCode::PrinterNotFound,
        ErrorCode::PrinterOffline,
        ErrorCode::PaperOut,
        ErrorCode::CoverOpen,
        ErrorCode::PrinterError,
        ErrorCode::RenderFailed,
        ErrorCode::BadData,
        ErrorCode::DataTooLarge,
        ErrorCode::JobNotFound,
        ErrorCode::JobNotCancellable,
        ErrorCode::JobCancelled,
        ErrorCode::JobExpired,
        ErrorCode::PrintInterrupted,
        ErrorCode::DeliveryFailed,
        ErrorCode::PrintQueueFull,
        ErrorCode::StorageFull,
        ErrorCode::PaymentDeclined,
        ErrorCode::PaymentCancelled,
        ErrorCode::PaymentUnknownOutcome,
        ErrorCode::TerminalBusy,
        ErrorCode::TerminalUnavailable,
        ErrorCode::InvalidAmount,
        ErrorCode::PaymentNotFound,
        ErrorCode::ChangeUnavailable,
        ErrorCode::ValueTooLarge,
        ErrorCode::CacheFull,
        ErrorCode::VersionConflict,
        ErrorCode::RemoteNotAllowed,
        ErrorCode::TicketNotFound,
        ErrorCode::LineNotFound,
        ErrorCode::TicketClosed,
        ErrorCode::NothingToRecall,
    ];

    /// The code for its wire text; `None` for text that is not a code (a row written by another
    /// version, say).
    pub fn from_wire(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The code as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "BAD_JSON",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::BadParams => "BAD_PARAMS",
            ErrorCode::UnknownTarget => "UNKNOWN_TARGET",
            ErrorCode::UnknownAction => "UNKNOWN_ACTION",
            ErrorCode::ModuleUnavailable => "MODULE_UNAVAILABLE",
            ErrorCode::BinaryNotSupported => "BINARY_NOT_SUPPORTED",
            ErrorCode::FrameTooLarge => "FRAME_TOO_LARGE",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::ShuttingDown => "SHUTTING_DOWN",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::DeviceUnavailable => "DEVICE_UNAVAILABLE",
            ErrorCode::DeviceNotFound => "DEVICE_NOT_FOUND",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::DeviceRefused => "DEVICE_REFUSED",
            ErrorCode::ScaleUnstable => "SCALE_UNSTABLE",
            ErrorCode::ScaleOverload => "SCALE_OVERLOAD",
            ErrorCode::ScaleUnderZero => "SCALE_UNDER_ZERO",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::NeedsElevation => "NEEDS_ELEVATION",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::PrinterNotFound => "PRINTER_NOT_FOUND",
            ErrorCode::PrinterOffline => "PRINTER_OFFLINE",
            ErrorCode::PaperOut => "PAPER_OUT",
            ErrorCode::CoverOpen => "COVER_OPEN",
            ErrorCode::PrinterError => "PRINTER_ERROR",
            ErrorCode::RenderFailed => "RENDER_FAILED",
            ErrorCode::BadData => "BAD_DATA",
            ErrorCode::DataTooLarge => "DATA_TOO_LARGE",
            ErrorCode::JobNotFound => "JOB_NOT_FOUND",
            ErrorCode::JobNotCancellable => "JOB_NOT_CANCELLABLE",
            ErrorCode::JobCancelled => "JOB_CANCELLED",
            ErrorCode::JobExpired => "JOB_EXPIRED",
            ErrorCode::PrintInterrupted => "PRINT_INTERRUPTED",
            ErrorCode::DeliveryFailed => "DELIVERY_FAILED",
            ErrorCode::PrintQueueFull => "PRINT_QUEUE_FULL",
            ErrorCode::StorageFull => "STORAGE_FULL",
            ErrorCode::PaymentDeclined => "PAYMENT_DECLINED",
            ErrorCode::PaymentCancelled => "PAYMENT_CANCELLED",
            ErrorCode::PaymentUnknownOutcome => "PAYMENT_UNKNOWN_OUTCOME",
            ErrorCode::TerminalBusy => "TERMINAL_BUSY",
            ErrorCode::TerminalUnavailable => "TERMINAL_UNAVAILABLE",
            ErrorCode::InvalidAmount => "INVALID_AMOUNT",
            ErrorCode::PaymentNotFound => "PAYMENT_NOT_FOUND",
            ErrorCode::ChangeUnavailable => "CHANGE_UNAVAILABLE",
            ErrorCode::ValueTooLarge => "VALUE_TOO_LARGE",
            ErrorCode::CacheFull => "CACHE_FULL",
            ErrorCode::VersionConflict => "VERSION_CONFLICT",
            ErrorCode::RemoteNotAllowed => "REMOTE_NOT_ALLOWED",
            ErrorCode::TicketNotFound => "TICKET_NOT_FOUND",
            ErrorCode::LineNotFound => "LINE_NOT_FOUND",
            ErrorCode::TicketClosed => "TICKET_CLOSED",
            ErrorCode::NothingToRecall => "NOTHING_TO_RECALL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a FAILURE reply carries: a stable code, a human message and optional details.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// Adds machine-readable details (for example the list of valid actions).
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn bad_params(message: impl Into<String>) -> Self {
        Failure::new(ErrorCode::BadParams, message)
    }

    /// The reply for an ACTION the module does not have, listing the ones it has.
    pub fn unknown_action(target: &str, action: &str, known: &[&str]) -> Self {
        Failure::new(
            ErrorCode::UnknownAction,
            format!("{target} has no action {action:?}"),
        )
        .with_details(json!({ "ACTIONS": known }))
    }

    /// An unexpected internal failure: the whole error is logged under a reference, and the
    /// client gets INTERNAL with that reference only (never a database or task message).
    pub fn internal(context: &str, error: impl fmt::Display) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let reference = format!("E{:x}-{n}", crate::clock::now_ms() / 1000);
        tracing::error!(reference = %reference, error = %error, "{context} failed");
        Failure::new(
            ErrorCode::Internal,
            format!("{context} failed because of an internal error (reference {reference}; the service log has the details)"),
        )
        .with_details(json!({ "REFERENCE": reference }))
    }

    /// `MESSAGE_DATA` of the FAILURE reply.
    pub fn to_data(&self) -> Value {
        let mut data = json!({ "CODE": self.code.as_str(), "MESSAGE": self.message });
        if let (Some(details), Some(map)) = (&self.details, data.as_object_mut()) {
            map.insert("DETAILS".into(), details.clone());
        }
        data
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_wire_text_and_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(code));
            assert!(seen.insert(code.as_str()), "{code} listed twice");
        }
        assert_eq!(ErrorCode::from_wire("NOT_A_CODE"), None);
    }

    #[test]
    fn an_internal_failure_carries_a_reference_and_not_the_error_text() {
        let f = Failure::internal("reading the queue", "disk I/O error at page 7");
        assert_eq!(f.code, ErrorCode::Internal);
        assert!(!f.message.contains("page 7"), "{}", f.message);
        let reference = f.details.as_ref().unwrap()["REFERENCE"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(f.message.contains(&reference));
    }
}

//! A printer's condition in PRINT's words (`READY`, `PAPER_NEAR_END`, `PAPER_OUT`, `COVER_OPEN`,
//! `ERROR`, `OFFLINE`), from what the printer or its transport said, and how it maps to the
//! engine-wide `DEVICE_STATE` and to the sentence a cashier reads.
//!
//! The words are text only at the wire (PRINTER events, STATUS, GET_PRINTERS).

use super::error::not_ready_text;
use super::escpos::status::{NotReady, Paper, PrinterStatus};
use crate::events::DeviceStatus;

/// What a printer last reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterState {
    Ready,
    /// It prints, but the paper is nearly out.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Mechanical, cutter or unrecoverable error.
    Error,
    /// Unreachable, or it says it is offline.
    Offline,
}

impl PrinterState {
    /// The state a full status report shows.
    pub fn from_status(s: &PrinterStatus) -> PrinterState {
        match s.readiness() {
            Err(reason) => PrinterState::from(reason),
            Ok(()) if s.paper == Paper::NearEnd => PrinterState::PaperNearEnd,
            Ok(()) => PrinterState::Ready,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PrinterState::Ready => "READY",
            PrinterState::PaperNearEnd => "PAPER_NEAR_END",
            PrinterState::PaperOut => "PAPER_OUT",
            PrinterState::CoverOpen => "COVER_OPEN",
            PrinterState::Error => "ERROR",
            PrinterState::Offline => "OFFLINE",
        }
    }

    /// Whether a job can print now.
    pub fn can_print(self) -> bool {
        matches!(self, PrinterState::Ready | PrinterState::PaperNearEnd)
    }

    /// The engine-wide state the tray and the status window show.
    pub fn device_status(self) -> DeviceStatus {
        match self {
            PrinterState::Ready => DeviceStatus::Ready,
            PrinterState::PaperNearEnd => DeviceStatus::PaperLow,
            PrinterState::PaperOut => DeviceStatus::PaperOut,
            PrinterState::CoverOpen => DeviceStatus::CoverOpen,
            PrinterState::Error => DeviceStatus::Error,
            PrinterState::Offline => DeviceStatus::Offline,
        }
    }

    /// A sentence for a cashier.
    pub fn sentence(self) -> &'static str {
        match self {
            PrinterState::Ready => "ready",
            PrinterState::PaperNearEnd => "paper nearly out",
            PrinterState::PaperOut => not_ready_text(NotReady::PaperOut),
            PrinterState::CoverOpen => not_ready_text(NotReady::CoverOpen),
            PrinterState::Error => not_ready_text(NotReady::Error),
            PrinterState::Offline => not_ready_text(NotReady::Offline),
        }
    }
}

impl From<NotReady> for PrinterState {
    fn from(reason: NotReady) -> Self {
        match reason {
            NotReady::CoverOpen => PrinterState::CoverOpen,
            NotReady::PaperOut => PrinterState::PaperOut,
            NotReady::Error => PrinterState::Error,
            NotReady::Offline => PrinterState::Offline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(paper: Paper, cover_open: bool) -> PrinterStatus {
        PrinterStatus {
            online: true,
            paper,
            cover_open,
            drawer_open: false,
            error: false,
            feed_button: false,
        }
    }

    #[test]
    fn paper_near_end_still_prints_and_is_paper_low_for_the_tray() {
        let s = PrinterState::from_status(&status(Paper::NearEnd, false));
        assert_eq!(s, PrinterState::PaperNearEnd);
        assert!(s.can_print());
        assert_eq!(s.device_status(), DeviceStatus::PaperLow);
    }

    #[test]
    fn an_open_cover_wins_over_paper_and_cannot_print() {
        let s = PrinterState::from_status(&status(Paper::Out, true));
        assert_eq!(s, PrinterState::CoverOpen);
        assert!(!s.can_print());
    }

    #[test]
    fn a_not_ready_reason_and_a_status_agree_on_the_word() {
        assert_eq!(PrinterState::from(NotReady::Offline).as_str(), "OFFLINE");
        assert_eq!(PrinterState::from(NotReady::Error).as_str(), "ERROR");
    }
}

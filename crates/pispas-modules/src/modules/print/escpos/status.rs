//! Real-time status (`DLE EOT n`, §6): asking the printer itself whether it can print, and what
//! the answers mean. The bytes come from the transport; this file only interprets them.
//!
//! A status byte always has bit 1 and bit 4 set and bits 0 and 7 clear (`b & 0x93 == 0x12`);
//! anything else on the line (an ASB push, stray data) is skipped.

use super::commands::status_request;

/// Paper sensor reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Paper {
    Ok,
    NearEnd,
    Out,
}

/// Everything the printer told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterStatus {
    pub online: bool,
    pub paper: Paper,
    pub cover_open: bool,
    /// The drawer sensor (pin 3) level, already turned into open/closed.
    pub drawer_open: bool,
    /// A mechanical, cutter or unrecoverable error.
    pub error: bool,
    pub feed_button: bool,
}

/// Why a printer cannot take a job now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    CoverOpen,
    PaperOut,
    Error,
    Offline,
}

impl PrinterStatus {
    /// Whether a receipt can print now, and if not, the main reason.
    pub fn readiness(&self) -> Result<(), NotReady> {
        if self.cover_open {
            Err(NotReady::CoverOpen)
        } else if self.paper == Paper::Out {
            Err(NotReady::PaperOut)
        } else if self.error {
            Err(NotReady::Error)
        } else if !self.online {
            Err(NotReady::Offline)
        } else {
            Ok(())
        }
    }
}

/// The four requests, in the order [`parse`] expects the replies: printer, offline cause,
/// error, paper.
pub fn request_all() -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    for n in [1, 2, 3, 4] {
        out.extend_from_slice(&status_request(n));
    }
    out
}

/// Whether `b` can be a `DLE EOT` reply.
pub fn is_status_byte(b: u8) -> bool {
    b & 0x93 == 0x12
}

/// Interprets the replies to n = 1, 2, 3, 4. `drawer_high_is_open` says how the drawer's switch
/// is wired (it differs between drawers).
pub fn parse(replies: [u8; 4], drawer_high_is_open: bool) -> PrinterStatus {
    let [printer, cause, error, paper] = replies;
    let paper_state = if paper & 0x60 != 0 || cause & 0x20 != 0 {
        Paper::Out
    } else if paper & 0x0C != 0 {
        Paper::NearEnd
    } else {
        Paper::Ok
    };
    let pin3_high = printer & 0x04 != 0;
    PrinterStatus {
        online: printer & 0x08 == 0,
        paper: paper_state,
        cover_open: cause & 0x04 != 0,
        drawer_open: pin3_high == drawer_high_is_open,
        error: cause & 0x40 != 0 || error & (0x04 | 0x08 | 0x20) != 0,
        feed_button: cause & 0x08 != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_healthy_printer_answers_the_fixed_bits_only() {
        let s = parse([0x12; 4], true);
        assert_eq!(s.readiness(), Ok(()));
        assert_eq!(s.paper, Paper::Ok);
        assert!(!s.drawer_open);
    }

    #[test]
    fn python_escpos_paper_values_mean_ok_near_end_and_out() {
        assert_eq!(parse([0x12, 0x12, 0x12, 18], true).paper, Paper::Ok);
        assert_eq!(parse([0x12, 0x12, 0x12, 30], true).paper, Paper::NearEnd);
        assert_eq!(parse([0x12, 0x12, 0x12, 114], true).paper, Paper::Out);
        assert_eq!(
            parse([0x1A, 0x32, 0x12, 114], true).readiness(),
            Err(NotReady::PaperOut)
        );
    }

    #[test]
    fn cover_open_wins_over_offline() {
        let s = parse([0x1A, 0x16, 0x12, 0x12], true);
        assert!(!s.online);
        assert_eq!(s.readiness(), Err(NotReady::CoverOpen));
    }

    #[test]
    fn the_drawer_level_is_read_as_configured() {
        assert!(parse([0x16, 0x12, 0x12, 0x12], true).drawer_open);
        assert!(!parse([0x16, 0x12, 0x12, 0x12], false).drawer_open);
    }

    #[test]
    fn status_bytes_are_told_apart_from_asb_and_noise() {
        assert!(is_status_byte(0x12));
        assert!(is_status_byte(0x1A));
        assert!(!is_status_byte(0x10), "ASB first byte");
        assert!(!is_status_byte(0x00));
        assert_eq!(
            request_all(),
            [0x10, 4, 1, 0x10, 4, 2, 0x10, 4, 3, 0x10, 4, 4]
        );
    }
}

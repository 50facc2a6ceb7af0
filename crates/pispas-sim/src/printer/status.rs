//! The printer's settable condition (paper, cover, online, drawer pin 3, errors) and how it is
//! reported: `DLE EOT n` bytes, the 4-byte ASB block (`GS a`), and the ePOS-Print `status`
//! bitmask and `code`, all per device-protocols.md §6. It holds no connection state.

/// The paper roll sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    #[default]
    Ok,
    NearEnd,
    Out,
}

/// An error condition (DLE EOT 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterFault {
    /// Mechanical error (recoverable), e.g. a head that cannot return.
    Mechanical,
    /// Auto-cutter error.
    AutoCutter,
    /// Unrecoverable error.
    Unrecoverable,
    /// Automatically recoverable error (e.g. head overheated).
    AutoRecoverable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub paper: Paper,
    pub cover_open: bool,
    /// Put offline by hand (the printer's own reasons — cover, paper end, errors — also make
    /// it offline; see `is_offline`).
    pub offline: bool,
    /// Drawer kick-out connector pin 3 level (DLE EOT 1 bit 2). See README for open/closed.
    pub drawer_pin3_high: bool,
    pub fault: Option<PrinterFault>,
}

const FIXED: u8 = 0x12;

impl PrinterStatus {
    /// Offline for any reason: by hand, cover open, paper end, or an error (as Epson printers
    /// go offline in each of those cases).
    pub fn is_offline(&self) -> bool {
        self.offline || self.cover_open || self.paper == Paper::Out || self.fault.is_some()
    }

    /// Ready to print (data received while not ready is held until it is).
    pub fn is_ready(&self) -> bool {
        !self.is_offline()
    }

    /// The byte answered to `DLE EOT n`, or None for an n outside 1..=4 (no answer).
    pub fn realtime(&self, n: u8) -> Option<u8> {
        let bit = |on: bool, mask: u8| if on { mask } else { 0 };
        Some(match n {
            1 => FIXED | bit(self.drawer_pin3_high, 0x04) | bit(self.is_offline(), 0x08),
            2 => {
                FIXED
                    | bit(self.cover_open, 0x04)
                    | bit(self.paper == Paper::Out, 0x20)
                    | bit(self.fault.is_some(), 0x40)
            }
            3 => FIXED | self.error_bits(),
            4 => match self.paper {
                Paper::Ok => FIXED,
                Paper::NearEnd => FIXED | 0x0C,
                Paper::Out => FIXED | 0x60,
            },
            _ => return None,
        })
    }

    fn error_bits(&self) -> u8 {
        match self.fault {
            None => 0,
            Some(PrinterFault::Mechanical) => 0x04,
            Some(PrinterFault::AutoCutter) => 0x08,
            Some(PrinterFault::Unrecoverable) => 0x20,
            Some(PrinterFault::AutoRecoverable) => 0x40,
        }
    }

    /// The 4 ASB bytes: 1) bit 4 fixed, bit 2 drawer pin 3, bit 3 offline, bit 5 cover open;
    /// 2) error bits as DLE EOT 3; 3) bits 0–1 near end, 2–3 paper end; 4) reserved, 0.
    pub fn asb(&self) -> [u8; 4] {
        let bit = |on: bool, mask: u8| if on { mask } else { 0 };
        [
            0x10 | bit(self.drawer_pin3_high, 0x04)
                | bit(self.is_offline(), 0x08)
                | bit(self.cover_open, 0x20),
            self.error_bits(),
            match self.paper {
                Paper::Ok => 0,
                Paper::NearEnd => 0x03,
                Paper::Out => 0x0C,
            },
            0,
        ]
    }

    /// ePOS-Print `status` bitmask; `printed` sets PRINT_SUCCESS (0x2).
    pub fn epos_status(&self, printed: bool) -> u32 {
        let bit = |on: bool, mask: u32| if on { mask } else { 0 };
        bit(printed, 0x2)
            | bit(self.drawer_pin3_high, 0x4)
            | bit(self.is_offline(), 0x8)
            | bit(self.cover_open, 0x20)
            | bit(self.fault == Some(PrinterFault::Mechanical), 0x400)
            | bit(self.fault == Some(PrinterFault::AutoCutter), 0x800)
            | bit(self.fault == Some(PrinterFault::Unrecoverable), 0x2000)
            | bit(self.fault == Some(PrinterFault::AutoRecoverable), 0x4000)
            | bit(self.paper == Paper::NearEnd, 0x20000)
            | bit(self.paper == Paper::Out, 0x80000)
    }

    /// ePOS-Print `code` for a request that cannot print, most specific cause first; None
    /// when the printer is ready.
    pub fn epos_code(&self) -> Option<&'static str> {
        if self.cover_open {
            return Some("EPTR_COVER_OPEN");
        }
        if self.paper == Paper::Out {
            return Some("EPTR_REC_EMPTY");
        }
        if let Some(fault) = self.fault {
            return Some(match fault {
                PrinterFault::Mechanical => "EPTR_MECHANICAL",
                PrinterFault::AutoCutter => "EPTR_CUTTER",
                PrinterFault::Unrecoverable => "EPTR_UNRECOVERABLE",
                PrinterFault::AutoRecoverable => "EPTR_AUTOMATICAL",
            });
        }
        self.offline.then_some("EX_TIMEOUT")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_healthy_printer_answers_0x12_to_every_status_request() {
        let s = PrinterStatus::default();
        assert_eq!([1, 2, 3, 4].map(|n| s.realtime(n)), [Some(0x12); 4]);
        assert_eq!(s.realtime(5), None);
    }

    #[test]
    fn paper_out_is_0x72_on_dle_eot_4_and_offline_on_dle_eot_1() {
        let s = PrinterStatus {
            paper: Paper::Out,
            ..Default::default()
        };
        assert_eq!(s.realtime(4), Some(0x72));
        assert_eq!(s.realtime(2), Some(0x32));
        assert_eq!(s.realtime(1), Some(0x1A));
    }

    #[test]
    fn near_end_is_0x1e_and_still_online() {
        let s = PrinterStatus {
            paper: Paper::NearEnd,
            ..Default::default()
        };
        assert_eq!(s.realtime(4), Some(0x1E));
        assert_eq!(s.realtime(1), Some(0x12));
    }

    #[test]
    fn cover_open_and_drawer_pin_3() {
        let s = PrinterStatus {
            cover_open: true,
            drawer_pin3_high: true,
            ..Default::default()
        };
        assert_eq!(s.realtime(2), Some(0x16));
        assert_eq!(s.realtime(1), Some(0x1E));
        assert_eq!(s.epos_code(), Some("EPTR_COVER_OPEN"));
        assert_eq!(s.epos_status(false) & 0x20, 0x20);
    }

    #[test]
    fn asb_byte_1_is_told_apart_from_a_realtime_reply() {
        let s = PrinterStatus {
            offline: true,
            ..Default::default()
        };
        assert_eq!(s.asb()[0] & 0x93, 0x10);
        assert_eq!(s.realtime(1).map(|b| b & 0x93), Some(0x12));
    }

    #[test]
    fn epos_paper_out_is_rec_empty_with_bit_0x80000() {
        let s = PrinterStatus {
            paper: Paper::Out,
            ..Default::default()
        };
        assert_eq!(s.epos_code(), Some("EPTR_REC_EMPTY"));
        assert_eq!(s.epos_status(false) & 0x80000, 0x80000);
    }
}

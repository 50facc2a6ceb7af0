//! The numbers of the C contract (cglogics.h): status codes returned by every call, and the
//! integer arguments of the callbacks. Text names exist only for answers and the control channel.

use serde::{Deserialize, Serialize};

/// The `short` every entry point returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(i16)]
pub enum Code {
    Ok = 0,
    Busy = 1,
    Error = 2,
    Warning = 3,
    InputParamError = 4,
    Closed = 5,
    Timeout = 6,
    SendFailed = 7,
    PayoutRest = 8,
    PortError = 9,
    PayclearError = 10,
    PayoutLimit = 11,
    NotSupported = 12,
}

impl Code {
    pub fn as_i16(self) -> i16 {
        self as i16
    }

    /// The vendor's name for the code (used in answers and stats).
    pub fn name(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Busy => "BUSY",
            Code::Error => "ERROR",
            Code::Warning => "WARNING",
            Code::InputParamError => "INPUT_PARAM_ERROR",
            Code::Closed => "CLOSED",
            Code::Timeout => "TIMEOUT",
            Code::SendFailed => "SENDFAILED",
            Code::PayoutRest => "PAYOUT_REST",
            Code::PortError => "PORT_ERROR",
            Code::PayclearError => "PAYCLEAR_ERROR",
            Code::PayoutLimit => "PAYOUT_LIMIT",
            Code::NotSupported => "NOT_SUPPORTED",
        }
    }
}

/// `status` argument of the Status callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum MachineStatus {
    Ok = 0,
    Busy = 1,
    Error = 2,
}

/// `mode` argument of the Status callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Mode {
    Closed = 0,
    OpenFromRegister = 1,
    /// Part of the contract; the simulator never opens a back-office session itself.
    OpenFromBackOffice = 2,
}

/// `type` argument of the LevelWarning callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(i32)]
pub enum LevelKind {
    Empty = 1,
    Low = 2,
    High = 3,
    /// The cassette is full: further notes/coins of that denomination are refused.
    Blocked = 4,
}

impl LevelKind {
    pub fn name(self) -> &'static str {
        match self {
            LevelKind::Empty => "EMPTY",
            LevelKind::Low => "LOW",
            LevelKind::High => "HIGH",
            LevelKind::Blocked => "BLOCKED",
        }
    }
}

/// `infoType` argument of the CashSession callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum CashSessionInfo {
    BackOfficeWithdrawal = 0,
    BackOfficeRefill = 1,
    RegisterWithdrawal = 2,
    RegisterRefill = 3,
    BusyByOtherRegister = 4,
}

/// Size of every `answer` buffer, NUL included.
pub const ANSWER_LEN: usize = 256;
/// Size of the `level` buffer of `infoCG`, NUL included.
pub const LEVEL_LEN: usize = 1024;

//! The IPP STATUS codes (device-protocols.md §2: the table a public LAN bridge calls the
//! official one). STATUS is about the protocol exchange; whether the card was charged is
//! TX_STATUS on the final frame.

/// A STATUS value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    TerminalBusy,
    SyntaxError,
    UnsupportedParam,
    UnsupportedMethod,
    NoCardFound,
    UnsupportedCard,
    CardChipError,
    FallbackToMagstripe,
    InvalidPin,
    MaxPinCountExceeded,
    PinCheckOnline,
    HostReceiveError,
    UserCancel,
    InternalError,
    CommunicationError,
    SslError,
    TransactionNotFound,
    ReversalNotFound,
    InvalidAmount,
    NotCompletedLastTx,
    NoPrinter,
    NoPaper,
    IncorrectPrintData,
    IncorrectLogoIndex,
    ActivationRequired,
    MandatoryUpdateRequired,
    SuccessWithInfo,
}

impl Status {
    pub const ALL: [Status; 28] = [
        Status::Ok,
        Status::TerminalBusy,
        Status::SyntaxError,
        Status::UnsupportedParam,
        Status::UnsupportedMethod,
        Status::NoCardFound,
        Status::UnsupportedCard,
        Status::CardChipError,
        Status::FallbackToMagstripe,
        Status::InvalidPin,
        Status::MaxPinCountExceeded,
        Status::PinCheckOnline,
        Status::HostReceiveError,
        Status::UserCancel,
        Status::InternalError,
        Status::CommunicationError,
        Status::SslError,
        Status::TransactionNotFound,
        Status::ReversalNotFound,
        Status::InvalidAmount,
        Status::NotCompletedLastTx,
        Status::NoPrinter,
        Status::NoPaper,
        Status::IncorrectPrintData,
        Status::IncorrectLogoIndex,
        Status::ActivationRequired,
        Status::MandatoryUpdateRequired,
        Status::SuccessWithInfo,
    ];

    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 0,
            Status::TerminalBusy => 1,
            Status::SyntaxError => 2,
            Status::UnsupportedParam => 3,
            Status::UnsupportedMethod => 4,
            Status::NoCardFound => 5,
            Status::UnsupportedCard => 6,
            Status::CardChipError => 7,
            Status::FallbackToMagstripe => 8,
            Status::InvalidPin => 9,
            Status::MaxPinCountExceeded => 10,
            Status::PinCheckOnline => 11,
            Status::HostReceiveError => 12,
            Status::UserCancel => 13,
            Status::InternalError => 14,
            Status::CommunicationError => 15,
            Status::SslError => 16,
            Status::TransactionNotFound => 17,
            Status::ReversalNotFound => 18,
            Status::InvalidAmount => 19,
            Status::NotCompletedLastTx => 20,
            Status::NoPrinter => 21,
            Status::NoPaper => 22,
            Status::IncorrectPrintData => 23,
            Status::IncorrectLogoIndex => 24,
            Status::ActivationRequired => 25,
            Status::MandatoryUpdateRequired => 26,
            Status::SuccessWithInfo => 100,
        }
    }

    pub fn from_code(code: u16) -> Option<Status> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert_eq!(Status::NotCompletedLastTx.code(), 20);
        assert_eq!(Status::SuccessWithInfo.code(), 100);
    }
}

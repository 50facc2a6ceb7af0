//! The IPP STATUS codes (device-protocols.md §2, the table a public LAN bridge calls the
//! official one), what each means for the money, and the sentence a cashier reads. STATUS is
//! about the exchange; whether the card was charged is TX_STATUS on the final frame. Pure.

/// What a STATUS means for a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    Ok,
    /// Not started: the terminal runs another transaction.
    Busy,
    /// Not started: the request or the terminal's setup is wrong.
    Refused,
    /// The card or the PIN failed: not charged (when it ends the transaction).
    CardFailed,
    /// Information in the middle of a transaction (PIN check online).
    Info,
    /// The customer cancelled: not charged.
    UserCancel,
    /// The card may have been charged: reconcile, never report "declined".
    MaybeCharged,
    /// No such transaction (GET_STATUS, COMPLETE_TX, REVERSAL).
    NotFound,
    /// The previous purchase waits for COMPLETE_TX.
    NotCompleted,
    /// Printer trouble (REPRINT).
    Printer,
}

/// `(code, name, meaning, sentence)` for every documented STATUS.
pub const STATUSES: &[(u32, &str, Meaning, &str)] = &[
    (0, "OK", Meaning::Ok, "done"),
    (
        1,
        "TERMINAL BUSY",
        Meaning::Busy,
        "the terminal is busy with another transaction",
    ),
    (
        2,
        "SYNTAX ERROR",
        Meaning::Refused,
        "the terminal did not understand the request (report this to support)",
    ),
    (
        3,
        "UNSUPPORTED PARAM",
        Meaning::Refused,
        "the terminal does not accept one of the request's values (report this to support)",
    ),
    (
        4,
        "UNSUPPORTED METHOD",
        Meaning::Refused,
        "the terminal does not support this operation",
    ),
    (
        5,
        "NO CARD FOUND",
        Meaning::CardFailed,
        "no card was presented",
    ),
    (
        6,
        "UNSUPPORTED CARD",
        Meaning::CardFailed,
        "the terminal does not accept this card",
    ),
    (
        7,
        "CARD CHIP ERROR",
        Meaning::CardFailed,
        "the card's chip could not be read; try again or use another card",
    ),
    (
        8,
        "FALLBACK TO MAGSTRIPE",
        Meaning::CardFailed,
        "the chip could not be read and the stripe is not allowed",
    ),
    (9, "INVALID PIN", Meaning::CardFailed, "wrong PIN"),
    (
        10,
        "MAX PIN COUNT EXCEEDED",
        Meaning::CardFailed,
        "too many wrong PINs: the card is blocked for this payment",
    ),
    (
        11,
        "PIN CHECK ONLINE",
        Meaning::Info,
        "the PIN is being checked with the bank",
    ),
    (
        12,
        "HOST RECEIVE ERROR",
        Meaning::MaybeCharged,
        "the bank's answer did not arrive",
    ),
    (
        13,
        "USER CANCEL",
        Meaning::UserCancel,
        "cancelled on the terminal",
    ),
    (
        14,
        "INTERNAL ERROR",
        Meaning::MaybeCharged,
        "the terminal had an internal error",
    ),
    (
        15,
        "COMMUNICATION ERROR",
        Meaning::MaybeCharged,
        "the terminal lost its connection to the bank",
    ),
    (
        16,
        "SSL ERROR",
        Meaning::MaybeCharged,
        "the terminal's secure connection to the bank failed",
    ),
    (
        17,
        "TRANSACTION NOT FOUND",
        Meaning::NotFound,
        "the terminal has no record of that transaction",
    ),
    (
        18,
        "REVERSAL NOT FOUND",
        Meaning::NotFound,
        "there is no approved last transaction to reverse",
    ),
    (
        19,
        "INVALID AMOUNT",
        Meaning::Refused,
        "the terminal refused the amount",
    ),
    (
        20,
        "NOT COMPLETED LAST TX",
        Meaning::NotCompleted,
        "the terminal's previous transaction was not completed",
    ),
    (
        21,
        "NO PRINTER",
        Meaning::Printer,
        "the terminal has no printer",
    ),
    (
        22,
        "NO PAPER",
        Meaning::Printer,
        "the terminal is out of paper",
    ),
    (
        23,
        "INCORRECT PRINT_DATA",
        Meaning::Printer,
        "the terminal could not print the receipt data",
    ),
    (
        24,
        "INCORRECT LOGO INDEX",
        Meaning::Printer,
        "the terminal has no such logo",
    ),
    (
        25,
        "ACTIVATION REQUIRED",
        Meaning::Refused,
        "the terminal must be activated first (myPOS account)",
    ),
    (
        26,
        "MANDATORY UPDATE REQUIRED",
        Meaning::Refused,
        "the terminal must install a mandatory update first",
    ),
    (100, "SUCCESS WITH INFO", Meaning::Ok, "done"),
];

/// A STATUS's name, meaning and sentence; an undocumented code is refused, never guessed as OK
/// (and after stage 1 the caller treats it as "may be charged").
pub fn status(code: u32) -> (&'static str, Meaning, &'static str) {
    STATUSES
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(_, n, m, s)| (*n, *m, *s))
        .unwrap_or((
            "UNDOCUMENTED",
            Meaning::MaybeCharged,
            "the terminal answered with a status this service does not know",
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_is_listed_once() {
        let mut codes: Vec<u32> = STATUSES.iter().map(|s| s.0).collect();
        codes.dedup();
        assert_eq!(codes.len(), 28);
        assert_eq!(status(20).1, Meaning::NotCompleted);
    }

    #[test]
    fn the_codes_that_may_have_charged_the_card_are_never_a_decline() {
        for code in [12, 14, 15, 16, 999] {
            assert_eq!(status(code).1, Meaning::MaybeCharged, "{code}");
        }
    }
}

//! CashGuard's numbers and texts, pure: the return codes of every cglogics call with a
//! sentence a cashier understands, the level text of `infoCG` (`denomination:count;…`), and the
//! level-warning kinds. No I/O.

use serde_json::{json, Value};

/// `(code, name, sentence)` of every documented return code (device-protocols.md §3).
pub const CODES: &[(i16, &str, &str)] = &[
    (0, "OK", "done"),
    (
        1,
        "BUSY",
        "the cash machine is busy (not enough cash inserted yet, or another register uses it)",
    ),
    (
        2,
        "ERROR",
        "the cash machine reports an error (a jam?): check it, then RESET",
    ),
    (3, "WARNING", "the cash machine gave a warning"),
    (
        4,
        "INPUT_PARAM_ERROR",
        "the cash machine refused a value (report this to support)",
    ),
    (
        5,
        "CLOSED",
        "the cash machine has no open session: OPEN it first",
    ),
    (6, "TIMEOUT", "the cash machine did not answer in time"),
    (
        7,
        "SENDFAILED",
        "the command could not be sent to the cash machine",
    ),
    (
        8,
        "PAYOUT_REST",
        "the cash machine could not pay all the change: pay the rest by hand",
    ),
    (
        9,
        "PORT_ERROR",
        "the cash machine's port cannot be opened: check the cable and CASHGUARD's port",
    ),
    (
        10,
        "PAYCLEAR_ERROR",
        "more was to be kept than was inserted",
    ),
    (
        11,
        "PAYOUT_LIMIT",
        "the payout is over the limit set in cglogics.ini: nothing was paid",
    ),
    (
        12,
        "NOT_SUPPORTED",
        "the cash machine does not support this",
    ),
];

/// A code's name and sentence (an undocumented one says so).
pub fn code(code: i16) -> (&'static str, &'static str) {
    CODES
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(_, n, s)| (*n, *s))
        .unwrap_or((
            "UNDOCUMENTED",
            "the cash machine answered with a code this service does not know",
        ))
}

/// The largest denomination (cents) and count a level entry may have: far above any note or
/// cassette (500 € is 50,000 cents), low enough that no BALANCE total can overflow. Beyond them
/// the entry is junk from the library and is skipped, as unparsable ones are (found by the
/// fuzz target: two entries of 4294967295 coins of 4294967295 cents overflowed the total).
const MAX_DENOMINATION: u32 = 10_000_000;
const MAX_COUNT: u32 = 10_000_000;

/// `infoCG`'s level text as `(denomination in cents, count)`, ascending; junk entries skipped.
pub fn levels(text: &str) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = text
        .split(';')
        .filter_map(|pair| {
            let (d, n) = pair.trim().split_once(':')?;
            Some((d.trim().parse().ok()?, n.trim().parse().ok()?))
        })
        .filter(|&(d, n)| d <= MAX_DENOMINATION && n <= MAX_COUNT)
        .collect();
    out.sort_unstable();
    out
}

/// BALANCE's reply: `{LEVELS: [{DENOMINATION, COUNT, TOTAL}], TOTAL}`.
pub fn balance_json(levels: &[(u32, u32)]) -> Value {
    let total = levels
        .iter()
        .map(|(d, n)| u64::from(*d) * u64::from(*n))
        .fold(0u64, u64::saturating_add);
    json!({
        "LEVELS": levels.iter().map(|(d, n)| json!({ "DENOMINATION": d, "COUNT": n, "TOTAL": u64::from(*d) * u64::from(*n) })).collect::<Vec<_>>(),
        "TOTAL": total,
    })
}

/// A level warning's kind word (1 EMPTY, 2 LOW, 3 HIGH, 4 BLOCKED = FULL).
pub fn level_kind(kind: i32) -> &'static str {
    match kind {
        1 => "EMPTY",
        2 => "LOW",
        3 => "HIGH",
        4 => "FULL",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_read_ascending_and_junk_is_skipped() {
        assert_eq!(levels("500:20;1:50;x:1;2000:"), [(1, 50), (500, 20)]);
        assert_eq!(
            levels("4294967295:4294967295;4294967294:4294967295;200:3"),
            [(200, 3)],
            "absurd entries are junk"
        );
        let b = balance_json(&[(500, 2), (2000, 1)]);
        assert_eq!(b["TOTAL"], 3000);
    }

    #[test]
    fn every_code_has_a_sentence() {
        assert_eq!(CODES.len(), 13);
        assert_eq!(code(8).0, "PAYOUT_REST");
        assert_eq!(code(99).0, "UNDOCUMENTED");
        assert_eq!(level_kind(4), "FULL");
    }
}

//! Turns the weight text scales send into exact integer grams.
//!
//! Scales spell weights two ways: kilograms with a decimal point (`"  1.234"`, `"-0.450"`) and
//! whole grams (`"01500"`). Both allow padding spaces and a sign. This file does no framing
//! and knows no units beyond the decimal exponent its callers pass; it never uses floats.

/// More digits than any scale sends; keeps `i64` arithmetic far from overflow.
const MAX_DIGITS: usize = 15;

/// Parses kilograms text (`" -1.2345"`) into grams. A fourth decimal and beyond is rounded
/// half away from zero. Returns `None` when the text is not a number.
pub(crate) fn kg_to_grams(text: &[u8]) -> Option<i64> {
    decimal(text, 3)
}

/// Parses a grams field (`"01500"`). Tolerates a field that carries kilograms with a decimal
/// point instead (`"1.500"`), which some firmware sends in the same position.
pub(crate) fn field_grams(text: &[u8]) -> Option<i64> {
    if text.contains(&b'.') {
        decimal(text, 3)
    } else {
        decimal(text, 0)
    }
}

/// Parses `[spaces][+|-][spaces]digits[.digits][spaces]` and returns the value times
/// `10^exponent`, rounded half away from zero.
pub(crate) fn decimal(text: &[u8], exponent: usize) -> Option<i64> {
    let text = text.trim_ascii();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest.trim_ascii_start()),
        Some((b'+', rest)) => (false, rest.trim_ascii_start()),
        _ => (false, text),
    };
    let (int_part, frac_part) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, &[][..]),
    };
    let all_digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    if int_part.len() + frac_part.len() == 0
        || int_part.len() + frac_part.len() > MAX_DIGITS
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return None;
    }
    let mut value: i64 = 0;
    for &d in int_part {
        value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    for i in 0..exponent {
        let digit = frac_part.get(i).map_or(0, |d| i64::from(d - b'0'));
        value = value.checked_mul(10)?.checked_add(digit)?;
    }
    if frac_part.get(exponent).is_some_and(|&d| d >= b'5') {
        value = value.checked_add(1)?;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilograms_with_padding_become_exact_grams() {
        assert_eq!(kg_to_grams(b"  1.234"), Some(1234));
        assert_eq!(kg_to_grams(b"0.000"), Some(0));
        assert_eq!(kg_to_grams(b"12.5"), Some(12_500));
        assert_eq!(kg_to_grams(b"3"), Some(3000));
    }

    #[test]
    fn signs_may_be_separated_from_the_digits_by_spaces() {
        assert_eq!(kg_to_grams(b"-0.450"), Some(-450));
        assert_eq!(kg_to_grams(b"-  1.500"), Some(-1500));
        assert_eq!(kg_to_grams(b"+  1.500"), Some(1500));
    }

    #[test]
    fn a_fourth_decimal_rounds_half_away_from_zero() {
        assert_eq!(kg_to_grams(b"0.0005"), Some(1));
        assert_eq!(kg_to_grams(b"0.0004"), Some(0));
        assert_eq!(kg_to_grams(b"-1.2345"), Some(-1235));
    }

    #[test]
    fn text_that_is_not_a_number_is_rejected() {
        for bad in [
            &b""[..],
            b"   ",
            b"-",
            b".",
            b"1.2.3",
            b"1,5",
            b"OL",
            b"1 5",
            b"0x10",
        ] {
            assert_eq!(
                kg_to_grams(bad),
                None,
                "{:?}",
                bad.escape_ascii().to_string()
            );
        }
    }

    #[test]
    fn absurdly_long_numbers_are_rejected_instead_of_overflowing() {
        assert_eq!(kg_to_grams(b"99999999999999999999"), None);
    }

    #[test]
    fn a_grams_field_reads_whole_grams_or_tolerates_kilograms() {
        assert_eq!(field_grams(b"01500"), Some(1500));
        assert_eq!(field_grams(b"1.500"), Some(1500));
        assert_eq!(field_grams(b"00316"), Some(316));
        assert_eq!(field_grams(b"  -00012"), Some(-12));
    }
}

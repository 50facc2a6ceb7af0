//! Redaction before anything reaches the command log: secret-looking fields become `"***"`,
//! card numbers keep only their last four digits, magnetic-stripe track data disappears, and very
//! long strings (a base64 PDF, a whole HTML ticket) are cut so one print job cannot fill the log.
//!
//! It works on parsed JSON, so it sees every field however deeply nested: card numbers are found
//! as strings and as JSON numbers, split by spaces, dashes, HTML tags or entities (`&nbsp;`),
//! inside base64 (a PRINT's DATA), and any digits under a card-ish field name (`CARD`, `PAN`).
//! It does not try to recognise free-text secrets (a password typed into a ticket's text).

use crate::pan::mask_card_numbers;
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

/// Field names whose digits are a card number whatever their length or check digit.
fn is_card_field(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    n.contains("CARD") && !n.contains("CARDHOLDER") && !n.contains("BRAND")
        || n == "PAN"
        || n == "CCNUMBER"
}

/// Redacts `value` in place.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // A field name can carry a card number too (found by fuzzing): renamed, masked.
            if map.keys().any(|k| redact_text(k).is_some()) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (redact_text(&k).unwrap_or(k), v))
                    .collect();
            }
            for (k, v) in map.iter_mut() {
                if is_secret_field(k) && !v.is_null() {
                    *v = Value::String(MASK.into());
                } else if is_card_field(k) {
                    mask_card_field(v);
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(s) => {
            if let Some(clean) = redact_text(s).or_else(|| mask_base64(s)) {
                *s = clean;
            }
        }
        Value::Number(n) => {
            // A card number sent as a JSON number.
            let digits = n.to_string();
            if let Some(masked) = mask_card_numbers(&digits) {
                *value = Value::String(masked);
            }
        }
        _ => {}
    }
}

/// A card-ish field: any value with 8 or more digits keeps only its last four.
fn mask_card_field(v: &mut Value) {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) | Value::Array(_) => return redact(v),
        Value::Null | Value::Bool(_) => return,
    };
    let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 8 {
        let last: String = digits[digits.len() - 4..].iter().collect();
        *v = Value::String(format!("{}{last}", "*".repeat(digits.len() - 4)));
    } else if let Value::String(s) = v {
        if let Some(clean) = redact_text(s) {
            *s = clean;
        }
    }
}

/// A base64 string (a PRINT's DATA) whose decoded text holds a card number: re-encoded with
/// it masked. `None` when it is not base64, decodes to no text, or holds none.
fn mask_base64(s: &str) -> Option<String> {
    use base64::Engine as _;
    if s.len() < 20 || s.len() > MAX_STRING {
        return None;
    }
    let body = s.split_once("base64,").map_or(s, |(_, b)| b);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let masked = mask_card_numbers(&mask_tracks(&text).unwrap_or_else(|| text.to_string()))?;
    Some(base64::engine::general_purpose::STANDARD.encode(masked))
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
        assert_eq!(v["TEXT"], "Card **** **** **** 1111 approved");
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
    fn a_card_number_in_a_field_name_is_masked() {
        let mut v = json!({ "4111111111111111": 1, "OK": 2 });
        redact(&mut v);
        assert!(!v.to_string().contains("4111111111111111"), "{v}");
        assert_eq!(v["OK"], 2);
    }

    #[test]
    fn a_card_number_as_a_json_number_is_masked() {
        let mut v = json!({ "N": 4111111111111111_u64 });
        redact(&mut v);
        assert_eq!(v["N"], "************1111");
    }

    #[test]
    fn digits_under_a_card_field_are_masked_whatever_their_form() {
        let mut v =
            json!({ "CARD": "4111.1111.1111.1111", "card_no": 411111111, "CARD_BRAND": "VISA" });
        redact(&mut v);
        assert_eq!(v["CARD"], "************1111");
        assert_eq!(v["card_no"], "*****1111");
        assert_eq!(v["CARD_BRAND"], "VISA");
    }

    #[test]
    fn a_card_number_split_by_tags_or_entities_is_masked_and_the_markup_kept() {
        let html = "<p>4111 <b>1111</b> 1111&nbsp;1111</p>";
        let out = redact_text(html).unwrap();
        assert_eq!(out, "<p>**** <b>****</b> ****&nbsp;1111</p>");
    }

    #[test]
    fn a_card_number_inside_base64_data_is_masked_and_re_encoded() {
        use base64::Engine as _;
        let data =
            base64::engine::general_purpose::STANDARD.encode("Visa 4111 1111 1111 1111 approved\n");
        let mut v = json!({ "DATA": data });
        redact(&mut v);
        let back = base64::engine::general_purpose::STANDARD
            .decode(v["DATA"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(back).unwrap(),
            "Visa **** **** **** 1111 approved\n"
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

//! Card numbers (PANs) in text: found with the Luhn check as runs of 13–19 digits, even split by
//! spaces, dashes, HTML tags or entities, and masked to their last four digits. Used wherever
//! text that may hold one is kept: the command log, stored print jobs, the payment journal.
//! It does not look inside images or PDFs.

/// Masks runs of 13–19 digits that pass the Luhn check, keeping the last four:
/// `4111 1111 1111 1111` → `**** **** **** 1111` (separators kept, so a ticket keeps its layout). Between digits a run may have a space or dash,
/// an HTML tag (`<b>`) or an entity (`&nbsp;`, `&#160;`): what a ticket's markup puts there.
pub fn mask_card_numbers(s: &str) -> Option<String> {
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
        // A candidate run: digits with separators between them; `positions` are the digits'.
        let mut positions = Vec::new();
        let mut end = i;
        let mut j = i;
        while j < bytes.len() && positions.len() < 19 {
            if bytes[j].is_ascii_digit() {
                positions.push(j);
                j += 1;
                end = j;
            } else if let Some(skip) = separators(&bytes[j..]) {
                if bytes.get(j + skip).is_some_and(u8::is_ascii_digit) {
                    j += skip;
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        let followed_by_digit = end < bytes.len() && bytes[end].is_ascii_digit();
        let digits: Vec<u8> = positions.iter().map(|&p| bytes[p] - b'0').collect();
        if (13..=19).contains(&digits.len()) && !followed_by_digit && luhn(&digits) {
            let hide = &positions[..positions.len() - 4];
            for (k, ch) in s[i..end].char_indices() {
                out.push(if hide.contains(&(i + k)) { '*' } else { ch });
            }
            changed = true;
        } else {
            out.push_str(&s[i..end]);
        }
        i = end;
    }
    changed.then_some(out)
}

/// The length of the separators at the start of `b` (at most 60 bytes of them), or `None`.
fn separators(b: &[u8]) -> Option<usize> {
    let mut n = 0;
    while n < 60 {
        match separator(&b[n..]) {
            Some(len) => n += len,
            None => break,
        }
    }
    (n > 0).then_some(n)
}

/// The length of a separator at the start of `b`: a space or dash, a tag of at most 40 bytes,
/// or an entity of at most 8.
fn separator(b: &[u8]) -> Option<usize> {
    match b.first()? {
        b' ' | b'-' => Some(1),
        b'<' => b.iter().take(40).position(|&c| c == b'>').map(|p| p + 1),
        b'&' => b
            .iter()
            .take(10)
            .position(|&c| c == b';')
            .filter(|&p| {
                p > 1
                    && b[1..p]
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || *c == b'#')
            })
            .map(|p| p + 1),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_number_keeps_only_its_last_four_digits() {
        assert_eq!(
            mask_card_numbers("Card 4111 1111 1111 1111 approved").unwrap(),
            "Card **** **** **** 1111 approved"
        );
    }

    #[test]
    fn a_number_failing_luhn_or_too_short_is_left_alone() {
        assert_eq!(mask_card_numbers("order 4111111111111112"), None);
        assert_eq!(mask_card_numbers("total 12.50 EUR, table 12"), None);
    }
}

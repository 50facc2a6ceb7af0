//! What the CashGuard library hands over, as one fuzz target (tests/fuzz.rs): bytes read the
//! ways the module reads the library's output — an answer buffer (`ffi::text`), `infoCG`'s level
//! text (BALANCE), and a sequence of callbacks folded into what STATUS shows and turned into
//! the POS's events. The library is a vendor's C code: none of it may take the service down, and
//! a callback may only change what it is about. The first rule broken is returned as text.

use super::codec;
use super::driver::{event_json, fold, Seen};
use super::ffi::{text, CgEvent};

/// Runs `bytes` through the three readers.
pub fn run(bytes: &[u8]) -> Result<(), String> {
    // An answer buffer: up to its first NUL, never longer than the buffer.
    let answer = text(bytes);
    if answer.contains('\0') {
        return Err(format!("a NUL in the answer text {answer:?}"));
    }
    // The level text: ascending, and BALANCE's TOTAL is the sum of its lines, exactly.
    let levels = codec::levels(&String::from_utf8_lossy(bytes));
    if !levels.windows(2).all(|w| w[0] <= w[1]) {
        return Err(format!("levels not ascending: {levels:?}"));
    }
    let balance = codec::balance_json(&levels);
    let sum: u128 = levels
        .iter()
        .map(|(d, n)| u128::from(*d) * u128::from(*n))
        .sum();
    if balance["TOTAL"].as_u64().map(u128::from) != Some(sum) {
        return Err(format!(
            "BALANCE TOTAL {} for levels summing to {sum}",
            balance["TOTAL"]
        ));
    }
    // Callbacks, eight bytes each: what they change and what the POS is told.
    let mut seen = Seen::default();
    for chunk in bytes.chunks(8) {
        let event = event_from(chunk, &answer);
        let before = seen.clone();
        let changed = fold(&mut seen, &event);
        match &event {
            CgEvent::Status {
                total_inserted,
                status,
                mode,
            } => {
                if (seen.inserted, seen.status, seen.mode) != (*total_inserted, *status, *mode) {
                    return Err(format!("{event:?} folded into {seen:?}"));
                }
                if *status != 2 && seen.error.is_some() {
                    return Err(format!("an error kept after {event:?}"));
                }
            }
            CgEvent::Error { .. } => {
                if seen.status != 2 || seen.error.is_none() {
                    return Err(format!("{event:?} folded into {seen:?}"));
                }
            }
            CgEvent::LevelWarning { .. } | CgEvent::CashSession { .. } => {
                if changed || seen != before {
                    return Err(format!("{event:?} changed STATUS to {seen:?}"));
                }
            }
        }
        if let Some(v) = event_json("DEFAULT", &event) {
            let text = serde_json::to_string(&v).map_err(|e| e.to_string())?;
            serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// One callback from eight bytes (the first picks which), its texts cut from `words`.
fn event_from(chunk: &[u8], words: &str) -> CgEvent {
    let mut b = [0u8; 8];
    b[..chunk.len()].copy_from_slice(chunk);
    let int = |i: usize| i32::from_le_bytes([b[i], b[(i + 1) % 8], b[(i + 2) % 8], b[(i + 3) % 8]]);
    let small = |i: usize| i32::from(b[i] % 6) - 1;
    let cut: String = words.chars().take(usize::from(b[7])).collect();
    match b[0] % 4 {
        0 => CgEvent::Status {
            total_inserted: int(1),
            status: small(5),
            mode: small(6),
        },
        1 => CgEvent::Error {
            code: int(1),
            text: cut,
            ext: words.chars().rev().take(usize::from(b[6])).collect(),
        },
        2 => CgEvent::LevelWarning {
            kind: small(1),
            denomination: int(2),
            count: int(4),
            kind_text: cut.clone(),
            message: cut,
        },
        _ => CgEvent::CashSession {
            info: small(1),
            amount: int(2),
            ext: cut,
        },
    }
}

//! Fixed-width layout for RECEIPT columns: widths shared out over a line of font-A characters,
//! cells word-wrapped inside their column and padded to their alignment.

use super::Column;
use crate::modules::print::program::Align;

/// Lays columns out on a `line` characters wide row, wrapping each cell inside its column.
pub(crate) fn columns(columns: &[Column], line: u32) -> Result<String, String> {
    let fixed: u32 = columns.iter().filter_map(|c| c.width).sum();
    let gaps = columns.len() as u32 - 1;
    let flexible = columns.iter().filter(|c| c.width.is_none()).count() as u32;
    if fixed + gaps > line || (flexible > 0 && fixed + gaps + flexible > line) {
        return Err(format!("the columns need more than {line} characters"));
    }
    let spare = line - fixed - gaps;
    let mut widths: Vec<u32> = Vec::with_capacity(columns.len());
    let mut given = 0;
    let mut nth_flex = 0;
    for c in columns {
        let w = match c.width {
            Some(w) => w.max(1),
            None => {
                nth_flex += 1;
                let share = if nth_flex == flexible {
                    spare - given
                } else {
                    spare / flexible.max(1)
                };
                given += share;
                share.max(1)
            }
        };
        widths.push(w);
    }
    let cells: Vec<Vec<String>> = columns
        .iter()
        .zip(&widths)
        .map(|(c, &w)| wrap(&c.text, w as usize))
        .collect();
    let rows = cells.iter().map(Vec::len).max().unwrap_or(1);
    let mut out = String::new();
    for r in 0..rows {
        let mut line_text = String::new();
        for (i, (cell, c)) in cells.iter().zip(columns).enumerate() {
            if i > 0 {
                line_text.push(' ');
            }
            let text = cell.get(r).map(String::as_str).unwrap_or("");
            line_text.push_str(&pad(text, widths[i] as usize, c.align));
        }
        out.push_str(line_text.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// Word-wraps to `width` characters, breaking words longer than a line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut current = String::new();
        for word in para.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > width {
                if !current.is_empty() {
                    lines.push(std::mem::take(&mut current));
                }
                lines.push(word.drain(..width).collect());
            }
            let word: String = word.into_iter().collect();
            let needed =
                current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
            if needed > width && !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&word);
        }
        lines.push(current);
    }
    lines
}

fn pad(text: &str, width: usize, align: Align) -> String {
    let len = text.chars().count();
    let room = width.saturating_sub(len);
    let (left, right) = match align {
        Align::Left => (0, room),
        Align::Right => (room, 0),
        Align::Center => (room / 2, room - room / 2),
    };
    format!("{}{}{}", " ".repeat(left), text, " ".repeat(right))
}

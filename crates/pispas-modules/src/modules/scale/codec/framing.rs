//! Finds frame boundaries in a scale's byte stream: `START … END` frames and text lines.
//!
//! Only boundaries: what is inside a frame is the protocol file's business. Every answer either
//! waits for more bytes or names a span of at least one byte, so decoders built on it always
//! make progress. No allocation, no state.

pub(crate) const STX: u8 = 0x02;
pub(crate) const ETX: u8 = 0x03;
pub(crate) const EOT: u8 = 0x04;
pub(crate) const ENQ: u8 = 0x05;
pub(crate) const ACK: u8 = 0x06;
pub(crate) const CR: u8 = 0x0D;
pub(crate) const LF: u8 = 0x0A;
pub(crate) const NAK: u8 = 0x15;
pub(crate) const ESC: u8 = 0x1B;

/// Where the next frame is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Span {
    /// Not enough bytes to tell.
    Incomplete,
    /// The first `n` bytes (n ≥ 1) belong to no frame.
    Garbage(usize),
    /// A frame occupies `buf[..=end]`.
    Frame { end: usize },
}

/// A frame that opens with `start` at `buf[0]` and closes with the first `end`. Bytes before
/// a `start` are garbage; so is a frame cut short by a new `start`, or one that grows to
/// `max_len` bytes without its `end` (the opening byte is dropped and the search restarts).
pub(crate) fn delimited(buf: &[u8], start: u8, end: u8, max_len: usize) -> Span {
    let Some(&first) = buf.first() else {
        return Span::Incomplete;
    };
    if first != start {
        let next = buf.iter().position(|&b| b == start).unwrap_or(buf.len());
        return Span::Garbage(next);
    }
    for (i, &b) in buf.iter().enumerate().take(max_len).skip(1) {
        if b == end {
            return Span::Frame { end: i };
        }
        if b == start {
            return Span::Garbage(i);
        }
    }
    if buf.len() >= max_len {
        Span::Garbage(1)
    } else {
        Span::Incomplete
    }
}

/// A text line ending in CR, LF or CR LF.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    Incomplete,
    /// No terminator within `max_len` bytes: drop this many bytes.
    TooLong(usize),
    /// The line is `buf[..text_end]`; the terminator included, it takes `consumed` bytes.
    Found {
        text_end: usize,
        consumed: usize,
    },
}

/// The first line in `buf`. A CR that ends the buffer is taken as a whole terminator: a device
/// that sends CR LF has its LF dropped as an empty line by the next call.
pub(crate) fn line(buf: &[u8], max_len: usize) -> Line {
    match buf.iter().position(|&b| b == CR || b == LF) {
        Some(text_end) => {
            let crlf = buf[text_end] == CR && buf.get(text_end + 1) == Some(&LF);
            Line::Found {
                text_end,
                consumed: text_end + if crlf { 2 } else { 1 },
            }
        }
        None if buf.len() >= max_len => Line::TooLong(buf.len() - max_len + 1),
        None => Line::Incomplete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delimited_frame_ends_at_the_first_end_byte() {
        assert_eq!(
            delimited(b"\x02ab\rcd\r", STX, CR, 16),
            Span::Frame { end: 3 }
        );
    }

    #[test]
    fn bytes_before_the_start_byte_are_garbage_in_one_piece() {
        assert_eq!(delimited(b"xyz\x02a\r", STX, CR, 16), Span::Garbage(3));
        assert_eq!(delimited(b"xyz", STX, CR, 16), Span::Garbage(3));
    }

    #[test]
    fn a_frame_cut_short_by_a_new_start_is_garbage_up_to_that_start() {
        assert_eq!(delimited(b"\x02ab\x02c\r", STX, CR, 16), Span::Garbage(3));
    }

    #[test]
    fn an_unterminated_frame_waits_until_it_reaches_the_maximum_length() {
        assert_eq!(delimited(b"\x02abc", STX, CR, 5), Span::Incomplete);
        assert_eq!(delimited(b"\x02abcd", STX, CR, 5), Span::Garbage(1));
        assert_eq!(delimited(b"", STX, CR, 5), Span::Incomplete);
    }

    #[test]
    fn a_line_takes_cr_lf_together_and_a_lone_cr_or_lf_alone() {
        let found = |text_end, consumed| Line::Found { text_end, consumed };
        assert_eq!(line(b"ab\r\ncd", 32), found(2, 4));
        assert_eq!(line(b"ab\rcd", 32), found(2, 3));
        assert_eq!(line(b"ab\ncd", 32), found(2, 3));
        assert_eq!(line(b"ab\r", 32), found(2, 3));
    }

    #[test]
    fn a_line_without_terminator_waits_then_is_dropped_when_too_long() {
        assert_eq!(line(b"abc", 4), Line::Incomplete);
        assert_eq!(line(b"abcdef", 4), Line::TooLong(3));
    }
}

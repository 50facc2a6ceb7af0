//! IPP framing (device-protocols.md §2), pure: a frame is a 2-byte big-endian length that
//! counts itself, then the body. `decode` takes what has arrived and says Incomplete, a frame
//! and how many bytes it used, or a length no frame can have (< 2). No I/O, no allocation on
//! decode; the body's lines are message.rs's business.

/// Bytes of the length header.
pub const HEADER: usize = 2;
/// The largest body a 2-byte length allows.
pub const MAX_BODY: usize = u16::MAX as usize - HEADER;

/// What `decode` found at the start of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// Not a whole frame yet; at least `needed` more bytes are required.
    Incomplete { needed: usize },
    /// A whole frame: its body and the bytes it took (header included).
    Frame { body: &'a [u8], consumed: usize },
}

/// A length header no frame can have. The stream cannot be resynchronised after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame length {0} is shorter than its own 2-byte header")]
    BadLength(u16),
}

/// A body too long for a 2-byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {0}-byte body does not fit a 2-byte IPP length")]
pub struct TooLong(pub usize);

/// Looks for one frame at the start of `buf`. Never panics, whatever the bytes.
pub fn decode(buf: &[u8]) -> Result<Decoded<'_>, FrameError> {
    let [hi, lo, ..] = *buf else {
        return Ok(Decoded::Incomplete {
            needed: HEADER - buf.len(),
        });
    };
    let length = u16::from_be_bytes([hi, lo]);
    let total = usize::from(length);
    if total < HEADER {
        return Err(FrameError::BadLength(length));
    }
    match buf.get(HEADER..total) {
        Some(body) => Ok(Decoded::Frame {
            body,
            consumed: total,
        }),
        None => Ok(Decoded::Incomplete {
            needed: total - buf.len(),
        }),
    }
}

/// The frame for `body`. Fails when the body is longer than `MAX_BODY`.
pub fn encode(body: &[u8]) -> Result<Vec<u8>, TooLong> {
    let total = u16::try_from(body.len() + HEADER).map_err(|_| TooLong(body.len()))?;
    let mut frame = Vec::with_capacity(body.len() + HEADER);
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(body);
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_buffer_needs_the_header() {
        assert_eq!(decode(&[]), Ok(Decoded::Incomplete { needed: 2 }));
    }

    #[test]
    fn one_byte_needs_one_more() {
        assert_eq!(decode(&[0x00]), Ok(Decoded::Incomplete { needed: 1 }));
    }

    #[test]
    fn a_partial_frame_says_how_much_is_missing() {
        let frame = encode(b"PROTOCOL=IPP\r\n").expect("short");
        assert_eq!(
            decode(&frame[..5]),
            Ok(Decoded::Incomplete {
                needed: frame.len() - 5
            })
        );
    }

    #[test]
    fn two_frames_in_one_read_decode_one_after_the_other() {
        let mut buf = encode(b"A=1\r\n").expect("short");
        buf.extend(encode(b"B=2\r\n").expect("short"));
        let Ok(Decoded::Frame { body, consumed }) = decode(&buf) else {
            panic!("first frame")
        };
        assert_eq!(body, b"A=1\r\n");
        let Ok(Decoded::Frame {
            body,
            consumed: rest,
        }) = decode(&buf[consumed..])
        else {
            panic!("second frame")
        };
        assert_eq!(body, b"B=2\r\n");
        assert_eq!(consumed + rest, buf.len());
    }

    #[test]
    fn a_length_shorter_than_the_header_is_a_bad_length() {
        assert_eq!(decode(&[0x00, 0x00]), Err(FrameError::BadLength(0)));
        assert_eq!(decode(&[0x00, 0x01, 0x41]), Err(FrameError::BadLength(1)));
    }

    #[test]
    fn the_length_counts_itself_as_in_the_documents_example() {
        // "a 101-byte body gets header 00 67 (103)"
        let frame = encode(&[b'x'; 101]).expect("short");
        assert_eq!(&frame[..2], &[0x00, 0x67]);
    }

    #[test]
    fn an_empty_body_is_a_two_byte_frame() {
        assert_eq!(
            decode(&[0x00, 0x02]),
            Ok(Decoded::Frame {
                body: &[],
                consumed: 2
            })
        );
    }

    #[test]
    fn a_body_too_long_for_two_bytes_is_refused() {
        assert!(encode(&vec![0u8; MAX_BODY]).is_ok());
        assert_eq!(encode(&vec![0u8; MAX_BODY + 1]), Err(TooLong(MAX_BODY + 1)));
    }
}

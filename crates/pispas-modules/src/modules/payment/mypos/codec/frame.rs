//! IPP framing (device-protocols.md §2), pure: a 2-byte big-endian length that counts itself,
//! then the body. `decode` says Incomplete, a frame and the bytes it used, or a length no frame
//! can have (< 2: the stream cannot be resynchronised). Every call consumes or says Incomplete.

pub const HEADER: usize = 2;
/// The largest body a 2-byte length allows.
pub const MAX_BODY: usize = u16::MAX as usize - HEADER;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// At least `needed` more bytes are required.
    Incomplete {
        needed: usize,
    },
    Frame {
        body: &'a [u8],
        consumed: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame length {0} is shorter than its own 2-byte header")]
    BadLength(u16),
    #[error("a {0}-byte body does not fit a 2-byte IPP length")]
    TooLong(usize),
}

/// Looks for one frame at the start of `buf`. Never panics.
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

/// The frame for `body`.
pub fn encode(body: &[u8]) -> Result<Vec<u8>, FrameError> {
    let total = u16::try_from(body.len() + HEADER).map_err(|_| FrameError::TooLong(body.len()))?;
    let mut frame = Vec::with_capacity(body.len() + HEADER);
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(body);
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_counts_itself_as_in_the_documents_example() {
        let frame = encode(&[b'x'; 101]).unwrap();
        assert_eq!(&frame[..2], &[0x00, 0x67]);
        assert_eq!(
            decode(&frame),
            Ok(Decoded::Frame {
                body: &[b'x'; 101],
                consumed: 103
            })
        );
    }

    #[test]
    fn partial_frames_say_what_is_missing_and_short_lengths_are_errors() {
        assert_eq!(decode(&[]), Ok(Decoded::Incomplete { needed: 2 }));
        assert_eq!(decode(&[0, 5, 1]), Ok(Decoded::Incomplete { needed: 2 }));
        assert_eq!(decode(&[0, 1]), Err(FrameError::BadLength(1)));
        assert!(encode(&vec![0; MAX_BODY + 1]).is_err());
    }
}

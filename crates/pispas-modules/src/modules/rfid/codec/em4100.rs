//! EM4100 125 kHz tag frames from serial reader modules, both ASCII layouts (9600 8N1):
//!
//! - RDM6300/RDM630, 14 bytes: `STX | 10 hex (2 version + 8 id) | 2 hex checksum | ETX`
//! - ID-12/ID-20 (ASCII mode), 16 bytes: `STX | 10 hex | 2 hex checksum | CR LF | ETX`
//!
//! The checksum is the XOR of the five data bytes. Sources: research notes §5 (`[CODE]` Tasmota
//! `xsns_51_rdm6300.ino`, CytronTechnologies `rfid_data.ino`). Hex digits may be either case;
//! the UID is reported upper case. Repeats of the same tag are not filtered here (`Dedup` is).

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const CR: u8 = 0x0D;
const LF: u8 = 0x0A;
/// Ten data digits plus two checksum digits.
const HEX_DIGITS: usize = 12;

/// What one call to [`decode`] found at the start of the buffer. Every variant but
/// `Incomplete` carries `consumed ≥ 1`, the bytes to drop before calling again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RfidDecode {
    Incomplete,
    Tag {
        consumed: usize,
        tag: Tag,
    },
    /// A well-formed frame whose checksum does not match: a misread, not a tag.
    BadChecksum {
        consumed: usize,
    },
    /// Noise or a broken frame.
    Skip {
        consumed: usize,
    },
}

/// An EM4100 tag as the reader reported it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    /// The 10 data digits, upper case (`"0A00B1C2D3"`).
    pub uid: String,
    /// The first data byte (version or customer code).
    pub version: u8,
    /// The last four data bytes, big-endian: the number often printed on the tag.
    pub id: u32,
}

/// Cuts the next frame off the front of `buf`.
pub fn decode(buf: &[u8]) -> RfidDecode {
    let Some(&first) = buf.first() else {
        return RfidDecode::Incomplete;
    };
    if first != STX {
        let next = buf.iter().position(|&b| b == STX).unwrap_or(buf.len());
        return RfidDecode::Skip { consumed: next };
    }
    for i in 1..=HEX_DIGITS {
        match buf.get(i) {
            None => return RfidDecode::Incomplete,
            Some(b) if b.is_ascii_hexdigit() => {}
            // The frame broke off here; whatever starts at `i` (maybe a new STX) is tried next.
            Some(_) => return RfidDecode::Skip { consumed: i },
        }
    }
    let after = HEX_DIGITS + 1;
    let consumed = match &buf[after..] {
        [] | [CR] | [CR, LF] => return RfidDecode::Incomplete,
        [ETX, ..] => after + 1,
        [CR, LF, ETX, ..] => after + 3,
        _ => return RfidDecode::Skip { consumed: after },
    };
    let digits = &buf[1..after];
    let mut bytes = [0u8; 6];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
    }
    let [version, a, b, c, d, checksum] = bytes;
    if version ^ a ^ b ^ c ^ d != checksum {
        return RfidDecode::BadChecksum { consumed };
    }
    let uid = digits[..10].to_ascii_uppercase();
    RfidDecode::Tag {
        consumed,
        tag: Tag {
            uid: String::from_utf8_lossy(&uid).into_owned(),
            version,
            id: u32::from_be_bytes([a, b, c, d]),
        },
    }
}

/// Value of one ASCII hex digit; callers have already checked `is_ascii_hexdigit`.
fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Version 0x0A, id 0x00B1C2D3 (11 649 747), checksum 0A^00^B1^C2^D3 = 0xAA.
    const RDM6300: &[u8] = b"\x020A00B1C2D3AA\x03";
    const ID12: &[u8] = b"\x020A00B1C2D3AA\r\n\x03";

    fn tag(consumed: usize) -> RfidDecode {
        RfidDecode::Tag {
            consumed,
            tag: Tag {
                uid: "0A00B1C2D3".into(),
                version: 0x0A,
                id: 0x00B1_C2D3,
            },
        }
    }

    #[test]
    fn an_empty_buffer_is_incomplete() {
        assert_eq!(decode(b""), RfidDecode::Incomplete);
    }

    #[test]
    fn a_lone_stx_is_incomplete() {
        assert_eq!(decode(b"\x02"), RfidDecode::Incomplete);
    }

    #[test]
    fn a_partial_frame_is_incomplete() {
        assert_eq!(decode(&RDM6300[..9]), RfidDecode::Incomplete);
        assert_eq!(decode(&ID12[..14]), RfidDecode::Incomplete);
        assert_eq!(decode(&ID12[..15]), RfidDecode::Incomplete);
    }

    #[test]
    fn an_rdm6300_frame_decodes_to_uid_version_and_id() {
        assert_eq!(decode(RDM6300), tag(14));
    }

    #[test]
    fn an_id12_frame_with_cr_lf_decodes_to_the_same_tag() {
        assert_eq!(decode(ID12), tag(16));
    }

    #[test]
    fn lower_case_digits_are_reported_upper_case() {
        assert_eq!(decode(b"\x020a00b1c2d3aa\x03"), tag(14));
    }

    #[test]
    fn a_bad_checksum_frame_is_reported_and_the_next_one_decodes() {
        let buf = [&b"\x020A00B1C2D3AB\x03"[..], RDM6300].concat();
        assert_eq!(decode(&buf), RfidDecode::BadChecksum { consumed: 14 });
        assert_eq!(decode(&buf[14..]), tag(14));
    }

    #[test]
    fn two_frames_in_one_read_decode_one_after_the_other() {
        let buf = [ID12, ID12].concat();
        assert_eq!(decode(&buf), tag(16));
        assert_eq!(decode(&buf[16..]), tag(16));
    }

    #[test]
    fn garbage_before_a_frame_is_skipped_and_the_frame_then_decodes() {
        let buf = [&b"\xff\x00\x03"[..], RDM6300].concat();
        assert_eq!(decode(&buf), RfidDecode::Skip { consumed: 3 });
        assert_eq!(decode(&buf[3..]), tag(14));
    }

    #[test]
    fn a_frame_cut_short_by_a_new_stx_resynchronises_on_it() {
        let buf = [&b"\x020A00B1"[..], RDM6300].concat();
        assert_eq!(decode(&buf), RfidDecode::Skip { consumed: 7 });
        assert_eq!(decode(&buf[7..]), tag(14));
    }

    #[test]
    fn a_wrong_byte_after_the_digits_is_skipped() {
        assert_eq!(
            decode(b"\x020A00B1C2D3AAX"),
            RfidDecode::Skip { consumed: 13 }
        );
        assert_eq!(
            decode(b"\x020A00B1C2D3AA\rX"),
            RfidDecode::Skip { consumed: 13 }
        );
    }

    #[test]
    fn the_all_zero_tag_has_a_zero_checksum() {
        let RfidDecode::Tag { tag, .. } = decode(b"\x02000000000000\x03") else {
            panic!("expected a tag");
        };
        assert_eq!(
            (tag.uid.as_str(), tag.version, tag.id),
            ("0000000000", 0, 0)
        );
    }
}

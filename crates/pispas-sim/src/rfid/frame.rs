//! EM4100 serial reader frames (device-protocols.md §5), ASCII, uppercase hex:
//! - RDM6300 style, 14 bytes: `STX | 10 hex (2 version + 8 id) | 2 hex checksum | ETX`;
//! - ID-12/ID-20 style, 16 bytes: `STX | 10 hex | 2 hex checksum | CR LF | ETX`.
//!
//! The checksum is the XOR of the 5 data bytes. Pure; no timing (see `rfid`).

/// Which frame a reader sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RfidProtocol {
    /// `em4100-14`: RDM6300/RDM630.
    Em4100Short,
    /// `em4100-16`: ID-12/ID-20 (ID Innovations) ASCII mode.
    Em4100Long,
}

impl RfidProtocol {
    /// Parses `em4100-14` / `em4100-16` (also `rdm6300`, `id12`, `id20`).
    pub fn from_name(name: &str) -> Option<RfidProtocol> {
        match name {
            "em4100-14" | "rdm6300" => Some(RfidProtocol::Em4100Short),
            "em4100-16" | "id12" | "id20" => Some(RfidProtocol::Em4100Long),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            RfidProtocol::Em4100Short => "em4100-14",
            RfidProtocol::Em4100Long => "em4100-16",
        }
    }
}

/// A tag id: 10 hex characters (2 version/customer + 8 id) = 5 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagId(pub [u8; 5]);

impl TagId {
    /// Parses 10 hex characters. Fails (None) on any other length or a non-hex character.
    pub fn parse(hex: &str) -> Option<TagId> {
        let hex = hex.trim();
        if hex.len() != 10 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 5];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(TagId(bytes))
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02X}")).collect()
    }

    pub fn checksum(&self) -> u8 {
        self.0.iter().fold(0, |acc, b| acc ^ b)
    }
}

/// The frame a reader sends for `tag`; with `bad_checksum` the checksum is off by one bit.
pub fn frame(protocol: RfidProtocol, tag: TagId, bad_checksum: bool) -> Vec<u8> {
    let checksum = tag.checksum() ^ u8::from(bad_checksum);
    let mut out = vec![0x02];
    out.extend_from_slice(tag.hex().as_bytes());
    out.extend_from_slice(format!("{checksum:02X}").as_bytes());
    if protocol == RfidProtocol::Em4100Long {
        out.extend_from_slice(b"\r\n");
    }
    out.push(0x03);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_frame_is_14_bytes_with_the_xor_checksum() {
        // 62^E3^08^6C^ED = 08: the classic RDM6300 example card.
        let tag = TagId::parse("62E3086CED").expect("hex");
        assert_eq!(tag.checksum(), 0x08);
        let f = frame(RfidProtocol::Em4100Short, tag, false);
        assert_eq!(f.len(), 14);
        assert_eq!(f, b"\x0262E3086CED08\x03");
    }

    #[test]
    fn a_long_frame_is_16_bytes_ending_cr_lf_etx() {
        let tag = TagId::parse("62e3086ced").expect("lower-case hex");
        let f = frame(RfidProtocol::Em4100Long, tag, false);
        assert_eq!(f.len(), 16);
        assert_eq!(f, b"\x0262E3086CED08\r\n\x03");
    }

    #[test]
    fn a_bad_checksum_frame_differs_only_in_the_checksum() {
        let tag = TagId::parse("62E3086CED").expect("hex");
        assert_eq!(
            frame(RfidProtocol::Em4100Short, tag, true),
            b"\x0262E3086CED09\x03"
        );
    }

    #[test]
    fn ids_must_be_ten_hex_characters() {
        assert!(TagId::parse("0A1B2C3D4").is_none());
        assert!(TagId::parse("0A1B2C3D4G").is_none());
    }
}

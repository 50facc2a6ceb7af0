//! The pure half of reading a card UID through PC/SC (ACR122U and similar readers).
//!
//! `GET_UID_APDU` is the PC/SC part 3 "Get Data" command; its response is `UID… 90 00` on
//! success and `63 00` when the reader could not get the UID. Source: research notes §5 (`[CODE]`
//! `cznlde/anycubic-nfc-filament` `nfc_read_uid_pcsc.py`, PC/SC part 3 §3.2.2.1.3). No PC/SC
//! context, card presence tracking or transmission here: the driver owns those.

use thiserror::Error;

/// `FF CA 00 00 00`: Get Data, UID, full length.
pub const GET_UID_APDU: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];

/// Why a Get UID response holds no UID. What the card or reader answered, not a transport
/// failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    #[error("response of {len} byte(s) is too short to hold a status word")]
    TooShort { len: usize },
    #[error("the reader could not read the card UID (status 63 00)")]
    Failed,
    #[error("the reader reported success but returned no UID bytes")]
    EmptyUid,
    #[error("the reader answered status {sw1:02X} {sw2:02X}")]
    Status { sw1: u8, sw2: u8 },
}

/// Parses a Get UID response into the UID as upper-case hex (`"04A1B2C3D4E5F6"`).
///
/// Fails with `TooShort` below two bytes, `Failed` on `63 00`, `EmptyUid` on a bare `90 00`,
/// and `Status` for any other status word (for example `6A 81`, function not supported).
pub fn parse_uid_response(response: &[u8]) -> Result<String, ApduError> {
    let [uid @ .., sw1, sw2] = response else {
        return Err(ApduError::TooShort {
            len: response.len(),
        });
    };
    match (*sw1, *sw2) {
        (0x90, 0x00) if uid.is_empty() => Err(ApduError::EmptyUid),
        (0x90, 0x00) => Ok(uid.iter().map(|b| format!("{b:02X}")).collect()),
        (0x63, 0x00) => Err(ApduError::Failed),
        (sw1, sw2) => Err(ApduError::Status { sw1, sw2 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_get_uid_command_is_ff_ca_00_00_00() {
        assert_eq!(GET_UID_APDU, [0xFF, 0xCA, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn a_seven_byte_uid_with_90_00_is_returned_as_upper_case_hex() {
        let response = [0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x90, 0x00];
        assert_eq!(
            parse_uid_response(&response),
            Ok("04A1B2C3D4E5F6".to_string())
        );
    }

    #[test]
    fn a_four_byte_uid_keeps_its_leading_zeros() {
        let response = [0x00, 0x0B, 0x10, 0xFF, 0x90, 0x00];
        assert_eq!(parse_uid_response(&response), Ok("000B10FF".to_string()));
    }

    #[test]
    fn status_63_00_means_the_uid_could_not_be_read() {
        assert_eq!(parse_uid_response(&[0x63, 0x00]), Err(ApduError::Failed));
    }

    #[test]
    fn other_status_words_are_reported_as_they_came() {
        assert_eq!(
            parse_uid_response(&[0x6A, 0x81]),
            Err(ApduError::Status {
                sw1: 0x6A,
                sw2: 0x81
            })
        );
    }

    #[test]
    fn success_without_uid_bytes_is_an_error() {
        assert_eq!(parse_uid_response(&[0x90, 0x00]), Err(ApduError::EmptyUid));
    }

    #[test]
    fn responses_shorter_than_a_status_word_are_rejected() {
        assert_eq!(parse_uid_response(&[]), Err(ApduError::TooShort { len: 0 }));
        assert_eq!(
            parse_uid_response(&[0x90]),
            Err(ApduError::TooShort { len: 1 })
        );
    }

    #[test]
    fn errors_read_as_plain_messages() {
        let message = ApduError::Status {
            sw1: 0x6A,
            sw2: 0x81,
        }
        .to_string();
        assert_eq!(message, "the reader answered status 6A 81");
    }
}

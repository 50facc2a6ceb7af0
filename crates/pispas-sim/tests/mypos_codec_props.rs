//! Properties of the IPP codec and message parser: random bytes, truncations and huge length
//! headers never panic; whole frames round-trip; a stream cut anywhere decodes to the same
//! frames.

use pispas_sim::mypos::codec::{decode, encode, Decoded, MAX_BODY};
use pispas_sim::mypos::Message;
use proptest::prelude::*;

/// Decodes every whole frame in `buf`, as a reader would; returns the bodies and what is left.
fn drain(buf: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let mut bodies = Vec::new();
    let mut at = 0;
    while let Ok(Decoded::Frame { body, consumed }) = decode(&buf[at..]) {
        bodies.push(body.to_vec());
        at += consumed;
    }
    (bodies, buf.len() - at)
}

fn field() -> impl Strategy<Value = (String, String)> {
    ("[A-Z][A-Z0-9_]{0,15}", "[ -~]{0,40}")
}

proptest! {
    #[test]
    fn random_bytes_never_panic_and_a_frame_never_claims_more_than_it_has(
        bytes in proptest::collection::vec(any::<u8>(), 0..600)
    ) {
        match decode(&bytes) {
            Ok(Decoded::Frame { body, consumed }) => {
                prop_assert!(consumed >= 2 && consumed <= bytes.len());
                prop_assert_eq!(body.len(), consumed - 2);
            }
            Ok(Decoded::Incomplete { needed }) => prop_assert!(needed > 0),
            Err(_) => prop_assert!(bytes.len() >= 2 && u16::from_be_bytes([bytes[0], bytes[1]]) < 2),
        }
        let _ = Message::parse(&bytes);
        let _ = Message::salvage(&bytes);
    }

    #[test]
    fn a_huge_length_with_few_bytes_is_just_incomplete(
        length in 3u16..=u16::MAX,
        tail in proptest::collection::vec(any::<u8>(), 0..64)
    ) {
        let mut bytes = length.to_be_bytes().to_vec();
        bytes.extend(&tail);
        prop_assume!(bytes.len() < usize::from(length));
        prop_assert_eq!(
            decode(&bytes),
            Ok(Decoded::Incomplete { needed: usize::from(length) - bytes.len() })
        );
    }

    #[test]
    fn every_truncation_of_a_frame_is_incomplete(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        cut in any::<proptest::sample::Index>()
    ) {
        let frame = encode(&body).expect("short body");
        let at = cut.index(frame.len());
        let incomplete = matches!(decode(&frame[..at]), Ok(Decoded::Incomplete { .. }));
        prop_assert!(incomplete, "a {}-byte prefix of a {}-byte frame", at, frame.len());
        prop_assert_eq!(decode(&frame), Ok(Decoded::Frame { body: &body, consumed: frame.len() }));
    }

    #[test]
    fn frames_cut_anywhere_decode_to_the_same_bodies(
        bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 1..6),
        cut in any::<proptest::sample::Index>()
    ) {
        let mut stream = Vec::new();
        for body in &bodies {
            stream.extend(encode(body).expect("short body"));
        }
        let at = cut.index(stream.len() + 1);
        let (first, left) = drain(&stream[..at]);
        // A reader keeps the unconsumed tail and appends what arrives next.
        let (second, left) = drain(&stream[at - left..]);
        prop_assert_eq!(left, 0);
        let all: Vec<Vec<u8>> = first.into_iter().chain(second).collect();
        prop_assert_eq!(all, bodies);
    }

    #[test]
    fn a_valid_message_round_trips_through_its_frame(
        method in "[A-Z_]{1,16}",
        fields in proptest::collection::vec(field(), 0..12)
    ) {
        let mut message = Message::new(&method);
        for (name, value) in &fields {
            if name != "PROTOCOL" && name != "METHOD" {
                message.set(name, value.clone());
            }
        }
        let frame = message.to_frame().expect("short");
        let Ok(Decoded::Frame { body, consumed }) = decode(&frame) else {
            return Err(TestCaseError::fail("no frame"));
        };
        prop_assert_eq!(consumed, frame.len());
        prop_assert_eq!(Message::parse(body), Ok(message));
    }
}

#[test]
fn the_largest_body_fits_and_one_more_byte_does_not() {
    assert!(encode(&vec![b'A'; MAX_BODY]).is_ok());
    assert!(encode(&vec![b'A'; MAX_BODY + 1]).is_err());
}

//! Property tests of the payment codecs on hostile input: the myPOS IPP framing and message
//! parser, and the Paytef JSON reader, fed random bytes, truncated frames and huge lengths,
//! never panic, and framing always consumes or says Incomplete.

use pispas_modules::modules::payment::mypos::codec::frame::{decode, encode, Decoded};
use pispas_modules::modules::payment::mypos::codec::{self, Message};
use pispas_modules::modules::payment::paytef::codec as paytef;
use proptest::prelude::*;

proptest! {
    #[test]
    fn random_bytes_never_panic_the_ipp_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        match decode(&bytes) {
            Ok(Decoded::Frame { body, consumed }) => {
                prop_assert!(consumed >= 2 && consumed <= bytes.len());
                prop_assert_eq!(body.len(), consumed - 2);
                if let Ok(m) = Message::parse(body) {
                    let _ = codec::step(&m);
                    let _ = codec::verdict(&m, true);
                    let _ = codec::status_record(&m, "S");
                }
            }
            Ok(Decoded::Incomplete { needed }) => prop_assert!(needed > 0),
            Err(_) => prop_assert!(bytes.len() >= 2),
        }
    }

    #[test]
    fn a_truncated_frame_is_incomplete_and_the_whole_one_decodes(body in proptest::collection::vec(any::<u8>(), 0..1024), cut in 0usize..1026) {
        let frame = encode(&body).unwrap();
        let cut = cut.min(frame.len());
        let expected_need = if cut < 2 { 2 - cut } else { frame.len() - cut };
        match decode(&frame[..cut]) {
            Ok(Decoded::Incomplete { needed }) => prop_assert_eq!(needed, expected_need),
            Ok(Decoded::Frame { consumed, .. }) => prop_assert_eq!((consumed, cut), (frame.len(), frame.len())),
            Err(e) => prop_assert!(false, "{e}"),
        }
        let whole = matches!(decode(&frame), Ok(Decoded::Frame { .. }));
        prop_assert!(whole);
    }

    #[test]
    fn huge_lengths_ask_for_more_and_never_allocate_them(hi in any::<u8>(), lo in any::<u8>(), tail in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = vec![hi, lo];
        bytes.extend(tail);
        let total = usize::from(u16::from_be_bytes([hi, lo]));
        match decode(&bytes) {
            Ok(Decoded::Incomplete { needed }) => prop_assert_eq!(needed, total - bytes.len()),
            Ok(Decoded::Frame { consumed, .. }) => prop_assert_eq!(consumed, total),
            Err(_) => prop_assert!(total < 2),
        }
    }

    #[test]
    fn messages_round_trip_through_frames(values in proptest::collection::vec("[A-Za-z0-9 .,*-]{0,20}", 1..8)) {
        let mut m = Message::request("PURCHASE", "S1");
        for (i, v) in values.iter().enumerate() {
            m = m.with(&format!("F{i}"), v.clone());
        }
        let frame = m.to_frame().unwrap();
        let Ok(Decoded::Frame { body, .. }) = decode(&frame) else { panic!("a frame") };
        prop_assert_eq!(Message::parse(body).unwrap(), m);
    }

    #[test]
    fn random_bytes_and_truncated_json_never_panic_the_paytef_reader(bytes in proptest::collection::vec(any::<u8>(), 0..2048), http in 100u16..600) {
        if let paytef::Reply::Ok { body, .. } = paytef::reply(http, &bytes) {
            let _ = paytef::started(&body);
            let _ = paytef::poll(&body);
            let _ = paytef::last_result(&body);
        }
        let good = br#"{"info":{"transactionStatus":"finished"},"result":{"approved":true,"cardInformation":{"hiddenCardNumber":"************0010"}},"version":"1"}"#;
        let cut = bytes.len() % good.len();
        let _ = paytef::reply(http, &good[..cut]);
    }

    #[test]
    fn any_json_shape_is_read_without_panicking(v in json_value()) {
        let text = v.to_string();
        if let paytef::Reply::Ok { body, .. } = paytef::reply(200, text.as_bytes()) {
            let _ = paytef::poll(&body);
            let _ = paytef::result(&body);
            let _ = paytef::token(&body);
        }
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-zA-Z]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let keys = prop_oneof![
            Just("info".to_string()),
            Just("result".to_string()),
            Just("error".to_string()),
            Just("approved".to_string()),
            Just("transactionStatus".to_string()),
            Just("cardInformation".to_string()),
            "[a-z]{1,6}"
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

//! Property tests: random and mutated requests never panic the parser or the router, and every
//! well-formed request gets exactly one reply envelope.

use pispas_modules::protocol::{encode_reply, parse_request};
use pispas_testkit::start_engine;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_request() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        Just(json!("BASE")),
        Just(json!("PRINT")),
        Just(json!("ping")),
        Just(json!("Check")),
        Just(json!("STATUS")),
        Just(json!("config")),
        Just(json!("echo")),
        Just(json!("UNSUBSCRIBE")),
        arb_value(),
    ];
    (
        arb_value(),
        name.clone(),
        name,
        prop::collection::btree_map("[A-Z_]{1,10}", arb_value(), 0..4),
    )
        .prop_map(|(uuid, target, action, extra)| {
            let mut m: Map<String, Value> = extra.into_iter().collect();
            m.remove("DELAY_MS");
            m.insert("UUIDV4".into(), uuid);
            m.insert("TARGET".into(), target);
            m.insert("ACTION".into(), action);
            Value::Object(m)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_through_the_real_router_never_panic_and_always_get_one_reply(
        requests in prop::collection::vec(arb_request(), 1..12)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let server = start_engine("props", &[("MODULES", "base,print")]).await;
            let mut c = pispas_testkit::Client::plain(server.addr()).await.unwrap();
            for req in &requests {
                c.send_text(req.to_string()).await.unwrap();
                let reply = c.next().await.unwrap();
                prop_assert_eq!(&reply["MESSAGE_TYPE"], "RESPONSE");
                let exec = reply["MESSAGE_EXEC"].as_str().unwrap_or_default();
                prop_assert!(exec == "SUCCESS" || exec == "FAILURE");
                if let Value::String(u) = &req["UUIDV4"] {
                    if !u.trim().is_empty() { prop_assert_eq!(&reply["MESSAGE_UUID"], &req["UUIDV4"]); }
                }
            }
            let pong = c.call("BASE", "PING", json!({})).await.unwrap();
            prop_assert_eq!(&pong["MESSAGE_DATA"], "PONG");
            server.engine.shutdown().await;
            Ok(())
        })?;
    }

    #[test]
    fn mutated_bytes_of_a_request_never_panic_the_parser(
        flips in prop::collection::vec((0usize..200, any::<u8>()), 0..8), cut in 0usize..200
    ) {
        let mut bytes = br#"{"UUIDV4":"5b2e1c9a-2d1e-4b7f-9a51-3c0d6f1e2a77","TARGET":"PRINT","ACTION":"PRINT","FORMAT":"TEXT","DATA":"hola"}"#.to_vec();
        for (pos, b) in flips {
            let len = bytes.len();
            bytes[pos % len] = b;
        }
        bytes.truncate(cut.max(1));
        let text = String::from_utf8_lossy(&bytes);
        match parse_request(&text) {
            Ok(r) => { let _ = encode_reply(&r.target, &json!(r.uuid), &Ok(Value::Null)); }
            Err(bad) => { let _ = encode_reply("BASE", &bad.uuid, &Err(bad.failure)); }
        }
    }
}

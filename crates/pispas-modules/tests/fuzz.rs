//! Fuzzing on stable Rust (security review, "Fuzzing"): every parser that reads bytes from a
//! client, a device or a file, fed mutated seeds from `fuzz/corpus/` (frames and documents as the
//! protocol notes give them) and plain random input. Each target checks more than "no panic":
//! codecs must make progress on any input, and redaction must leave no card number behind.
//! The payment codecs (myPOS IPP framing and messages, the Paytef JSON reader, what the CashGuard
//! library hands over: answers, level text, callbacks) are here too, and
//! ORDER_KITCHEN's parser driving its state machine over sequences of requests.
//!
//! Cases per target: `PISPAS_FUZZ_CASES` (1,000 by default, what CI runs; see fuzz/README.md
//! for a long run). A failure is printed minimised by proptest.
// Platform-independent logic, already run natively: not repeated under wine (CI time).
#![cfg(not(windows))]

use pispas_modules::commandlog::redact::{redact, redact_text};
use pispas_modules::config::{read_env_file, ConfigEnv};
use pispas_modules::modules::kitchen::fuzzing as kitchen;
use pispas_modules::modules::payment::cashguard::fuzzing as cashguard;
use pispas_modules::modules::payment::mypos::codec::frame::{decode as ipp_decode, Decoded};
use pispas_modules::modules::payment::mypos::codec::{self as ipp, Message as IppMessage};
use pispas_modules::modules::payment::paytef::codec as paytef;
use pispas_modules::modules::print::escpos::status;
use pispas_modules::modules::print::raster::Dither;
use pispas_modules::modules::print::{receipt, uri as printer_uri};
use pispas_modules::modules::rfid::codec::em4100::{self, RfidDecode};
use pispas_modules::modules::scale::codec::{Decode, ScaleProtocol};
use pispas_modules::pan::mask_card_numbers;
use pispas_modules::protocol::parse_request;
use pispas_modules::transport::uri::DeviceUri;
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn cases() -> u32 {
    std::env::var("PISPAS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The seeds of one corpus folder.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = repo().join("fuzz/corpus").join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out.sort();
    out
}

/// The envelope seeds plus every sample request of the protocol description.
fn envelope_seeds() -> Vec<Vec<u8>> {
    let mut out = seeds("envelope");
    let text = std::fs::read_to_string(repo().join("protocol/pispas.json")).unwrap();
    let description: Value = serde_json::from_str(&text).unwrap();
    for (target, t) in description["targets"].as_object().into_iter().flatten() {
        for (action, a) in t["actions"].as_object().into_iter().flatten() {
            for sample in a["samples"].as_array().into_iter().flatten() {
                let mut req = sample["params"].as_object().cloned().unwrap_or_default();
                req.insert(
                    "UUIDV4".into(),
                    "00000000-0000-4000-8000-000000000001".into(),
                );
                req.insert("TARGET".into(), target.clone().into());
                req.insert("ACTION".into(), action.clone().into());
                out.push(Value::Object(req).to_string().into_bytes());
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Splice(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Insert(p, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), any::<usize>()).prop_map(|(s, p)| Mutation::Splice(s, p)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// A seed with a few mutations, or (one case in eight) plain random bytes.
fn input(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    let mutated = (0..n, prop::collection::vec(mutation(), 0..6)).prop_map(move |(i, ms)| {
        let mut b = seeds[i].clone();
        for m in ms {
            let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
            match m {
                Mutation::Flip(p, x) if !b.is_empty() => {
                    let i = p % b.len();
                    b[i] ^= x;
                }
                Mutation::Insert(p, x) => {
                    let i = at(p, b.len());
                    b.insert(i, x);
                }
                Mutation::Delete(p) if !b.is_empty() => {
                    let i = p % b.len();
                    b.remove(i);
                }
                Mutation::Splice(s, p) => {
                    let other = &seeds[s % n];
                    let i = at(p, b.len());
                    let tail = other[other.len() / 2..].to_vec();
                    b.splice(i..i, tail);
                }
                Mutation::Truncate(p) => b.truncate(at(p, b.len())),
                _ => {}
            }
        }
        b
    });
    prop_oneof![7 => mutated, 1 => prop::collection::vec(any::<u8>(), 0..256)]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a streaming decoder over `buf` the way a driver does: every answer but `Incomplete`
/// must consume between one byte and what is there, so the loop always ends.
fn drain(buf: &[u8], mut step: impl FnMut(&[u8]) -> Option<usize>) {
    let mut rest = buf;
    let mut rounds = 0;
    while let Some(consumed) = step(rest) {
        assert!(
            (1..=rest.len()).contains(&consumed),
            "consumed {consumed} of {} bytes: {rest:?}",
            rest.len()
        );
        rest = &rest[consumed..];
        rounds += 1;
        assert!(rounds <= buf.len(), "no progress");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_envelope_parser_never_panics_and_what_it_accepts_is_a_request(bytes in input(envelope_seeds())) {
        if let Ok(req) = parse_request(&text(&bytes)) {
            prop_assert!(!req.target.is_empty());
            prop_assert!(!req.action.is_empty());
        }
    }

    #[test]
    fn every_scale_decoder_makes_progress_on_any_bytes(bytes in input(seeds("scale"))) {
        for protocol in ScaleProtocol::ALL {
            drain(&bytes, |b| match protocol.decode(b) {
                Decode::Incomplete => None,
                Decode::Frame { consumed, .. } | Decode::Skip { consumed } => Some(consumed),
            });
        }
    }

    #[test]
    fn the_em4100_decoder_makes_progress_on_any_bytes(bytes in input(seeds("rfid"))) {
        drain(&bytes, |b| match em4100::decode(b) {
            RfidDecode::Incomplete => None,
            RfidDecode::Tag { consumed, .. } | RfidDecode::Skip { consumed } | RfidDecode::BadChecksum { consumed } => Some(consumed),
        });
    }

    #[test]
    fn escpos_status_replies_never_panic(bytes in input(seeds("escpos-status")), high in any::<bool>()) {
        let mut four = [0u8; 4];
        for (d, s) in four.iter_mut().zip(bytes.iter()) {
            *d = *s;
        }
        let _ = status::parse(four, high);
    }

    #[test]
    fn the_receipt_builder_refuses_or_builds_but_never_panics(bytes in input(seeds("receipt")), width in prop_oneof![Just(384u32), Just(512), Just(576), 8u32..1024]) {
        if let Ok(doc) = serde_json::from_slice::<Value>(&bytes) {
            let _ = receipt::build(&doc, width, Dither::default());
        }
    }

    #[test]
    fn device_and_printer_uris_never_panic(bytes in input(seeds("uri"))) {
        let s = text(&bytes);
        let _ = DeviceUri::parse(&s);
        let _ = printer_uri::parse(&s);
    }

    #[test]
    fn the_configuration_parser_refuses_with_a_key_or_accepts(bytes in input(seeds("config"))) {
        let dir = pispas_testkit::test_dir("fuzz-config");
        let path = dir.join(".env");
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(values) = read_env_file(&path) {
            let _ = ConfigEnv::from_values(values, &path);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn redaction_never_panics_and_leaves_no_card_number(bytes in input(seeds("redact"))) {
        let s = text(&bytes);
        let once = redact_text(&s).unwrap_or_else(|| s.clone());
        prop_assert!(mask_card_numbers(&once).is_none(), "a card number is left in {once:?}");
        if let Ok(mut v) = serde_json::from_str::<Value>(&s) {
            redact(&mut v);
            let out = v.to_string();
            prop_assert!(mask_card_numbers(&out).is_none(), "a card number is left in {out}");
        }
    }

    #[test]
    fn the_mypos_ipp_framing_makes_progress_and_its_messages_never_panic(bytes in input(seeds("mypos"))) {
        drain(&bytes, |b| match ipp_decode(b) {
            Ok(Decoded::Frame { body, consumed }) => {
                assert_eq!(body.len() + 2, consumed);
                if let Ok(m) = IppMessage::parse(body) {
                    let _ = ipp::step(&m);
                    let _ = ipp::verdict(&m, true);
                    let _ = ipp::status_record(&m, "S");
                }
                Some(consumed)
            }
            Ok(Decoded::Incomplete { .. }) | Err(_) => None,
        });
    }

    #[test]
    fn the_paytef_reader_never_panics_on_any_reply(bytes in input(seeds("paytef")), http in prop_oneof![Just(200u16), Just(401), Just(500), 100u16..600]) {
        if let paytef::Reply::Ok { body, .. } = paytef::reply(http, &bytes) {
            let _ = paytef::started(&body);
            let _ = paytef::poll(&body);
            let _ = paytef::last_result(&body);
        }
    }

    #[test]
    fn what_the_cashguard_library_hands_over_never_panics_and_changes_only_what_it_is_about(bytes in input(seeds("cashguard"))) {
        if let Err(broken) = cashguard::run(&bytes) {
            panic!("{broken}\nbytes: {bytes:?}");
        }
    }

    #[test]
    fn the_kitchen_parser_and_state_machine_keep_their_rules_over_any_requests(frames in prop::collection::vec(input(seeds("kitchen")), 1..24)) {
        let frames: Vec<String> = frames.iter().map(|f| text(f)).collect();
        if let Err(broken) = kitchen::run(&frames) {
            panic!("{broken}\nframes: {frames:#?}");
        }
    }
}

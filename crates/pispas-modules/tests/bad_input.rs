//! Bad input over a real socket: each gets a clear FAILURE (with the UUIDV4 when one can be read),
//! nothing panics, and the connection stays usable afterwards.

use pispas_testkit::client::Client;
use pispas_testkit::start_engine;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

async fn still_usable(c: &mut Client) {
    let r = c.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_DATA"], "PONG", "connection must survive");
}

async fn failure_for(c: &mut Client, text: &str) -> Value {
    c.send_text(text).await.unwrap();
    let r = c.next().await.unwrap();
    assert_eq!(r["MESSAGE_TYPE"], "RESPONSE");
    assert_eq!(r["MESSAGE_EXEC"], "FAILURE", "{text} → {r}");
    r
}

#[tokio::test]
async fn non_json_text_gets_bad_json() {
    let server = start_engine("non-json", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = failure_for(&mut c, "hello, printer").await;
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "BAD_JSON");
    assert_eq!(r["MESSAGE_UUID"], Value::Null);
    still_usable(&mut c).await;
}

#[tokio::test]
async fn truncated_json_keeps_its_uuid_in_the_failure() {
    let server = start_engine("truncated", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = failure_for(
        &mut c,
        r#"{"UUIDV4":"abc-123","TARGET":"PRINT","ACTION":"PRINT","DATA":"#,
    )
    .await;
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "BAD_JSON");
    assert_eq!(r["MESSAGE_UUID"], "abc-123");
    still_usable(&mut c).await;
}

#[tokio::test]
async fn json_that_is_not_an_object_gets_bad_request() {
    let server = start_engine("not-object", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    for text in ["[]", "123", "\"PING\"", "null", "true"] {
        let r = failure_for(&mut c, text).await;
        assert_eq!(r["MESSAGE_DATA"]["CODE"], "BAD_REQUEST", "{text}");
    }
    still_usable(&mut c).await;
}

#[tokio::test]
async fn missing_or_non_string_envelope_fields_are_named() {
    let server = start_engine("fields", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let cases = [
        (
            r#"{"TARGET":"BASE","ACTION":"PING"}"#,
            "UUIDV4 is missing",
            Value::Null,
        ),
        (
            r#"{"UUIDV4":"u1","ACTION":"PING"}"#,
            "TARGET is missing",
            json!("u1"),
        ),
        (
            r#"{"UUIDV4":"u2","TARGET":"BASE"}"#,
            "ACTION is missing",
            json!("u2"),
        ),
        (
            r#"{"UUIDV4":5,"TARGET":"BASE","ACTION":"PING"}"#,
            "UUIDV4 must be a string",
            json!(5),
        ),
        (
            r#"{"UUIDV4":"u3","TARGET":7,"ACTION":"PING"}"#,
            "TARGET must be a string",
            json!("u3"),
        ),
        (
            r#"{"UUIDV4":"u4","TARGET":"BASE","ACTION":{"x":1}}"#,
            "ACTION must be a string",
            json!("u4"),
        ),
        (
            r#"{"UUIDV4":"","TARGET":"BASE","ACTION":"PING"}"#,
            "UUIDV4 is empty",
            json!(""),
        ),
    ];
    for (text, message, uuid) in cases {
        let r = failure_for(&mut c, text).await;
        assert_eq!(r["MESSAGE_DATA"]["CODE"], "BAD_REQUEST", "{text}");
        assert!(
            r["MESSAGE_DATA"]["MESSAGE"]
                .as_str()
                .unwrap()
                .contains(message),
            "{text} → {r}"
        );
        assert_eq!(r["MESSAGE_UUID"], uuid, "{text}");
    }
    still_usable(&mut c).await;
}

#[tokio::test]
async fn an_unknown_target_names_the_enabled_ones() {
    let server = start_engine("unknown-target", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c.call("TELEPORT", "GO", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "FAILURE");
    assert_eq!(r["SERVICE_NAME"], "TELEPORT");
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "UNKNOWN_TARGET");
    assert!(r["MESSAGE_DATA"]["DETAILS"]["TARGETS"]
        .as_array()
        .unwrap()
        .contains(&json!("BASE")));
    still_usable(&mut c).await;
}

#[tokio::test]
async fn an_unknown_action_lists_the_valid_ones() {
    let server = start_engine("unknown-action", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c.call("BASE", "LAUNCH", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "UNKNOWN_ACTION");
    assert!(r["MESSAGE_DATA"]["DETAILS"]["ACTIONS"]
        .as_array()
        .unwrap()
        .contains(&json!("PING")));
    still_usable(&mut c).await;
}

#[tokio::test]
async fn a_wrongly_typed_parameter_gets_bad_params() {
    let server = start_engine("bad-params", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c
        .call("BASE", "ECHO", json!({ "DELAY_MS": "soon" }))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "BAD_PARAMS");
    still_usable(&mut c).await;
}

#[tokio::test]
async fn a_listed_but_unbuilt_module_answers_module_unavailable() {
    // `remote` in MODULES is a placeholder (the gateway is switched on by REMOTE_HOST).
    let server = start_engine("unavailable", &[("MODULES", "base,remote")]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c.call("REMOTE", "STATUS", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "MODULE_UNAVAILABLE", "{r}");
    assert!(r["MESSAGE_DATA"]["MESSAGE"]
        .as_str()
        .unwrap()
        .contains("REMOTE"));
}

#[tokio::test]
async fn a_binary_frame_gets_a_failure_and_the_connection_stays() {
    let server = start_engine("binary", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    c.send_message(Message::binary(vec![1u8, 2, 3]))
        .await
        .unwrap();
    let r = c.next().await.unwrap();
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "BINARY_NOT_SUPPORTED");
    still_usable(&mut c).await;
}

#[tokio::test]
async fn a_frame_over_the_limit_gets_frame_too_large_and_a_1009_close_and_the_server_carries_on() {
    let server = start_engine("huge", &[("MAX_FRAME_BYTES", "65536")]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let big = format!(
        r#"{{"UUIDV4":"big","TARGET":"BASE","ACTION":"ECHO","DATA":"{}"}}"#,
        "x".repeat(70_000)
    );
    c.send_text(big).await.unwrap();
    let r = c.next().await.unwrap();
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "FRAME_TOO_LARGE");
    assert_eq!(c.closed().await.unwrap(), Some(1009));
    let mut fresh = Client::plain(server.addr()).await.unwrap();
    still_usable(&mut fresh).await;
    // Just under the limit is fine.
    let ok = fresh
        .call("BASE", "ECHO", json!({ "DATA": "y".repeat(60_000) }))
        .await
        .unwrap();
    assert_eq!(ok["MESSAGE_EXEC"], "SUCCESS");
}

#[tokio::test]
async fn the_default_limit_takes_a_multi_megabyte_message() {
    let server = start_engine("big-ok", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let data = "z".repeat(8 * 1024 * 1024);
    let r = c
        .call("BASE", "ECHO", json!({ "DATA": data }))
        .await
        .unwrap();
    assert_eq!(
        r["MESSAGE_DATA"].as_str().map(str::len),
        Some(8 * 1024 * 1024)
    );
}

#[tokio::test]
async fn a_tls_client_that_never_finishes_its_handshake_is_dropped_without_harm() {
    let server = start_engine("tls-stall", &[("HANDSHAKE_TIMEOUT_MS", "300")]).await;
    let mut stalled = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    // The start of a TLS record header announcing a ClientHello, then silence.
    stalled
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0xc8, 0x01])
        .await
        .unwrap();
    let mut silent = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut c = Client::tls(server.addr(), server.engine.cert_der())
        .await
        .unwrap();
    still_usable(&mut c).await;
    let mut buf = [0u8; 64];
    for s in [&mut stalled, &mut silent] {
        let n = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::io::AsyncReadExt::read(s, &mut buf),
        )
        .await;
        assert!(
            matches!(n, Ok(Ok(0) | Err(_))),
            "server must close a stalled handshake: {n:?}"
        );
    }
    still_usable(&mut c).await;
}

#[tokio::test]
async fn a_thousand_idle_connections_do_not_stop_the_server() {
    let server = start_engine("idle-1000", &[]).await;
    let mut idle = Vec::with_capacity(1000);
    for _ in 0..1000 {
        idle.push(Client::plain(server.addr()).await.unwrap());
    }
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c.call("BASE", "STATUS", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_DATA"]["CONNECTIONS"], 1001);
    still_usable(&mut c).await;
    still_usable(idle.last_mut().unwrap()).await;
}

#[tokio::test]
async fn a_client_that_disconnects_mid_request_harms_nobody() {
    let server = start_engine("disconnect", &[]).await;
    let mut leaver = Client::plain(server.addr()).await.unwrap();
    leaver
        .send("BASE", "ECHO", json!({ "DELAY_MS": 500 }))
        .await
        .unwrap();
    drop(leaver);
    let mut c = Client::plain(server.addr()).await.unwrap();
    still_usable(&mut c).await;
    for _ in 0..100 {
        let r = c.call("BASE", "STATUS", json!({})).await.unwrap();
        if r["MESSAGE_DATA"]["CONNECTIONS"] == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the dropped connection was never cleaned up");
}

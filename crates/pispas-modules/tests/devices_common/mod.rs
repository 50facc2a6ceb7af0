//! Shared by the scale and RFID tests: an engine wired to a simulator on a real pty.
#![allow(dead_code)]

use pispas_testkit::{start_engine, Client, TestEngine};
use serde_json::{json, Value};
use std::time::Duration;

/// Waits until `TARGET STATUS` reports the device connected (or fails after 20 s).
pub(crate) async fn wait_connected(c: &mut Client, target: &str) {
    wait_link(c, target, true).await;
}

/// Waits until `TARGET STATUS` reports the device's link as `connected`.
pub(crate) async fn wait_link(c: &mut Client, target: &str, connected: bool) {
    for _ in 0..400 {
        let r = c.call(target, "STATUS", json!({})).await.unwrap();
        if r["MESSAGE_DATA"][0]["LINK"]["CONNECTED"] == connected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{target} never reached connected={connected}");
}

/// Starts the engine with one device key, and a client.
pub(crate) async fn engine_with(name: &str, key: &str, value: &str) -> (TestEngine, Client) {
    let server = start_engine(name, &[("MODULES", "base,scale,rfid"), (key, value)]).await;
    let client = Client::plain(server.addr()).await.unwrap();
    (server, client)
}

/// The failure code of a reply, or "SUCCESS".
pub(crate) fn outcome(r: &Value) -> String {
    if r["MESSAGE_EXEC"] == "SUCCESS" {
        "SUCCESS".into()
    } else {
        r["MESSAGE_DATA"]["CODE"]
            .as_str()
            .unwrap_or("?")
            .to_string()
    }
}

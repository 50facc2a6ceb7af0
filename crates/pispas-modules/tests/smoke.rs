//! The real `pispas-modules` binary, started as users start it: plain and TLS on one port, CHECK,
//! PING, a bad message, a refused Origin. Under wine, `PISPAS_SMOKE_EXE` points at the Windows exe
//! and `PISPAS_SMOKE_CMD` at wine (scripts/windows-check.sh does this), so the Windows build is
//! checked by exactly this code.

use pispas_testkit::client::{Client, Connect};
use pispas_testkit::BinaryServer;
use serde_json::json;
use std::path::PathBuf;

fn program() -> PathBuf {
    std::env::var_os("PISPAS_SMOKE_EXE").map_or_else(
        || env!("CARGO_BIN_EXE_pispas-modules").into(),
        PathBuf::from,
    )
}

#[tokio::test]
async fn the_binary_serves_plain_and_tls_refuses_a_foreign_origin_and_survives_a_bad_message() {
    let server = tokio::task::spawn_blocking(|| BinaryServer::start(&program(), "smoke", &[]))
        .await
        .unwrap()
        .unwrap();
    let mut plain = Client::plain(server.addr).await.unwrap();
    let check = plain.call("BASE", "CHECK", json!({})).await.unwrap();
    assert_eq!(check["MESSAGE_DATA"]["TLS"], false);
    assert_eq!(check["MESSAGE_DATA"]["SERVICE"], "pispas-local-service");

    let cert = server.cert_der().unwrap();
    let mut tls = Client::tls(server.addr, &cert).await.unwrap();
    let check = tls.call("BASE", "CHECK", json!({})).await.unwrap();
    assert_eq!(check["MESSAGE_DATA"]["TLS"], true);
    assert_eq!(
        tls.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );

    tls.send_text("{not json").await.unwrap();
    assert_eq!(
        tls.next().await.unwrap()["MESSAGE_DATA"]["CODE"],
        "BAD_JSON"
    );
    assert_eq!(
        tls.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );

    let refused = Client::connect(
        server.addr,
        Connect {
            origin: Some("https://evil.example"),
            ..Default::default()
        },
    )
    .await;
    assert!(refused.err().expect("refused").to_string().contains("403"));
    assert_eq!(
        plain.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_binary_gracefully_with_exit_code_zero() {
    let mut server =
        tokio::task::spawn_blocking(|| BinaryServer::start(&program(), "sigterm", &[]))
            .await
            .unwrap()
            .unwrap();
    let mut c = Client::plain(server.addr).await.unwrap();
    let slow = c
        .send(
            "BASE",
            "ECHO",
            json!({ "DELAY_MS": 400, "DATA": "finished" }),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert_eq!(
        c.reply_to(&slow).await.unwrap()["MESSAGE_DATA"],
        "finished",
        "in-flight work finishes"
    );
    let status = tokio::task::spawn_blocking(move || server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

/// Ctrl-C (SIGINT; under wine it arrives as a Windows console Ctrl-C event) stops the service
/// gracefully: the in-flight request finishes and the exit code is 0.
#[cfg(unix)]
#[tokio::test]
async fn interrupt_stops_the_binary_gracefully() {
    let mut server = tokio::task::spawn_blocking(|| BinaryServer::start(&program(), "sigint", &[]))
        .await
        .unwrap()
        .unwrap();
    let mut c = Client::plain(server.addr).await.unwrap();
    let slow = c
        .send(
            "BASE",
            "ECHO",
            json!({ "DELAY_MS": 400, "DATA": "finished" }),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    assert_eq!(
        c.reply_to(&slow).await.unwrap()["MESSAGE_DATA"],
        "finished",
        "in-flight work finishes"
    );
    let status = tokio::task::spawn_blocking(move || server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn an_unknown_module_stops_startup_with_a_message_naming_it() {
    let dir = pispas_testkit::test_dir("bad-module");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pispas-modules"))
        .args([
            "--config",
            &dir.join(".env").to_string_lossy(),
            "--data-dir",
            &dir.to_string_lossy(),
        ])
        .env("MODULES", "base,printr")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MODULES") && stderr.contains("\"printr\""),
        "{stderr}"
    );
}

#[test]
fn a_taken_port_is_reported_by_number_with_what_to_do() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = pispas_testkit::test_dir("port-taken");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pispas-modules"))
        .args([
            "--config",
            &dir.join(".env").to_string_lossy(),
            "--data-dir",
            &dir.to_string_lossy(),
        ])
        .env("LOCAL_PORT", &port)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("port {port}")) && stderr.contains("LOCAL_PORT"),
        "{stderr}"
    );
}

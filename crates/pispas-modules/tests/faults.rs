//! The real binary against the faults of a till PC (issue 14, "port taken, certificate expired or
//! missing"): a second copy of the service (or any program) holding port 5005, a production
//! certificate past its date, and half a certificate pair. The service either says what to do
//! and exits without touching what holds the port, or starts, prints, and says what is wrong in
//! STATUS's WARNINGS (the status window) — never a silent failure.

use pispas_testkit::client::Client;
use pispas_testkit::{test_dir, BinaryServer};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn program() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_pispas-modules"))
}

async fn warnings(c: &mut Client) -> Vec<String> {
    let r = c.call("BASE", "STATUS", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    r["MESSAGE_DATA"]["WARNINGS"]
        .as_array()
        .unwrap_or_else(|| panic!("WARNINGS is a list: {r:#}"))
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

/// A self-signed pair valid between January 1st of the two years, written as `dir`/cert.pem
/// and key.pem.
fn write_pair(dir: &Path, from_year: i32, to_year: i32) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["local.unpispas.es".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
    params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

#[tokio::test]
async fn a_second_service_on_a_taken_port_exits_saying_so_and_the_first_keeps_serving() {
    let first = BinaryServer::start(program(), "faults-port-first", &[("MODULES", "base")])
        .expect("the first service starts");
    let dir = test_dir("faults-port-second");
    let second = Command::new(program())
        .arg("--config")
        .arg(dir.join(".env"))
        .arg("--data-dir")
        .arg(&dir)
        .env("LOCAL_PORT", first.addr.port().to_string())
        .env("LOCAL_HOST", "127.0.0.1")
        .env("VIEWER_PORT", "0")
        .env("MODULES", "base")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The process ends by itself; a generous bound only so a hang fails instead of blocking CI.
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || second.wait_with_output()),
    )
    .await
    .expect("the second service exits when its port is taken")
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "port {} on 127.0.0.1 is already in use",
            first.addr.port()
        )) && stderr.contains("LOCAL_PORT"),
        "the message says what holds it and what to do: {stderr}"
    );
    let mut c = Client::plain(first.addr).await.unwrap();
    let r = c.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
}

#[tokio::test]
async fn an_expired_production_certificate_is_served_and_the_warning_says_to_renew_it() {
    let dir = test_dir("faults-cert-expired");
    write_pair(&dir.join("certs"), 2015, 2016);
    let e = BinaryServer::start_in(program(), &dir, &[("MODULES", "base")])
        .expect("an expired certificate does not stop the service");
    let mut c = Client::plain(e.addr).await.unwrap();
    let w = warnings(&mut c).await;
    assert!(
        w.iter()
            .any(|w| w.contains("expired on 2016-01-01") && w.contains("renewed")),
        "{w:?}"
    );
    let status = c.call("BASE", "STATUS", json!({})).await.unwrap();
    assert_eq!(
        status["MESSAGE_DATA"]["TLS"]["SOURCE"], "provided",
        "{status:#}"
    );
}

#[tokio::test]
async fn half_a_certificate_pair_falls_back_to_the_generated_one_and_says_which_file_is_missing() {
    let dir = test_dir("faults-cert-half");
    write_pair(&dir.join("certs"), 2025, 2035);
    std::fs::remove_file(dir.join("certs/key.pem")).unwrap();
    let e = BinaryServer::start_in(program(), &dir, &[("MODULES", "base")])
        .expect("half a pair does not stop the service");
    let mut c = Client::plain(e.addr).await.unwrap();
    let w = warnings(&mut c).await;
    assert!(
        w.iter()
            .any(|w| w.contains("key.pem") && w.contains("self-signed")),
        "{w:?}"
    );
    // Served over TLS with the generated certificate, which the test trusts by its bytes.
    let der = e.cert_der().unwrap();
    let mut tls = Client::tls(e.addr, &der).await.unwrap();
    let r: Value = tls.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
}

//! The remote gateway against `pispas-sim gateway` (the cloud's side, written from
//! docs/remote.md) and against gateways that misbehave: HELLO, REMOTE_TARGETS, admin actions,
//! the token refused and redacted, TLS with a test CA, the CONNECT proxy, heartbeats and dead
//! links, reconnects, replies produced while the link is down, and PRINT exactly once when the
//! cloud repeats a request after a reconnect.

mod print_support;

use pispas_sim::gateway::proxy::ConnectProxy;
use pispas_sim::gateway::{GatewayOptions, GatewaySim};
use pispas_testkit::client::{Client, Connect};
use pispas_testkit::{start_engine, TestEngine};
use print_support::tcp_printer;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "cloud-token-for-tests-0123456789";
const DEVICE: &str = "till-7";
const ADMIN: &str = "remote-tests-admin-token-0123456789";
/// Generous bound for anything a test waits for; a test fails rather than hangs.
const WAIT: Duration = Duration::from_secs(30);

async fn gateway(token: Option<&str>) -> GatewaySim {
    GatewaySim::start(GatewayOptions {
        addr: "127.0.0.1:0".into(),
        token: token.map(str::to_string),
        tls: None,
    })
    .await
    .unwrap()
}

/// An engine whose gateway points at `cloud`; `extra` overrides the defaults.
async fn till(name: &str, cloud: SocketAddr, extra: &[(&str, &str)]) -> TestEngine {
    let port = cloud.port().to_string();
    let mut keys = vec![
        ("MODULES", "base,cache"),
        ("ADMIN_TOKEN", ADMIN),
        ("REMOTE_HOST", "127.0.0.1"),
        ("REMOTE_PORT", port.as_str()),
        ("REMOTE_TLS", "off"),
        ("REMOTE_TOKEN", TOKEN),
        ("REMOTE_DEVICE_ID", DEVICE),
        ("REMOTE_PING_SECS", "1"),
        ("REMOTE_BACKOFF_MAX_SECS", "2"),
    ];
    keys.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    keys.extend_from_slice(extra);
    start_engine(name, &keys).await
}

async fn admin(addr: SocketAddr) -> Client {
    Client::connect(
        addr,
        Connect {
            token: Some(ADMIN),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// BASE STATUS's REMOTE object.
async fn link(c: &mut Client) -> Value {
    let s = c.call("BASE", "STATUS", json!({})).await.unwrap();
    s["MESSAGE_DATA"]["REMOTE"].clone()
}

/// Polls BASE STATUS until the link matches `pred`.
async fn wait_link(c: &mut Client, pred: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let l = link(c).await;
        if pred(&l) {
            return l;
        }
        assert!(started.elapsed() < WAIT, "the link never got there: {l:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends `request` from the cloud and waits for its reply.
async fn call(cloud: &GatewaySim, uuid: &str, mut request: Value) -> Value {
    request["UUIDV4"] = json!(uuid);
    let before = replies(cloud, uuid).len();
    cloud.send(DEVICE, &request).unwrap();
    nth_reply(cloud, uuid, before + 1).await
}

fn replies(cloud: &GatewaySim, uuid: &str) -> Vec<Value> {
    cloud
        .received(DEVICE)
        .into_iter()
        .filter(|m| m["MESSAGE_TYPE"] == "RESPONSE" && m["MESSAGE_UUID"] == uuid)
        .collect()
}

/// Waits until `n` replies to `uuid` have arrived; returns the last.
async fn nth_reply(cloud: &GatewaySim, uuid: &str, n: usize) -> Value {
    let started = Instant::now();
    loop {
        let r = replies(cloud, uuid);
        if r.len() >= n {
            return r[n - 1].clone();
        }
        assert!(started.elapsed() < WAIT, "no reply {n} to {uuid}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the cloud has seen `n` HELLOs from the till (one per link).
async fn hellos(cloud: &GatewaySim, n: u64) {
    let started = Instant::now();
    while cloud.accepted() < n || !cloud.devices().contains_key(DEVICE) {
        assert!(
            started.elapsed() < WAIT,
            "link {n} never came up (accepted {})",
            cloud.accepted()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn code(reply: &Value) -> &str {
    assert_eq!(reply["MESSAGE_EXEC"], "FAILURE", "{reply:#}");
    reply["MESSAGE_DATA"]["CODE"].as_str().unwrap()
}

fn ok(reply: &Value) -> &Value {
    assert_eq!(reply["MESSAGE_EXEC"], "SUCCESS", "{reply:#}");
    &reply["MESSAGE_DATA"]
}

#[tokio::test]
async fn the_till_says_hello_with_its_id_version_targets_and_last_seq() {
    let cloud = gateway(Some(TOKEN)).await;
    let e = till("remote-hello", cloud.addr(), &[]).await;
    let (device, hello) = cloud.wait_for_hello(None, WAIT).await.unwrap();
    assert_eq!(device, DEVICE);
    assert_eq!(hello["MESSAGE_TYPE"], "HELLO");
    assert_eq!(hello["SERVICE_VERS"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        hello["TARGETS"],
        json!(["BASE", "CACHE"]),
        "allowed and enabled"
    );
    assert_eq!(hello["LAST_SEQ"], 0);
    let mut c = admin(e.addr()).await;
    let l = wait_link(&mut c, |l| l["STATE"] == "CONNECTED").await;
    assert_eq!(l["DEVICE_ID"], DEVICE);
    assert!(l["CONNECTED_SINCE_MS"].as_u64().unwrap() > 0);
    let devices = c.call("BASE", "STATUS", json!({})).await.unwrap();
    let cloud_device = devices["MESSAGE_DATA"]["DEVICES"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["DEVICE"] == "REMOTE:CLOUD")
        .cloned()
        .expect("the link is a device in the status window and the tray");
    assert_eq!(cloud_device["STATE"], "CONNECTED");
    e.engine.shutdown().await;
    cloud.stop();
}

#[tokio::test]
async fn a_generated_device_id_is_kept_across_restarts() {
    let cloud = gateway(None).await;
    let e = till("remote-devid", cloud.addr(), &[("REMOTE_DEVICE_ID", "")]).await;
    let (first, _) = cloud.wait_for_hello(None, WAIT).await.unwrap();
    assert_eq!(first.len(), 36, "{first}");
    let dir = e.dir.clone();
    e.engine.shutdown().await;
    let stored = std::fs::read_to_string(dir.join("remote-device-id")).unwrap();
    assert_eq!(stored.trim(), first);
    cloud.stop();
}

#[tokio::test]
async fn the_cloud_reaches_only_remote_targets_and_never_admin_actions() {
    let cloud = gateway(Some(TOKEN)).await;
    let e = till(
        "remote-targets",
        cloud.addr(),
        &[("MODULES", "base,cache,rfid")],
    )
    .await;
    hellos(&cloud, 1).await;
    let ping = call(&cloud, "r-1", json!({"TARGET": "BASE", "ACTION": "PING"})).await;
    ok(&ping);
    assert!(
        ping["SEQ"].as_u64().unwrap() >= 1,
        "replies are numbered: {ping}"
    );
    let rfid = call(&cloud, "r-2", json!({"TARGET": "RFID", "ACTION": "STATUS"})).await;
    assert_eq!(
        code(&rfid),
        "REMOTE_NOT_ALLOWED",
        "enabled locally, not listed in REMOTE_TARGETS"
    );
    for (uuid, action) in [
        ("r-3", "CONFIG_SCHEMA"),
        ("r-3b", "LOG_QUERY"),
        ("r-3c", "RESTART"),
    ] {
        let admin_only = call(&cloud, uuid, json!({"TARGET": "BASE", "ACTION": action})).await;
        assert_eq!(
            code(&admin_only),
            "UNAUTHORIZED",
            "admin actions never: {action}"
        );
    }
    let unknown = call(&cloud, "r-4", json!({"TARGET": "PAYTEF", "ACTION": "SALE"})).await;
    assert_eq!(code(&unknown), "REMOTE_NOT_ALLOWED");
    // CACHE: the cloud has a namespace of its own.
    ok(&call(
        &cloud,
        "r-5",
        json!({"TARGET": "CACHE", "ACTION": "SET", "KEY": "k", "VALUE": 1}),
    )
    .await);
    let mut local = Client::plain(e.addr()).await.unwrap();
    let got = local
        .call("CACHE", "GET", json!({"KEY": "k"}))
        .await
        .unwrap();
    assert_eq!(ok(&got)["FOUND"], false);
    e.engine.shutdown().await;

    let e = till(
        "remote-targets-listed",
        cloud.addr(),
        &[
            ("MODULES", "base,cache,rfid"),
            ("REMOTE_TARGETS", "BASE,RFID"),
        ],
    )
    .await;
    hellos(&cloud, 2).await;
    let rfid = call(&cloud, "r-6", json!({"TARGET": "RFID", "ACTION": "STATUS"})).await;
    ok(&rfid);
    let cache = call(&cloud, "r-7", json!({"TARGET": "CACHE", "ACTION": "STATS"})).await;
    assert_eq!(
        code(&cache),
        "REMOTE_NOT_ALLOWED",
        "the list replaces the default"
    );
    e.engine.shutdown().await;
    cloud.stop();
}

#[tokio::test]
async fn a_refused_token_is_shown_as_refused_and_retried_slowly() {
    let cloud = gateway(Some("the-right-token-0123456789")).await;
    let e = till("remote-refused", cloud.addr(), &[]).await;
    let mut c = admin(e.addr()).await;
    let l = wait_link(&mut c, |l| l["STATE"] == "REFUSED").await;
    assert!(l["DETAIL"].as_str().unwrap().contains("401"), "{l:#}");
    assert!(
        l["DETAIL"].as_str().unwrap().contains("REMOTE_TOKEN"),
        "{l:#}"
    );
    let now = pispas_modules::clock::now_ms();
    let retry = l["RETRY_AT_MS"].as_u64().unwrap();
    // Five times REMOTE_BACKOFF_MAX_SECS (2 s), jittered down to half at most.
    assert!(
        retry >= now + 3_000,
        "retried in {} ms",
        retry.saturating_sub(now)
    );
    assert_eq!(cloud.refused(), 1);
    assert_eq!(cloud.accepted(), 0);
    e.engine.shutdown().await;
    cloud.stop();
}

#[tokio::test]
async fn the_token_never_appears_in_the_configuration_view_or_the_log() {
    let cloud = gateway(Some(TOKEN)).await;
    let dir = pispas_testkit::test_dir("remote-redact");
    let log = dir.join("stderr.log");
    let port = pispas_testkit::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pispas-modules"))
        .arg("--config")
        .arg(dir.join(".env"))
        .arg("--data-dir")
        .arg(&dir)
        .env("LOCAL_PORT", port.to_string())
        .env("VIEWER_PORT", "off")
        .env("MODULES", "base")
        .env("ADMIN_TOKEN", ADMIN)
        .env("LOG_LEVEL", "trace")
        .env("REMOTE_HOST", "127.0.0.1")
        .env("REMOTE_PORT", cloud.addr().port().to_string())
        .env("REMOTE_TLS", "off")
        .env("REMOTE_TOKEN", TOKEN)
        .env("REMOTE_DEVICE_ID", DEVICE)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    hellos(&cloud, 1).await;
    assert_eq!(cloud.received(DEVICE).len(), 0);
    ok(&call(&cloud, "t-1", json!({"TARGET": "BASE", "ACTION": "PING"})).await);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut c = admin(addr).await;
    for action in ["CONFIG", "CONFIG_SCHEMA"] {
        let config = c.call("BASE", action, json!({})).await.unwrap();
        let text = config.to_string();
        assert!(
            text.contains("REMOTE_TOKEN"),
            "{action} lists the key: {text}"
        );
        assert!(!text.contains(TOKEN), "{action} shows the token");
    }
    let remote_view = call(&cloud, "t-2", json!({"TARGET": "BASE", "ACTION": "CONFIG"})).await;
    assert!(
        !remote_view.to_string().contains(TOKEN),
        "not to the cloud either"
    );
    let status = c
        .call("BASE", "STATUS", json!({}))
        .await
        .unwrap()
        .to_string();
    assert!(!status.contains(TOKEN));
    child.kill().unwrap();
    child.wait().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("remote gateway connected"),
        "the log was captured"
    );
    assert!(!logged.contains(TOKEN), "the token is in the trace log");
    cloud.stop();
}

#[tokio::test]
async fn a_remote_print_reaches_the_printer_once_when_the_cloud_repeats_it_after_a_reconnect() {
    let printer = tcp_printer().await;
    let cloud = gateway(Some(TOKEN)).await;
    let uri = format!("tcp://{}", printer.addr());
    let e = till(
        "remote-print-once",
        cloud.addr(),
        &[
            ("MODULES", "base,print"),
            ("PRINTER_RECEIPT", uri.as_str()),
            ("PRINT_PREWARM", "false"),
        ],
    )
    .await;
    hellos(&cloud, 1).await;
    let job = json!({"TARGET": "PRINT", "ACTION": "PRINT", "PRINTER": "RECEIPT", "FORMAT": "TEXT", "DATA": "web order 42"});
    let first = call(&cloud, "order-42", job.clone()).await;
    assert_eq!(ok(&first)["STATE"], "DELIVERED");
    cloud.drop_device(DEVICE);
    hellos(&cloud, 2).await;
    let again = call(&cloud, "order-42", job).await;
    assert_eq!(ok(&again)["DUPLICATE"], true, "{again:#}");
    printer.wait_for_cuts(1, WAIT).await.unwrap();
    assert_eq!(
        printer.text().matches("web order 42").count(),
        1,
        "printed once"
    );
    assert_eq!(printer.cuts().len(), 1);
    e.engine.shutdown().await;
    cloud.stop();
}

#[tokio::test]
async fn a_reply_produced_while_the_link_is_down_arrives_after_the_gateway_restarts() {
    // A printer that takes the connection and never answers: the job stays in progress, and
    // its reply comes PRINT_REPLY_TIMEOUT_MS later with its current state.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let cloud = gateway(Some(TOKEN)).await;
    let port = cloud.addr().port();
    let uri = format!("tcp://{silent_addr}");
    let e = till(
        "remote-buffered",
        cloud.addr(),
        &[
            ("MODULES", "base,print"),
            ("PRINTER_RECEIPT", uri.as_str()),
            ("PRINT_PREWARM", "false"),
            ("PRINT_REPLY_TIMEOUT_MS", "1500"),
        ],
    )
    .await;
    hellos(&cloud, 1).await;
    let ping = call(&cloud, "b-0", json!({"TARGET": "BASE", "ACTION": "PING"})).await;
    let seq_before = ping["SEQ"].as_u64().unwrap();
    // The cloud goes away before the reply is ready.
    cloud
        .send(DEVICE, &json!({"UUIDV4": "b-1", "TARGET": "PRINT", "ACTION": "PRINT", "PRINTER": "RECEIPT", "FORMAT": "TEXT", "DATA": "late"}))
        .unwrap();
    // Only once the till has the job is the cloud stopped (else the request dies with it).
    let mut c = admin(e.addr()).await;
    let started = Instant::now();
    loop {
        let jobs = c.call("PRINT", "JOBS", json!({})).await.unwrap();
        if jobs.to_string().contains("\"b-1\"") {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the till never got the job: {jobs}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cloud.stop();
    let l = wait_link(&mut c, |l| {
        l["STATE"] == "RECONNECTING" && l["BUFFERED"].as_u64() >= Some(1)
    })
    .await;
    // The job's own events (QUEUED, WAITING) may have gone out before the drop.
    let last_sent = l["LAST_SEQ"].as_u64().unwrap();
    assert!(last_sent >= seq_before, "{l:#}");
    // The gateway is restarted on the same port: the till reconnects by itself.
    let cloud = restart(port).await;
    let (_, hello) = cloud.wait_for_hello(Some(DEVICE), WAIT).await.unwrap();
    assert_eq!(
        hello["LAST_SEQ"], last_sent,
        "what the till had sent before the drop"
    );
    let late = nth_reply(&cloud, "b-1", 1).await;
    assert_eq!(ok(&late)["UUID"], "b-1");
    assert!(
        late["SEQ"].as_u64().unwrap() > last_sent,
        "numbered after the last one sent"
    );
    wait_link(&mut c, |l| l["STATE"] == "CONNECTED" && l["BUFFERED"] == 0).await;
    e.engine.shutdown().await;
    cloud.stop();
}

/// A fresh gateway on `port` (the old one's socket may take a moment to go).
async fn restart(port: u16) -> GatewaySim {
    let started = Instant::now();
    loop {
        match GatewaySim::start(GatewayOptions {
            addr: format!("127.0.0.1:{port}"),
            token: Some(TOKEN.into()),
            tls: None,
        })
        .await
        {
            Ok(g) => return g,
            Err(e) => assert!(started.elapsed() < WAIT, "{e:#}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_cloud_that_stops_answering_pings_is_noticed_and_the_till_reconnects() {
    let cloud = gateway(Some(TOKEN)).await;
    let e = till("remote-dead", cloud.addr(), &[]).await;
    hellos(&cloud, 1).await;
    cloud.freeze(DEVICE, true);
    // REMOTE_PING_SECS=1: dead after three silent periods, then a new link.
    hellos(&cloud, 2).await;
    let mut c = admin(e.addr()).await;
    wait_link(&mut c, |l| l["STATE"] == "CONNECTED").await;
    ok(&call(&cloud, "d-1", json!({"TARGET": "BASE", "ACTION": "PING"})).await);
    e.engine.shutdown().await;
    cloud.stop();
}

#[tokio::test]
async fn events_a_remote_request_subscribed_to_come_back_numbered() {
    let cloud = gateway(Some(TOKEN)).await;
    let e = till("remote-events", cloud.addr(), &[]).await;
    hellos(&cloud, 1).await;
    let sub = call(
        &cloud,
        "s-1",
        json!({"TARGET": "CACHE", "ACTION": "SUBSCRIBE", "PREFIX": "", "SHARED": true}),
    )
    .await;
    ok(&sub);
    let mut local = Client::plain(e.addr()).await.unwrap();
    ok(&local
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "orders/1", "VALUE": "new", "SHARED": true}),
        )
        .await
        .unwrap());
    let ev = cloud
        .wait_for(DEVICE, WAIT, |m| m["MESSAGE_TYPE"] == "EVENT")
        .await
        .unwrap();
    assert_eq!(ev["MESSAGE_UUID"], "s-1");
    assert_eq!(ev["MESSAGE_DATA"]["KEY"], "orders/1");
    assert!(ev["SEQ"].as_u64() > sub["SEQ"].as_u64(), "{ev} after {sub}");
    let seqs: Vec<u64> = cloud
        .received(DEVICE)
        .iter()
        .map(|m| m["SEQ"].as_u64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive: {seqs:?}"
    );
    // The subscription outlives a reconnect.
    cloud.drop_device(DEVICE);
    hellos(&cloud, 2).await;
    ok(&local
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "orders/2", "VALUE": "newer", "SHARED": true}),
        )
        .await
        .unwrap());
    cloud
        .wait_for(DEVICE, WAIT, |m| m["MESSAGE_DATA"]["KEY"] == "orders/2")
        .await
        .unwrap();
    e.engine.shutdown().await;
    cloud.stop();
}

/// A test CA and a certificate for `localhost` signed by it: (ca.pem, cert.pem, key.pem).
fn test_ca(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>, Vec<u8>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Pispas test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    (
        ca_path,
        leaf.pem().into_bytes(),
        key.serialize_pem().into_bytes(),
    )
}

#[tokio::test]
// Under wine the link with REMOTE_CA never comes up (seen 2026-12-02, not yet understood: wine's
// certificate store or the CA file path); listed in docs/windows.md as unproven on Windows.
#[cfg_attr(
    windows,
    ignore = "REMOTE_CA TLS does not connect under wine; see docs/windows.md"
)]
async fn tls_with_a_certificate_from_the_configured_ca_connects_and_another_ca_is_refused() {
    let dir = pispas_testkit::test_dir("remote-tls-ca");
    let (ca, cert, key) = test_ca(&dir);
    let cloud = GatewaySim::start(GatewayOptions {
        addr: "127.0.0.1:0".into(),
        token: Some(TOKEN.into()),
        tls: Some((cert, key)),
    })
    .await
    .unwrap();
    let ca_path = ca.to_string_lossy().into_owned();
    let e = till(
        "remote-tls",
        cloud.addr(),
        &[
            ("REMOTE_HOST", "localhost"),
            ("REMOTE_TLS", "on"),
            ("REMOTE_CA", ca_path.as_str()),
        ],
    )
    .await;
    hellos(&cloud, 1).await;
    let mut c = admin(e.addr()).await;
    assert_eq!(
        wait_link(&mut c, |l| l["STATE"] == "CONNECTED").await["TLS"],
        true
    );
    e.engine.shutdown().await;

    let other = pispas_testkit::test_dir("remote-tls-other-ca");
    let (wrong_ca, _, _) = test_ca(&other);
    let wrong = wrong_ca.to_string_lossy().into_owned();
    let e = till(
        "remote-tls-wrong",
        cloud.addr(),
        &[
            ("REMOTE_HOST", "localhost"),
            ("REMOTE_TLS", "on"),
            ("REMOTE_CA", wrong.as_str()),
        ],
    )
    .await;
    let mut c = admin(e.addr()).await;
    let l = wait_link(&mut c, |l| l["STATE"] == "RECONNECTING").await;
    assert!(l["DETAIL"].as_str().unwrap().starts_with("TLS"), "{l:#}");
    assert_eq!(
        cloud.accepted(),
        1,
        "no WebSocket over an untrusted certificate"
    );
    e.engine.shutdown().await;
    cloud.stop();
}

#[tokio::test]
async fn the_link_goes_through_an_http_connect_proxy_when_one_is_set() {
    let cloud = gateway(Some(TOKEN)).await;
    let proxy = ConnectProxy::start("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.addr());
    let e = till(
        "remote-proxy",
        cloud.addr(),
        &[("REMOTE_PROXY", proxy_url.as_str())],
    )
    .await;
    hellos(&cloud, 1).await;
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(
        proxy.targets(),
        [format!("127.0.0.1:{}", cloud.addr().port())]
    );
    ok(&call(&cloud, "p-1", json!({"TARGET": "BASE", "ACTION": "PING"})).await);
    e.engine.shutdown().await;
    cloud.stop();
}

#[tokio::test]
async fn garbage_binary_and_huge_frames_from_the_cloud_do_not_hurt_the_local_service() {
    let cloud = gateway(Some(TOKEN)).await;
    let e = till("remote-garbage", cloud.addr(), &[]).await;
    hellos(&cloud, 1).await;
    let mut local = Client::plain(e.addr()).await.unwrap();
    cloud.send_raw(DEVICE, Message::text("{not json")).unwrap();
    let bad = cloud
        .wait_for(DEVICE, WAIT, |m| m["MESSAGE_DATA"]["CODE"] == "BAD_JSON")
        .await
        .unwrap();
    assert_eq!(bad["MESSAGE_EXEC"], "FAILURE");
    cloud
        .send_raw(DEVICE, Message::binary(vec![0u8, 1, 2, 3]))
        .unwrap();
    cloud
        .wait_for(DEVICE, WAIT, |m| {
            m["MESSAGE_DATA"]["CODE"] == "BINARY_NOT_SUPPORTED"
        })
        .await
        .unwrap();
    ok(&local.call("BASE", "PING", json!({})).await.unwrap());
    // 100 MB is over MAX_FRAME_BYTES (32 MiB): the till drops that link, not the local clients.
    cloud
        .send_raw(DEVICE, Message::binary(vec![b'x'; 100 * 1024 * 1024]))
        .unwrap();
    hellos(&cloud, 2).await;
    ok(&local.call("BASE", "PING", json!({})).await.unwrap());
    ok(&call(&cloud, "g-1", json!({"TARGET": "BASE", "ACTION": "PING"})).await);
    e.engine.shutdown().await;
    cloud.stop();
}

#[tokio::test]
async fn test_connection_reports_reached_refused_and_off_without_touching_the_link() {
    let cloud = gateway(Some(TOKEN)).await;
    let e = start_engine("remote-test-button", &[("ADMIN_TOKEN", ADMIN)]).await;
    let mut c = admin(e.addr()).await;
    let off = c.call("BASE", "REMOTE_TEST", json!({})).await.unwrap();
    assert_eq!(ok(&off)["STATE"], "OFF");
    let port = cloud.addr().port().to_string();
    let form = |token: &str| json!({"VALUES": {"REMOTE_HOST": "127.0.0.1", "REMOTE_PORT": port, "REMOTE_TLS": "off", "REMOTE_TOKEN": token}});
    let reached = c.call("BASE", "REMOTE_TEST", form(TOKEN)).await.unwrap();
    assert_eq!(ok(&reached)["OK"], true, "{reached:#}");
    let refused = c
        .call("BASE", "REMOTE_TEST", form("not-the-token-0123456789"))
        .await
        .unwrap();
    assert_eq!(ok(&refused)["STATE"], "REFUSED");
    assert!(ok(&refused)["DETAIL"]
        .as_str()
        .unwrap()
        .contains("REMOTE_TOKEN"));
    let mut anonymous = Client::plain(e.addr()).await.unwrap();
    let denied = anonymous
        .call("BASE", "REMOTE_TEST", form(TOKEN))
        .await
        .unwrap();
    assert_eq!(code(&denied), "UNAUTHORIZED");
    assert_eq!(
        link(&mut c).await,
        Value::Null,
        "the gateway itself stays off"
    );
    e.engine.shutdown().await;
    cloud.stop();
}

//! What the payment tests share: simulators started fast, an engine with MYPOS pointed at them,
//! and helpers to read payment replies.
#![allow(dead_code, unreachable_pub)]

use pispas_sim::mypos::{MyposOptions, MyposScenario, MyposSim, MyposTransport};
use pispas_testkit::client::{Client, Connect};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

pub const ADMIN: &str = "payments-test-admin-token-0123456789";
/// Upper bound for simulator waits (a hang fails instead of blocking CI); tests wait on events.
pub const WAIT: Duration = Duration::from_secs(30);

pub async fn mypos_sim(scenario: MyposScenario) -> MyposSim {
    MyposSim::start(MyposOptions {
        transport: MyposTransport::Tcp("127.0.0.1:0".into()),
        scenario,
        step: Duration::from_millis(20),
        slow: Duration::from_millis(1500),
        timeout_secs: 2,
        ..MyposOptions::default()
    })
    .await
    .expect("mypos sim")
}

pub fn mypos_uri(sim: &MyposSim) -> String {
    format!("tcp://{}", sim.addr().expect("tcp"))
}

pub async fn admin(addr: SocketAddr) -> Client {
    Client::connect(
        addr,
        Connect {
            token: Some(ADMIN),
            ..Default::default()
        },
    )
    .await
    .expect("admin connect")
}

pub fn ok(r: &Value) -> &Value {
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    &r["MESSAGE_DATA"]
}

/// The CODE of a FAILURE reply (panics on SUCCESS).
pub fn code(r: &Value) -> &str {
    assert_eq!(r["MESSAGE_EXEC"], "FAILURE", "{r:#}");
    r["MESSAGE_DATA"]["CODE"].as_str().unwrap_or("")
}

pub fn details(r: &Value) -> &Value {
    &r["MESSAGE_DATA"]["DETAILS"]
}

pub async fn paytef_sim(
    scenario: pispas_sim::paytef::PaytefScenario,
    cloud: bool,
) -> pispas_sim::paytef::PaytefSim {
    pispas_sim::paytef::PaytefSim::start(pispas_sim::paytef::PaytefOptions {
        cloud,
        scenario,
        step: Duration::from_millis(20),
        slow: Duration::from_millis(1500),
        ..pispas_sim::paytef::PaytefOptions::default()
    })
    .await
    .expect("paytef sim")
}

/// The engine's keys for `sim`, polling every 50 ms.
pub fn paytef_keys(sim: &pispas_sim::paytef::PaytefSim) -> Vec<(String, String)> {
    if sim.is_cloud() {
        vec![
            (
                "PAYTEF".into(),
                format!("{}?pinpad={}&poll_ms=50", sim.url(), sim.pinpad()),
            ),
            ("PAYTEF_ACCESS_KEY".into(), sim.access_key().into()),
            ("PAYTEF_SECRET_KEY".into(), sim.secret_key().into()),
        ]
    } else {
        vec![("PAYTEF".into(), format!("{}?poll_ms=50", sim.url()))]
    }
}

/// Fails when any file under `dir` (the engine's database, WAL, command log, logs) holds one of
/// the simulators' full test card numbers.
pub fn assert_no_full_pan(dir: &std::path::Path) {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    assert!(!files.is_empty(), "nothing under {}", dir.display());
    for file in files {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
        for pan in pispas_sim::payment::TEST_PANS {
            assert!(
                !text.contains(pan),
                "{} holds the full PAN {pan}",
                file.display()
            );
        }
    }
}

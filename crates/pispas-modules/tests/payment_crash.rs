//! Payments and the real binary: the engine SIGKILLed while a myPOS payment is in progress, the
//! terminal finishing meanwhile; after the restart the journal reconciles it with GET_STATUS
//! before the terminal takes another payment, and the POS's retry of that UUIDV4 gets the true
//! outcome with one PURCHASE on the terminal. Then the whole data folder (journal, command log,
//! log files) and the engine's stderr are grepped for the simulators' full test PANs.
// SIGKILL and a child process with its stderr in a file: Unix only.
#![cfg(unix)]

mod payment_support;

use payment_support::*;
use pispas_sim::mypos::{MyposScenario, MyposState};
use pispas_sim::payment::TEST_PANS;
use pispas_testkit::client::{next_uuid, request_text, Client};
use pispas_testkit::{free_port, test_dir};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The engine process; killed (SIGKILL) when dropped.
struct Engine(Option<Child>);

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(dir: &Path, mypos: &str, run: u32) -> (Engine, SocketAddr) {
    start_with(dir, &[("MODULES", "base,mypos"), ("MYPOS", mypos)], run)
}

fn start_with(dir: &Path, env: &[(&str, &str)], run: u32) -> (Engine, SocketAddr) {
    let port = free_port();
    let stderr = std::fs::File::create(dir.join(format!("stderr-{run}.txt"))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pispas-modules"))
        .arg("--config")
        .arg(dir.join(".env"))
        .arg("--data-dir")
        .arg(dir)
        .env("LOCAL_PORT", port.to_string())
        .envs(env.iter().copied())
        .env("ADMIN_TOKEN", ADMIN)
        .env("VIEWER_PORT", "0")
        .env("LOG_LEVEL", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr))
        .spawn()
        .expect("binary");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let t = Instant::now();
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "the engine exited");
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the engine did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (Engine(Some(child)), addr)
}

fn kill(mut engine: Engine) {
    if let Some(mut child) = engine.0.take() {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn a_payment_in_progress_when_the_engine_is_killed_is_reconciled_after_restart_with_one_charge(
) {
    let sim = mypos_sim(MyposScenario::SlowCard).await;
    let dir = test_dir("payment-crash");
    let uri = mypos_uri(&sim);
    let (engine, addr) = start(&dir, &uri, 1);
    let mut c = Client::plain(addr).await.unwrap();
    let uuid = next_uuid();
    // A POS that typed a card number into the ticket field: it must never be stored in full.
    let sale = json!({ "AMOUNT": 3150, "REFERENCE": TEST_PANS[1] });
    c.send_text(request_text(&uuid, "MYPOS", "SALE", sale.clone()))
        .await
        .unwrap();
    sim.wait_until("the card being read", WAIT, |s| match s.state() {
        MyposState::Running { stage, .. } if stage >= 11 => Some(()),
        _ => None,
    })
    .await
    .unwrap();
    kill(engine);
    // The terminal finishes on its own: approved, waiting for COMPLETE_TX.
    sim.wait_for_idle(WAIT).await.unwrap();
    assert_eq!(sim.charged().len(), 1);
    assert!(sim.completes().is_empty());

    let (engine, addr) = start(&dir, &uri, 2);
    let mut c = Client::plain(addr).await.unwrap();
    let r = c
        .call_with_uuid(&uuid, "MYPOS", "SALE", sale)
        .await
        .unwrap();
    let d = ok(&r);
    assert_eq!(d["STATE"], "APPROVED", "{r:#}");
    assert_eq!(d["REPLAYED"], true);
    assert_eq!(d["REFERENCE"], "************0608");
    assert_eq!(sim.purchases(), 1, "one PURCHASE on the terminal, ever");
    assert!(sim
        .requests_for("GET_STATUS")
        .iter()
        .any(|r| r.get("SID_ORIGINAL") == Some(uuid.as_str())));
    sim.wait_for_completes(1, WAIT).await.unwrap();
    assert_eq!(sim.completes(), std::slice::from_ref(&uuid));
    // The terminal takes the next payment.
    let r = c
        .call("MYPOS", "SALE", json!({ "AMOUNT": 100 }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["STATE"], "APPROVED");
    // Support reads the journal and the command log through the admin connection.
    let mut support = admin(addr).await;
    let r = support.call("MYPOS", "JOURNAL", json!({})).await.unwrap();
    assert_eq!(ok(&r).as_array().unwrap().len(), 2);
    drop(support);
    drop(c);
    drop(engine);

    // No full test PAN anywhere the service writes: database (journal, WAL), command log,
    // log files, stderr.
    let mut checked = 0;
    for file in files(&dir) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for pan in TEST_PANS {
            assert!(
                !text.contains(pan),
                "{} holds the full PAN {pan}",
                file.display()
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 4,
        "database, command log, logs and stderr were read ({checked} files)"
    );
}

#[tokio::test]
async fn a_paytef_payment_cut_by_a_crash_is_found_by_polling_after_restart_and_never_started_again()
{
    use pispas_sim::paytef::{PaytefScenario, PaytefState};
    let sim = paytef_sim(PaytefScenario::SlowCard, false).await;
    let dir = test_dir("paytef-crash");
    let keys = paytef_keys(&sim);
    let mut env: Vec<(&str, &str)> = vec![("MODULES", "base,paytef")];
    env.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (engine, addr) = start_with(&dir, &env, 1);
    let mut c = Client::plain(addr).await.unwrap();
    let uuid = next_uuid();
    c.send_text(request_text(
        &uuid,
        "PAYTEF",
        "SALE",
        json!({ "AMOUNT": 2200 }),
    ))
    .await
    .unwrap();
    sim.wait_until("the card being read", WAIT, |s| {
        matches!(s.state(), PaytefState::Running(_)).then_some(())
    })
    .await
    .unwrap();
    kill(engine);
    sim.wait_until("the pinpad finishing on its own", WAIT, |s| {
        matches!(s.state(), PaytefState::Finished(_)).then_some(())
    })
    .await
    .unwrap();
    let (_engine, addr) = start_with(&dir, &env, 2);
    let mut c = Client::plain(addr).await.unwrap();
    let r = c
        .call_with_uuid(&uuid, "PAYTEF", "SALE", json!({ "AMOUNT": 2200 }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    assert_eq!(ok(&r)["REPLAYED"], true);
    assert_eq!(sim.starts(), 1, "the start was never sent again");
    assert_no_full_pan(&dir);
}

//! Devices that answer another device's protocol, at engine level (issue 14: "a device that
//! answers slowly, answers garbage, or answers another device's protocol"): a scale set up with
//! the wrong `protocol=` (every configured protocol against every other one's simulator, and an
//! RFID reader on a scale's port), a scale on a reader's port, and card terminals whose address
//! reaches the other brand's terminal, a web server or a printer. What must hold: a scale never
//! gives a weight the scale did not say (a wrong weight is a wrong price), a reader never a tag
//! nobody presented, and a payment sent to something that is not the configured terminal is
//! refused before any charge can start, saying what answered (never a guessed outcome, never an
//! UNKNOWN_OUTCOME for a till's typo, never a wait of PAYMENT_TIMEOUT_S).
#![cfg(unix)]

mod devices_common;
mod payment_support;

use devices_common::outcome;
use pispas_sim::rfid::{RfidProtocol, RfidSim, TagId};
use pispas_sim::scale::{ScaleSim, PROTOCOLS};
use pispas_testkit::client::{next_uuid, Client};
use pispas_testkit::start_engine;
use serde_json::{json, Value};
use std::time::Duration;

const GRAMS: i64 = 1234;

/// Polls `TARGET STATUS` until every device it lists has its link up.
async fn wait_all_connected(c: &mut Client, target: &str, count: usize) {
    for _ in 0..400 {
        let r = c.call(target, "STATUS", json!({})).await.unwrap();
        let list = r["MESSAGE_DATA"].as_array().cloned().unwrap_or_default();
        if list.len() == count && list.iter().all(|d| d["LINK"]["CONNECTED"] == true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not every {target} connected");
}

/// Two names the simulator speaks identically (Dialog 02 and 04 differ only in line settings).
fn same_wire(a: &str, b: &str) -> bool {
    a == b || (a.starts_with("dialog") && b.starts_with("dialog"))
}

#[tokio::test]
async fn a_scale_on_the_wrong_protocol_never_gives_a_weight_and_says_what_to_check() {
    let dir = pispas_testkit::test_dir("wrong-scale");
    // (scale name, configured protocol, what is on the line)
    let mut rigs: Vec<(String, &str, String)> = Vec::new();
    let mut scales = Vec::new();
    let mut readers = Vec::new();
    let mut keys: Vec<(String, String)> = Vec::new();
    for configured in PROTOCOLS {
        for actual in PROTOCOLS.iter().copied().chain(["em4100"]) {
            if same_wire(configured, actual) {
                continue;
            }
            let name = format!("{configured}_ON_{actual}").to_ascii_uppercase();
            let link = dir.join(&name);
            if actual == "em4100" {
                let sim = RfidSim::start_pty(RfidProtocol::Em4100Short, &link)
                    .await
                    .unwrap();
                sim.present(TagId::parse("0A00B1C2D3").unwrap());
                readers.push(sim);
            } else {
                let sim = ScaleSim::start_pty(actual, &link).await.unwrap();
                sim.set_weight(GRAMS);
                scales.push(sim);
            }
            keys.push((
                format!("SCALE_{name}"),
                format!("serial://{}?protocol={configured}", link.display()),
            ));
            rigs.push((name, configured, actual.to_string()));
        }
    }
    let mut values: Vec<(&str, &str)> = vec![("MODULES", "base,scale")];
    values.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let server = start_engine("wrong-scale", &values).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    wait_all_connected(&mut c, "SCALE", rigs.len()).await;

    let mut pending = Vec::new();
    for (name, ..) in &rigs {
        let uuid = c
            .send("SCALE", "READ", json!({ "SCALE": name, "TIMEOUT": 2500 }))
            .await
            .unwrap();
        pending.push(uuid);
    }
    let mut wrong = Vec::new();
    let mut unclear = Vec::new();
    for ((name, configured, actual), uuid) in rigs.iter().zip(&pending) {
        let r = c.reply_to(uuid).await.unwrap();
        let data = &r["MESSAGE_DATA"];
        if outcome(&r) == "SUCCESS" {
            if data["GRAMS"] != GRAMS || actual == "em4100" {
                wrong.push(format!("{name}: {data}"));
            }
            continue;
        }
        // The support person on the phone needs the sentence to point at the setting.
        let message = data["MESSAGE"].as_str().unwrap_or("");
        eprintln!("{name}: {} {message}", outcome(&r));
        if !(message.contains(&format!("protocol={configured}"))
            && message.contains("protocol=auto"))
        {
            unclear.push(format!("{name}: {} {message}", outcome(&r)));
        }
    }
    assert!(
        wrong.is_empty(),
        "weights the scale never said:\n{}",
        wrong.join("\n")
    );
    assert!(
        unclear.is_empty(),
        "failures that do not point at protocol=:\n{}",
        unclear.join("\n")
    );
    // STATUS shows it too, for the configurator and the support person.
    let status = c
        .call(
            "SCALE",
            "STATUS",
            json!({ "SCALE": "TOLEDO8217_ON_EPELSA" }),
        )
        .await
        .unwrap();
    assert!(
        status["MESSAGE_DATA"]["UNREADABLE_BYTES"].as_u64() > Some(0),
        "{status}"
    );
    // The engine is still itself.
    let pong = c.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(pong["MESSAGE_DATA"], "PONG");
    drop((scales, readers));
}

#[tokio::test]
async fn a_reader_on_a_scales_port_reports_no_tag() {
    let dir = pispas_testkit::test_dir("wrong-reader");
    let mut sims = Vec::new();
    let mut keys: Vec<(String, String)> = Vec::new();
    for actual in PROTOCOLS {
        let name = format!("ON_{actual}").to_ascii_uppercase();
        let link = dir.join(&name);
        let sim = ScaleSim::start_pty(actual, &link).await.unwrap();
        sim.set_weight(GRAMS);
        sims.push(sim);
        keys.push((
            format!("RFID_{name}"),
            format!("serial://{}?protocol=em4100", link.display()),
        ));
    }
    let mut values: Vec<(&str, &str)> = vec![("MODULES", "base,rfid")];
    values.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let server = start_engine("wrong-reader", &values).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    wait_all_connected(&mut c, "RFID", sims.len()).await;
    let sub = c.send("RFID", "SUBSCRIBE", json!({})).await.unwrap();
    c.reply_to(&sub).await.unwrap();
    // Weigh on every scale for a while: streaming ones send frames all along, polled ones answer
    // nothing (nobody asks them in their protocol).
    for (i, sim) in sims.iter().enumerate() {
        sim.set_weight(GRAMS + i as i64);
    }
    let mut reads = Vec::new();
    for (name, _) in &keys {
        let reader = name.trim_start_matches("RFID_");
        reads.push(
            c.send("RFID", "READ", json!({ "READER": reader, "TIMEOUT": 1500 }))
                .await
                .unwrap(),
        );
    }
    for ((name, _), uuid) in keys.iter().zip(&reads) {
        let r = c.reply_to(uuid).await.unwrap();
        assert_ne!(outcome(&r), "SUCCESS", "{name} read a tag: {r}");
    }
    let pong = c.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(pong["MESSAGE_DATA"], "PONG");
    // Every event that came meanwhile is in the client's backlog.
    let tag = tokio::time::timeout(
        Duration::ZERO,
        c.wait_for(|v| v["MESSAGE_DATA"]["EVENT"] == "TAG"),
    )
    .await;
    assert!(tag.is_err(), "a tag nobody presented: {tag:?}");
    drop(server);
}

/// What answered at the terminal's address.
enum Wrong {
    /// The other brand's terminal (myPOS's TCP IPP for PAYTEF, Paytef's HTTP for MYPOS).
    OtherTerminal,
    /// A web server (a router's page, the POS's own server).
    Web,
    /// Something that accepts and says nothing (a printer's raw port, a hung device).
    Silent,
    /// Line noise, or a protocol nobody here speaks.
    Noise,
}

impl Wrong {
    const ALL: [Wrong; 4] = [
        Wrong::OtherTerminal,
        Wrong::Web,
        Wrong::Silent,
        Wrong::Noise,
    ];

    fn name(&self) -> &'static str {
        match self {
            Wrong::OtherTerminal => "the other brand's terminal",
            Wrong::Web => "a web server",
            Wrong::Silent => "a silent device",
            Wrong::Noise => "line noise",
        }
    }
}

/// A SALE refused before anything could charge: TERMINAL_UNAVAILABLE, CANCELLED, saying so.
fn assert_refused_before_any_charge(target: &str, wrong: &Wrong, r: &Value) {
    let what = format!("{target} at {}", wrong.name());
    assert_eq!(
        payment_support::code(r),
        "TERMINAL_UNAVAILABLE",
        "{what}: {r:#}"
    );
    let message = r["MESSAGE_DATA"]["MESSAGE"].as_str().unwrap_or("");
    eprintln!("{what}: {message}");
    assert!(message.contains("nothing was charged"), "{what}: {message}");
    assert!(
        message.contains(&format!("{target}=")),
        "{what}: the message should name the setting to check: {message}"
    );
    // Asking again by the same UUIDV4 gives the same answer (the journal has it), not a retry.
}

async fn sale(c: &mut Client, target: &str, uuid: &str) -> Value {
    c.call_with_uuid(uuid, target, "SALE", json!({ "AMOUNT": 1250 }))
        .await
        .unwrap()
}

/// The address of something that is not `target`'s terminal: `other` (the other brand's), or a
/// fake device.
async fn wrong_address(wrong: &Wrong, other: std::net::SocketAddr) -> std::net::SocketAddr {
    use pispas_testkit::fake::{device, Behaviour};
    match wrong {
        Wrong::OtherTerminal => other,
        Wrong::Web => device(Behaviour::Http).await,
        Wrong::Silent => device(Behaviour::Silent).await,
        Wrong::Noise => device(Behaviour::Noise).await,
    }
}

/// For each wrong device: an engine with `key` = `uri(address)`, a SALE refused before any
/// charge, and the same UUIDV4 again answered from the journal.
async fn refused_at_every_wrong_address(
    target: &str,
    module: &str,
    other: std::net::SocketAddr,
    uri: impl Fn(std::net::SocketAddr) -> String,
) {
    for wrong in Wrong::ALL {
        let value = uri(wrong_address(&wrong, other).await);
        let e = start_engine(
            &format!("wrong-{module}"),
            &[
                ("MODULES", &format!("base,{module}")),
                (target, &value),
                ("PAYMENT_TIMEOUT_S", "20"),
            ],
        )
        .await;
        let mut c = Client::plain(e.addr()).await.unwrap();
        let uuid = next_uuid();
        let r = sale(&mut c, target, &uuid).await;
        assert_refused_before_any_charge(target, &wrong, &r);
        let again = sale(&mut c, target, &uuid).await;
        assert_eq!(again["MESSAGE_DATA"]["CODE"], r["MESSAGE_DATA"]["CODE"]);
        assert_eq!(
            again["MESSAGE_DATA"]["DETAILS"]["REPLAYED"], true,
            "{again:#}"
        );
    }
}

#[tokio::test]
async fn a_mypos_address_that_reaches_something_else_is_refused_before_any_charge() {
    use payment_support::{mypos_sim, paytef_sim};
    use pispas_sim::mypos::MyposScenario;
    use pispas_sim::paytef::PaytefScenario;
    let paytef = paytef_sim(PaytefScenario::Approved, false).await;
    refused_at_every_wrong_address("MYPOS", "mypos", paytef.addr(), |a| format!("tcp://{a}")).await;
    assert_eq!(paytef.starts(), 0, "the Paytef pinpad was asked to start");
    // An engine pointed at a real myPOS still pays (the check costs one PING).
    let sim = mypos_sim(MyposScenario::Approved).await;
    let uri = payment_support::mypos_uri(&sim);
    let e = start_engine(
        "wrong-mypos-real",
        &[("MODULES", "base,mypos"), ("MYPOS", &uri)],
    )
    .await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    for _ in 0..2 {
        let r = sale(&mut c, "MYPOS", &next_uuid()).await;
        assert_eq!(payment_support::ok(&r)["STATE"], "APPROVED");
    }
    assert_eq!(sim.purchases(), 2);
    // Back to back, the second sale needs no PING: the terminal has just answered.
    assert_eq!(sim.requests_for("PING").len(), 1);
}

#[tokio::test]
async fn a_paytef_address_that_reaches_something_else_is_refused_before_any_charge() {
    use payment_support::{mypos_sim, paytef_sim};
    use pispas_sim::mypos::MyposScenario;
    use pispas_sim::paytef::PaytefScenario;
    let mypos = mypos_sim(MyposScenario::Approved).await;
    let other = mypos.addr().expect("tcp");
    refused_at_every_wrong_address("PAYTEF", "paytef", other, |a| {
        format!("http://{a}?poll_ms=50")
    })
    .await;
    assert_eq!(
        mypos.purchases(),
        0,
        "the myPOS terminal was asked to charge"
    );
    let sim = paytef_sim(PaytefScenario::Approved, false).await;
    let keys = payment_support::paytef_keys(&sim);
    let mut values: Vec<(&str, &str)> = vec![("MODULES", "base,paytef")];
    values.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let e = start_engine("wrong-paytef-real", &values).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    for _ in 0..2 {
        let r = sale(&mut c, "PAYTEF", &next_uuid()).await;
        assert_eq!(payment_support::ok(&r)["STATE"], "APPROVED");
    }
    assert_eq!(sim.starts(), 2);
    assert_eq!(sim.requests_to("/pinpad/status").len(), 1);
}

//! Printers that are not what the configuration says (issue 14: "a device that answers slowly,
//! answers garbage, or answers another device's protocol"), at engine level: PRINTER_ addresses
//! that reach a web server, a socket that never reads nor answers, and one that answers every
//! status request with noise. Each job gets a reply with a printer code the POS knows (never
//! INTERNAL, never silence), the engine keeps answering, and a real printer configured beside
//! them prints its job meanwhile.

mod print_support;

use pispas_testkit::client::Client;
use pispas_testkit::fake::{device, Behaviour};
use print_support::{engine, print, tcp_printer, WAIT};
use serde_json::{json, Value};

/// The codes a POS is told to expect from a printer that cannot print (docs/protocol.md).
const PRINTER_CODES: [&str; 6] = [
    "PRINTER_OFFLINE",
    "PRINTER_ERROR",
    "PAPER_OUT",
    "COVER_OPEN",
    "DELIVERY_FAILED",
    "TIMEOUT",
];

/// A reply is a delivered job, one waiting for the printer with a printer reason, or a failure
/// with a printer code.
fn is_a_printer_answer(r: &Value) -> bool {
    let d = &r["MESSAGE_DATA"];
    match r["MESSAGE_EXEC"].as_str() {
        Some("SUCCESS") => match d["STATE"].as_str() {
            Some("DELIVERED") => true,
            Some("WAITING" | "QUEUED") => d["REASON"]
                .as_str()
                .is_some_and(|c| PRINTER_CODES.contains(&c)),
            _ => false,
        },
        Some("FAILURE") => d["CODE"]
            .as_str()
            .is_some_and(|c| PRINTER_CODES.contains(&c)),
        _ => false,
    }
}

#[tokio::test]
async fn printers_that_are_something_else_get_printer_answers_and_hold_up_nobody() {
    let real = tcp_printer().await;
    let http = device(Behaviour::Http).await;
    let silent = device(Behaviour::Silent).await;
    let noise = device(Behaviour::Noise).await;
    let e = engine(
        "wrong-device",
        &[
            ("RECEIPT", format!("tcp://{}", real.addr())),
            ("WEB", format!("tcp://{http}")),
            ("HUNG", format!("tcp://{silent}")),
            ("NOISE", format!("tcp://{noise}")),
        ],
        &[("PRINT_REPLY_TIMEOUT_MS", "15000")],
    )
    .await;
    let mut wrong = Vec::new();
    for name in ["WEB", "HUNG", "NOISE"] {
        let mut c = Client::plain(e.addr()).await.unwrap();
        let name = name.to_string();
        wrong.push(tokio::spawn(async move {
            let r = print(&mut c, &name, "TEXT", json!("Mesa 3"), json!({})).await;
            (name, r)
        }));
    }
    // Meanwhile the real printer prints, and the engine answers.
    let mut c = Client::plain(e.addr()).await.unwrap();
    let r = print(&mut c, "RECEIPT", "TEXT", json!("Mesa 5 cuenta"), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r:#}");
    real.wait_until("the real receipt", WAIT, |d| {
        d.text().contains("Mesa 5 cuenta")
    })
    .await
    .unwrap();
    let ping = c.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(ping["MESSAGE_EXEC"], "SUCCESS", "{ping:#}");
    for task in wrong {
        let (name, r) = task.await.unwrap();
        eprintln!("{name}: {}", r["MESSAGE_DATA"]);
        assert!(is_a_printer_answer(&r), "{name}: {r:#}");
    }
}

//! Who may do what to the printers (security review, Low): a job is cancelled only by the client
//! that sent it or with the admin token, and a LAN scan beyond this computer's own subnet and
//! port 9100 needs the admin token.
#![cfg(not(windows))]

mod print_support;

use pispas_testkit::client::{Client, Connect};
use print_support::*;
use serde_json::json;

async fn from(server: &pispas_testkit::TestEngine, origin: &'static str) -> Client {
    Client::connect(
        server.addr(),
        Connect {
            origin: Some(origin),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn only_the_client_that_sent_a_job_or_the_admin_may_cancel_it() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let server = engine(
        "access-cancel",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[("ALLOWED_ORIGINS", "https://a.example,https://b.example")],
    )
    .await;
    let mut a = from(&server, "https://a.example").await;
    let mut b = from(&server, "https://b.example").await;
    // The first job waits at the head for paper (PRINTING: not cancellable by anyone); the ones
    // behind it stay QUEUED, which is what CANCEL is for.
    print(
        &mut a,
        "RECEIPT",
        "TEXT",
        json!("waits for paper"),
        json!({}),
    )
    .await;
    let r = print(&mut a, "RECEIPT", "TEXT", json!("a's ticket"), json!({})).await;
    let id = r["MESSAGE_DATA"]["JOB_ID"].clone();
    let refused = b
        .call("PRINT", "CANCEL", json!({ "JOB_ID": id }))
        .await
        .unwrap();
    assert_eq!(
        refused["MESSAGE_DATA"]["CODE"], "UNAUTHORIZED",
        "{refused:#}"
    );
    let mut admin = Client::connect(
        server.addr(),
        Connect {
            token: Some(server.engine.admin_token()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let second = print(&mut a, "RECEIPT", "TEXT", json!("another"), json!({})).await;
    let by_admin = admin
        .call(
            "PRINT",
            "CANCEL",
            json!({ "JOB_ID": second["MESSAGE_DATA"]["JOB_ID"] }),
        )
        .await
        .unwrap();
    assert_eq!(
        by_admin["MESSAGE_DATA"]["STATE"], "CANCELLED",
        "{by_admin:#}"
    );
    let own = a
        .call("PRINT", "CANCEL", json!({ "JOB_ID": id }))
        .await
        .unwrap();
    assert_eq!(own["MESSAGE_DATA"]["STATE"], "CANCELLED", "{own:#}");
}

#[tokio::test]
async fn a_scan_of_another_subnet_or_port_needs_the_admin_token() {
    let server = engine("access-scan", &[], &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    for params in [
        json!({ "SCAN": true, "SUBNET": "10.9.0.0/24" }),
        json!({ "SCAN": true, "PORT": 22 }),
    ] {
        let r = c
            .call("PRINT", "GET_PRINTERS", params.clone())
            .await
            .unwrap();
        assert_eq!(r["MESSAGE_DATA"]["CODE"], "UNAUTHORIZED", "{params}: {r:#}");
    }
}

//! The print queue's limits (security review, Medium): bytes of documents waiting
//! (PRINT_QUEUE_MAX_MB) and documents one client may have waiting to render
//! (PRINT_MAX_PENDING_RENDERS) are refused with PRINT_QUEUE_FULL before anything is stored; a retry of
//! an accepted job is never refused; room comes back when jobs print.
#![cfg(not(windows))]

mod print_support;

use pispas_testkit::client::Client;
use print_support::*;
use serde_json::json;

#[tokio::test]
async fn a_full_queue_refuses_new_jobs_but_not_retries_and_takes_them_again_once_printed() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let server = engine(
        "budget-bytes",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[("PRINT_QUEUE_MAX_MB", "1")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let chunk = b64(&vec![b'x'; 400 * 1024]);
    let mut accepted = Vec::new();
    let refused = loop {
        let uuid = format!("budget-{}", accepted.len());
        let r = c
            .call_with_uuid(
                &uuid,
                "PRINT",
                "PRINT",
                json!({ "FORMAT": "RAW", "DATA": chunk }),
            )
            .await
            .unwrap();
        if r["MESSAGE_EXEC"] == "FAILURE" {
            break r;
        }
        // The first waits for paper; the others wait in line behind it.
        assert_eq!(r["MESSAGE_DATA"]["REASON"], "PAPER_OUT", "{r:#}");
        accepted.push(uuid);
        assert!(accepted.len() < 10, "the limit never came");
    };
    assert_eq!(
        refused["MESSAGE_DATA"]["CODE"], "PRINT_QUEUE_FULL",
        "{refused:#}"
    );
    assert_eq!(
        accepted.len(),
        2,
        "two 400 KiB jobs fit in 1 MiB, a third does not"
    );
    let jobs = c.call("PRINT", "JOBS", json!({})).await.unwrap();
    assert_eq!(
        jobs["MESSAGE_DATA"]["JOBS"].as_array().unwrap().len(),
        2,
        "nothing of the refused job was stored"
    );
    // The POS retrying an accepted job gets that job, not a refusal.
    let again = c
        .call_with_uuid(
            &accepted[0],
            "PRINT",
            "PRINT",
            json!({ "FORMAT": "RAW", "DATA": chunk }),
        )
        .await
        .unwrap();
    assert_eq!(again["MESSAGE_DATA"]["DUPLICATE"], true, "{again:#}");
    sim.set_paper(Paper::Ok);
    c.call("PRINT", "STATUS", json!({})).await.unwrap();
    // Room is freed as the worker records each job delivered (then its JOB event goes out).
    for uuid in &accepted {
        c.wait_for(|v| {
            v["MESSAGE_TYPE"] == "EVENT"
                && v["MESSAGE_UUID"] == uuid.as_str()
                && v["MESSAGE_DATA"]["JOB"]["STATE"] == "DELIVERED"
        })
        .await
        .unwrap();
    }
    let later = c
        .call("PRINT", "PRINT", json!({ "FORMAT": "RAW", "DATA": chunk }))
        .await
        .unwrap();
    assert_eq!(
        later["MESSAGE_EXEC"], "SUCCESS",
        "room came back: {later:#}"
    );
}

#[tokio::test]
async fn one_client_cannot_keep_every_render_waiting() {
    let sim = tcp_printer().await;
    sim.set_paper(Paper::Out);
    let server = engine(
        "budget-renders",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[("PRINT_MAX_PENDING_RENDERS", "2")],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let image = b64(&pattern_png(576, 8));
    for _ in 0..2 {
        let r = print(&mut c, "RECEIPT", "IMAGE", json!(image), json!({})).await;
        assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    }
    let r = print(&mut c, "RECEIPT", "IMAGE", json!(image), json!({})).await;
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "PRINT_QUEUE_FULL", "{r:#}");
    // Text needs no render: the same client may still queue it.
    let t = print(&mut c, "RECEIPT", "TEXT", json!("ok"), json!({})).await;
    assert_eq!(t["MESSAGE_EXEC"], "SUCCESS", "{t:#}");
}

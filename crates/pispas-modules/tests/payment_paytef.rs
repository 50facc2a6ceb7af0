//! PAYTEF end to end: the engine on real sockets, the Paytef simulator (pispas-sim, written from
//! the protocol notes) on real HTTP, local and cloud. Approve, decline, a wrong PIN that is then
//! approved (never reported declined), cancel by the customer and from the till (also one the
//! pinpad ignores), busy (HTTP 500), approval replies lost (getLastResult), the start reply lost
//! (polled, never started again), a pinpad that restarts (UNKNOWN_OUTCOME), the same UUIDV4
//! twice, refunds, and the cloud's expired token and start without a session.

mod payment_support;

use payment_support::*;
use pispas_sim::paytef::{PaytefScenario, PaytefSim, PaytefState};
use pispas_testkit::client::{next_uuid, request_text, Client};
use pispas_testkit::{start_engine, TestEngine};
use serde_json::json;

async fn engine(name: &str, sim: &PaytefSim) -> TestEngine {
    let keys = paytef_keys(sim);
    let mut values: Vec<(&str, &str)> = vec![("MODULES", "base,paytef"), ("ADMIN_TOKEN", ADMIN)];
    values.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    start_engine(name, &values).await
}

async fn sale(c: &mut Client, uuid: &str, amount: u64) -> serde_json::Value {
    c.call_with_uuid(uuid, "PAYTEF", "SALE", json!({ "AMOUNT": amount }))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_approved_sale_starts_once_with_the_uuid_as_reference_and_keeps_the_masked_card() {
    let sim = paytef_sim(PaytefScenario::SlowCard, false).await;
    let e = engine("paytef-approve", &sim).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 1250).await;
    let d = ok(&r);
    assert_eq!(d["STATE"], "APPROVED");
    assert_eq!(d["CARD"], "************0010");
    assert!(d["AUTH_CODE"].as_str().is_some_and(|a| !a.is_empty()));
    assert!(!d["RECEIPT"].as_array().unwrap().is_empty());
    assert_eq!(sim.starts(), 1);
    let start = &sim.requests_to("/transaction/start")[0];
    assert_eq!(start.reference.as_deref(), Some(uuid.as_str()));
    assert_eq!(start.body["requestedAmount"], 1250);
    let mut stages = Vec::new();
    while let Ok(Ok(ev)) = tokio::time::timeout(
        std::time::Duration::ZERO,
        c.wait_for(|v| v["MESSAGE_TYPE"] == "EVENT"),
    )
    .await
    {
        stages.push(ev["MESSAGE_DATA"]["STAGE"].as_str().unwrap().to_string());
    }
    assert_eq!(
        stages.first().map(String::as_str),
        Some("SENT"),
        "{stages:?}"
    );
    assert!(stages.iter().any(|s| s == "READING_CARD"), "{stages:?}");
    // The same UUIDV4 again: the journaled outcome, nothing started.
    let r = sale(&mut c, &uuid, 1250).await;
    assert_eq!(ok(&r)["REPLAYED"], true);
    assert_eq!(sim.starts(), 1);
    // A refund of it.
    let r = c
        .call(
            "PAYTEF",
            "REFUND",
            json!({ "AMOUNT": 250, "ORIGINAL": uuid }),
        )
        .await
        .unwrap();
    assert_eq!(ok(&r)["OPERATION"], "REFUND");
    assert_eq!(
        sim.requests_to("/transaction/start")[1].body["opType"],
        "refund"
    );
    assert_no_full_pan(&e.dir);
}

#[tokio::test]
async fn declined_is_declined_but_a_wrong_pin_that_is_then_approved_is_approved() {
    let sim = paytef_sim(PaytefScenario::Declined, false).await;
    let e = engine("paytef-decline", &sim).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let r = sale(&mut c, &next_uuid(), 500).await;
    assert_eq!(code(&r), "PAYMENT_DECLINED");
    assert_eq!(details(&r)["STATE"], "DECLINED");
    sim.set_scenario(PaytefScenario::DeclinedThenApproved);
    let r = sale(&mut c, &next_uuid(), 500).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    sim.set_scenario(PaytefScenario::CancelledByCustomer);
    let r = sale(&mut c, &next_uuid(), 500).await;
    assert_eq!(code(&r), "PAYMENT_CANCELLED");
    assert_eq!(sim.approved().len(), 1);
}

#[tokio::test]
async fn a_busy_pinpad_is_terminal_busy_and_nothing_is_charged() {
    let sim = paytef_sim(PaytefScenario::Busy, false).await;
    let e = engine("paytef-busy", &sim).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let r = sale(&mut c, &next_uuid(), 500).await;
    assert_eq!(code(&r), "TERMINAL_BUSY", "{r:#}");
    assert_eq!(details(&r)["STATE"], "CANCELLED");
    assert!(sim.approved().is_empty());
}

#[tokio::test]
async fn lost_approval_replies_are_reconciled_with_get_last_result_and_never_started_again() {
    let sim = paytef_sim(PaytefScenario::ReplyLost, false).await;
    let e = engine("paytef-lost", &sim).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 800).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    assert!(!sim.requests_to("/pinpad/getLastResult").is_empty());
    assert_eq!(sim.starts(), 1);
    // The start reply lost: polled, not started again.
    sim.set_scenario(PaytefScenario::StartReplyLost);
    let r = sale(&mut c, &next_uuid(), 900).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    assert_eq!(sim.starts(), 2, "one start per payment");
    assert_eq!(sim.approved().len(), 2);
}

#[tokio::test]
async fn a_pinpad_that_restarts_mid_payment_gives_unknown_outcome_until_an_admin_resolves_it() {
    let sim = paytef_sim(PaytefScenario::Restarted, false).await;
    let e = engine("paytef-unknown", &sim).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 1999).await;
    assert_eq!(code(&r), "PAYMENT_UNKNOWN_OUTCOME", "{r:#}");
    assert!(r["MESSAGE_DATA"]["MESSAGE"]
        .as_str()
        .unwrap()
        .contains(&uuid));
    assert_eq!(sim.starts(), 1);
    let mut support = admin(e.addr()).await;
    let r = support
        .call(
            "PAYTEF",
            "PAYMENT_RESOLVE",
            json!({ "PAYMENT": uuid, "OUTCOME": "DECLINED" }),
        )
        .await
        .unwrap();
    assert_eq!(ok(&r)["STATE"], "DECLINED");
}

#[tokio::test]
async fn cancel_from_the_till_cancels_and_a_cancel_the_pinpad_ignores_reports_the_true_outcome() {
    let sim = paytef_sim(PaytefScenario::Timeout, false).await;
    let e = engine("paytef-cancel", &sim).await;
    let mut a = Client::plain(e.addr()).await.unwrap();
    let mut b = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    a.send_text(request_text(
        &uuid,
        "PAYTEF",
        "SALE",
        json!({ "AMOUNT": 700 }),
    ))
    .await
    .unwrap();
    sim.wait_until("a running transaction", WAIT, |s| {
        matches!(s.state(), PaytefState::Running(_)).then_some(())
    })
    .await
    .unwrap();
    let r = b
        .call("PAYTEF", "CANCEL", json!({ "PAYMENT": uuid }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["CANCEL_REQUESTED"], true);
    assert_eq!(code(&a.reply_to(&uuid).await.unwrap()), "PAYMENT_CANCELLED");
    // The pinpad says "cancelled" but goes on and approves: the POS is told APPROVED.
    sim.set_scenario(PaytefScenario::CancelIgnored);
    let uuid = next_uuid();
    a.send_text(request_text(
        &uuid,
        "PAYTEF",
        "SALE",
        json!({ "AMOUNT": 700 }),
    ))
    .await
    .unwrap();
    sim.wait_until("a running transaction", WAIT, |s| {
        matches!(s.state(), PaytefState::Running(_)).then_some(())
    })
    .await
    .unwrap();
    let r = b.call("PAYTEF", "CANCEL", json!({})).await.unwrap();
    assert_eq!(ok(&r)["CANCEL_REQUESTED"], true);
    assert_eq!(ok(&a.reply_to(&uuid).await.unwrap())["STATE"], "APPROVED");
}

#[tokio::test]
async fn the_cloud_reauthorizes_an_expired_token_and_polls_by_pinpad_without_a_session() {
    let sim = paytef_sim(PaytefScenario::TokenExpired, true).await;
    let e = engine("paytef-cloud", &sim).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let r = sale(&mut c, &next_uuid(), 1500).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    assert!(
        sim.requests_to("/authorize/").len() >= 2,
        "authorized again after the expiry"
    );
    sim.set_scenario(PaytefScenario::NoSession);
    let r = sale(&mut c, &next_uuid(), 1500).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    assert_eq!(sim.starts(), 2);
    let r = c
        .call("PAYTEF", "STATUS", json!({ "TERMINAL": "DEFAULT" }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["REACHABLE"], true);
    assert_eq!(ok(&r)["CLOUD"], true);
}

#[tokio::test]
async fn a_pinpad_that_never_finishes_is_cancelled_at_payment_timeout_and_reconciled() {
    let sim = paytef_sim(PaytefScenario::Timeout, false).await;
    let keys = paytef_keys(&sim);
    let mut values: Vec<(&str, &str)> =
        vec![("MODULES", "base,paytef"), ("PAYMENT_TIMEOUT_S", "5")];
    values.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let e = start_engine("paytef-timeout", &values).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let r = sale(&mut c, &next_uuid(), 650).await;
    // The pinpad is told to stop (a card tapped later would be a charge nobody waits for), and
    // the outcome is what it then reports.
    assert_eq!(code(&r), "PAYMENT_CANCELLED", "{r:#}");
    assert!(r["MESSAGE_DATA"]["MESSAGE"]
        .as_str()
        .unwrap()
        .contains("reconciliation"));
    assert_eq!(sim.cancels(), 1);
    assert_eq!(sim.starts(), 1, "never started again");
}

//! The local Paytef pinpad simulator over real HTTP, driven by a plain client: every scenario
//! from the outside, as a driver would meet it. Polls are plain loops on a waiter-free client
//! side; the simulator's own waiters are used to wait without sleeping.

mod common;

use common::http::{post, Reply};
use pispas_sim::payment::TEST_PANS;
use pispas_sim::paytef::{
    CardStatus, Outcome, PaytefOptions, PaytefScenario, PaytefSim, PaytefState,
};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn sim(scenario: PaytefScenario) -> PaytefSim {
    PaytefSim::start(PaytefOptions {
        scenario,
        step: Duration::from_millis(10),
        slow: Duration::from_millis(300),
        ..PaytefOptions::default()
    })
    .await
    .expect("start")
}

fn sale(reference: &str, cents: u64) -> Value {
    json!({
        "pinpad": "*", "opType": "sale", "requestedAmount": cents,
        "transactionReference": reference, "executeOptions": {"method": "polling"},
        "language": "es", "createReceipt": true, "requireConfirmation": false,
        "showResultSeconds": 5
    })
}

async fn start(sim: &PaytefSim, reference: &str) -> (u16, Value) {
    post(
        sim.addr(),
        "/transaction/start",
        &sale(reference, 1250),
        None,
    )
    .await
    .answer()
}

async fn poll(sim: &PaytefSim) -> Reply {
    post(
        sim.addr(),
        "/transaction/poll",
        &json!({"pinpad": "*"}),
        None,
    )
    .await
}

/// Waits until the terminal has a final state, then polls once.
async fn poll_when_finished(sim: &PaytefSim) -> Value {
    sim.wait_until("a finished transaction", WAIT, |s| {
        matches!(s.state(), PaytefState::Finished(_)).then_some(())
    })
    .await
    .expect("finished");
    poll(sim).await.answer().1
}

async fn last_result(sim: &PaytefSim) -> Value {
    post(
        sim.addr(),
        "/pinpad/getLastResult",
        &json!({"pinpad": "*"}),
        None,
    )
    .await
    .answer()
    .1
}

#[tokio::test]
async fn status_answers_the_terminal_code_and_a_version() {
    let sim = sim(PaytefScenario::Approved).await;
    let (status, body) = post(sim.addr(), "/pinpad/status", &json!({"pinpad": "*"}), None)
        .await
        .answer();
    assert_eq!(status, 200);
    assert_eq!(body["result"]["tcod"], "SIM00001");
    assert_eq!(body["version"], pispas_sim::paytef::VERSION);
}

#[tokio::test]
async fn an_approved_sale_starts_then_polls_to_finished_with_the_result() {
    let sim = sim(PaytefScenario::Approved).await;
    let (status, body) = start(&sim, "T-1").await;
    assert_eq!(status, 200);
    assert_eq!(body["info"]["started"], true);
    let body = poll_when_finished(&sim).await;
    assert_eq!(body["info"]["transactionStatus"], "finished");
    let result = &body["result"];
    assert_eq!(result["approved"], true);
    assert_eq!(result["transactionReference"], "T-1");
    assert_eq!(result["authorisationCode"].as_str().map(str::len), Some(6));
    assert_eq!(
        result["cardInformation"]["hiddenCardNumber"],
        "************0010"
    );
    assert_eq!(result["cardInformation"]["dataEntryLetter"], "C");
    assert!(result["paytefOperationNumber"].is_string());
    assert!(result["receipt"]["merchant"]
        .as_array()
        .is_some_and(|l| !l.is_empty()));
    assert_eq!(sim.approved().len(), 1);
}

#[tokio::test]
async fn polls_show_the_card_statuses_while_it_runs() {
    let sim = sim(PaytefScenario::SlowCard).await;
    start(&sim, "T-1").await;
    sim.wait_for_state(PaytefState::Running(CardStatus::ReadingCard), WAIT)
        .await
        .expect("reading");
    let (_, body) = poll(&sim).await.answer();
    assert_eq!(body["info"]["transactionStatus"], "processing");
    assert_eq!(body["info"]["cardStatus"], "readingCard");
    assert!(body.get("result").is_none());
    let body = poll_when_finished(&sim).await;
    assert_eq!(body["result"]["approved"], true);
}

#[tokio::test]
async fn a_declined_sale_finishes_not_approved_without_an_authorisation_code() {
    let sim = sim(PaytefScenario::Declined).await;
    start(&sim, "T-1").await;
    let body = poll_when_finished(&sim).await;
    assert_eq!(body["result"]["approved"], false);
    assert_eq!(body["result"]["authorisationCode"], "");
    assert!(sim.approved().is_empty());
}

#[tokio::test]
async fn the_customer_cancelling_finishes_not_approved() {
    let sim = sim(PaytefScenario::CancelledByCustomer).await;
    start(&sim, "T-1").await;
    let body = poll_when_finished(&sim).await;
    assert_eq!(body["result"]["approved"], false);
    assert_eq!(body["result"]["resultText"], "Operación cancelada");
}

#[tokio::test]
async fn a_second_start_while_one_runs_is_http_500() {
    let sim = sim(PaytefScenario::Timeout).await;
    assert_eq!(start(&sim, "T-1").await.0, 200);
    let (status, body) = start(&sim, "T-1").await;
    assert_eq!(status, 500);
    assert!(body["error"]["code"].is_string());
    assert_eq!(sim.starts(), 2);
    assert_eq!(sim.transactions().len(), 1, "the second start ran nothing");
}

#[tokio::test]
async fn timeout_never_finishes_and_cancel_ends_it_not_approved() {
    let sim = sim(PaytefScenario::Timeout).await;
    start(&sim, "T-1").await;
    let (_, body) = poll(&sim).await.answer();
    assert_eq!(body["info"]["cardStatus"], "waitingCard");
    let (status, body) = post(sim.addr(), "/pinpad/cancel", &json!({"pinpad": "*"}), None)
        .await
        .answer();
    assert_eq!((status, &body["info"]["success"]), (200, &json!(true)));
    let body = poll_when_finished(&sim).await;
    assert_eq!(body["result"]["approved"], false);
    assert_eq!(sim.cancels(), 1);
}

#[tokio::test]
async fn busy_refuses_every_start_until_the_foreign_transaction_is_cancelled() {
    let sim = sim(PaytefScenario::Busy).await;
    assert_eq!(start(&sim, "T-1").await.0, 500);
    assert!(sim.customer_cancel());
    let (status, _) = start(&sim, "T-1").await;
    assert_eq!(status, 200);
    let body = poll_when_finished(&sim).await;
    assert_eq!(body["result"]["transactionReference"], "T-1");
}

#[tokio::test]
async fn reply_lost_approves_but_polls_get_no_reply_and_get_last_result_tells() {
    let sim = sim(PaytefScenario::ReplyLost).await;
    start(&sim, "T-1").await;
    sim.wait_for_state(PaytefState::Finished(Outcome::Approved), WAIT)
        .await
        .expect("approved");
    assert!(poll(&sim).await.is_nothing());
    assert!(poll(&sim).await.is_nothing());
    let body = last_result(&sim).await;
    assert_eq!(body["result"]["result"]["approved"], true);
    assert_eq!(body["result"]["result"]["transactionReference"], "T-1");
    assert_eq!(sim.approved().len(), 1, "the customer was charged");
}

#[tokio::test]
async fn start_reply_lost_still_runs_the_sale() {
    let sim = sim(PaytefScenario::StartReplyLost).await;
    let reply = post(sim.addr(), "/transaction/start", &sale("T-1", 1250), None).await;
    assert!(reply.is_nothing());
    assert_eq!(sim.transactions().len(), 1, "the terminal took it");
    sim.wait_for_finished(1, WAIT).await.expect("finished");
    assert_eq!(sim.approved()[0].reference.as_deref(), Some("T-1"));
}

#[tokio::test]
async fn a_restart_mid_payment_forgets_it_and_get_last_result_keeps_the_previous_one() {
    let sim = sim(PaytefScenario::Approved).await;
    start(&sim, "T-1").await;
    poll_when_finished(&sim).await;
    sim.set_scenario(PaytefScenario::Restarted);
    start(&sim, "T-2").await;
    sim.wait_for_state(PaytefState::Idle, WAIT)
        .await
        .expect("restarted");
    let (_, body) = poll(&sim).await.answer();
    assert_eq!(body["info"]["transactionStatus"], "idle");
    assert!(body.get("result").is_none());
    let body = last_result(&sim).await;
    assert_eq!(body["result"]["result"]["transactionReference"], "T-1");
}

#[tokio::test]
async fn a_restart_with_no_previous_result_leaves_get_last_result_empty() {
    let sim = sim(PaytefScenario::Restarted).await;
    start(&sim, "T-1").await;
    sim.wait_for_state(PaytefState::Idle, WAIT)
        .await
        .expect("restarted");
    assert!(last_result(&sim).await["result"]["result"].is_null());
}

#[tokio::test]
async fn cancel_ignored_answers_success_and_the_sale_is_approved_anyway() {
    let sim = sim(PaytefScenario::CancelIgnored).await;
    start(&sim, "T-1").await;
    let (_, body) = post(sim.addr(), "/pinpad/cancel", &json!({"pinpad": "*"}), None)
        .await
        .answer();
    assert_eq!(body["info"]["success"], true);
    sim.wait_for_finished(1, WAIT).await.expect("finished");
    let body = poll(&sim).await.answer().1;
    assert_eq!(body["result"]["approved"], true);
}

#[tokio::test]
async fn declined_then_approved_shows_a_finished_decline_that_later_turns_approved() {
    let sim = sim(PaytefScenario::DeclinedThenApproved).await;
    start(&sim, "T-1").await;
    sim.wait_for_state(PaytefState::Finished(Outcome::WrongPin), WAIT)
        .await
        .expect("the false decline");
    let (_, body) = poll(&sim).await.answer();
    assert_eq!(body["info"]["transactionStatus"], "finished");
    assert_eq!(body["result"]["approved"], false);
    sim.wait_for_state(PaytefState::Finished(Outcome::Approved), WAIT)
        .await
        .expect("approved after all");
    assert_eq!(
        last_result(&sim).await["result"]["result"]["approved"],
        true
    );
}

#[tokio::test]
async fn drop_next_replies_loses_exactly_that_many_replies() {
    let sim = sim(PaytefScenario::Approved).await;
    sim.drop_next_replies(1);
    let lost = post(sim.addr(), "/pinpad/status", &json!({"pinpad": "*"}), None).await;
    assert!(lost.is_nothing());
    let next = post(sim.addr(), "/pinpad/status", &json!({"pinpad": "*"}), None).await;
    assert_eq!(next.answer().0, 200);
    assert!(sim.requests()[0].dropped());
}

#[tokio::test]
async fn a_missing_op_type_is_a_403_unhandled_error() {
    let sim = sim(PaytefScenario::Approved).await;
    let body = json!({"pinpad": "*", "requestedAmount": 100});
    let (status, body) = post(sim.addr(), "/transaction/start", &body, None)
        .await
        .answer();
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "unhandledError");
}

#[tokio::test]
async fn a_refund_is_a_negative_amount_on_the_result() {
    let sim = sim(PaytefScenario::Approved).await;
    let mut body = sale("R-1", 300);
    body["opType"] = json!("refund");
    post(sim.addr(), "/transaction/start", &body, None)
        .await
        .answer();
    let body = poll_when_finished(&sim).await;
    assert_eq!(body["result"]["amountWithSign"], "-3,00");
    assert_eq!(body["result"]["operationTypeName"], "DEVOLUCION");
}

#[tokio::test]
async fn no_reply_ever_contains_a_full_test_pan() {
    let sim = sim(PaytefScenario::Approved).await;
    start(&sim, "T-1").await;
    poll_when_finished(&sim).await;
    last_result(&sim).await;
    for request in sim.requests() {
        let text = request.reply.map(|r| r.to_string()).unwrap_or_default();
        for pan in TEST_PANS {
            assert!(!text.contains(pan), "{pan} in {text}");
        }
    }
}

#[tokio::test]
async fn the_requests_are_recorded_with_their_references() {
    let sim = sim(PaytefScenario::Approved).await;
    start(&sim, "T-9").await;
    let starts = sim.wait_for_starts(1, WAIT).await.expect("a start");
    assert_eq!(starts[0].reference.as_deref(), Some("T-9"));
    assert_eq!(starts[0].body["requestedAmount"], 1250);
}

//! The Paytef Cloud variant over real HTTP: authorisation, bearer tokens, session ids (or
//! none), expired tokens as Paytef's 403 error body, and the API gateway's answer to an
//! unknown path.

mod common;

use common::http::{post, raw};
use pispas_sim::paytef::{Outcome, PaytefOptions, PaytefScenario, PaytefSim, PaytefState};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn sim(scenario: PaytefScenario) -> PaytefSim {
    PaytefSim::start(PaytefOptions {
        cloud: true,
        scenario,
        step: Duration::from_millis(10),
        ..PaytefOptions::default()
    })
    .await
    .expect("start")
}

async fn authorize(sim: &PaytefSim) -> String {
    let keys = json!({"accessKey": sim.access_key(), "secretKey": sim.secret_key()});
    let (status, body) = post(sim.addr(), "/authorize/", &keys, None).await.answer();
    assert_eq!(status, 200, "{body}");
    body["result"]["token"]
        .as_str()
        .expect("a token")
        .to_string()
}

fn sale(sim: &PaytefSim, reference: &str) -> Value {
    json!({"pinpad": sim.pinpad(), "opType": "sale", "requestedAmount": 990,
           "transactionReference": reference, "executeOptions": {"method": "polling"}})
}

#[tokio::test]
async fn the_token_is_three_base64url_parts_like_a_jwt() {
    let sim = sim(PaytefScenario::Approved).await;
    let token = authorize(&sim).await;
    assert_eq!(token.split('.').count(), 3);
    assert!(token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
}

#[tokio::test]
async fn wrong_keys_get_no_token() {
    let sim = sim(PaytefScenario::Approved).await;
    let keys = json!({"accessKey": "x", "secretKey": "y"});
    let (status, body) = post(sim.addr(), "/authorize/", &keys, None).await.answer();
    assert_eq!(status, 403);
    assert!(body["error"]["code"].is_string());
}

#[tokio::test]
async fn a_sale_runs_by_session_id() {
    let sim = sim(PaytefScenario::Approved).await;
    let token = authorize(&sim).await;
    let (status, body) = post(
        sim.addr(),
        "/transaction/start",
        &sale(&sim, "C-1"),
        Some(&token),
    )
    .await
    .answer();
    assert_eq!(status, 200);
    let session = body["info"]["sessionID"]
        .as_str()
        .expect("a session")
        .to_string();
    sim.wait_for_state(PaytefState::Finished(Outcome::Approved), WAIT)
        .await
        .expect("approved");
    let poll = json!({"pinpad": sim.pinpad(), "sessionID": session});
    let (_, body) = post(sim.addr(), "/transaction/poll", &poll, Some(&token))
        .await
        .answer();
    assert_eq!(body["result"]["approved"], true);
    assert_eq!(body["result"]["transactionReference"], "C-1");
}

#[tokio::test]
async fn every_call_without_a_token_is_refused_with_paytefs_error_body() {
    let sim = sim(PaytefScenario::Approved).await;
    let (status, body) = post(sim.addr(), "/transaction/start", &sale(&sim, "C-1"), None)
        .await
        .answer();
    assert_eq!(status, 403);
    assert!(body["error"]["description"]
        .as_str()
        .is_some_and(|d| d.contains("authorization token")));
    assert!(sim.transactions().is_empty());
}

#[tokio::test]
async fn an_unknown_path_is_the_gateways_missing_authentication_token() {
    let sim = sim(PaytefScenario::Approved).await;
    let token = authorize(&sim).await;
    let (status, body) = raw(sim.addr(), "POST", "/transaction/nope", "{}", Some(&token))
        .await
        .answer();
    assert_eq!(
        (status, body),
        (403, json!({"message": "Missing Authentication Token"}))
    );
}

#[tokio::test]
async fn no_session_starts_without_a_session_id_and_polls_by_pinpad() {
    let sim = sim(PaytefScenario::NoSession).await;
    let token = authorize(&sim).await;
    let (_, body) = post(
        sim.addr(),
        "/transaction/start",
        &sale(&sim, "C-1"),
        Some(&token),
    )
    .await
    .answer();
    assert_eq!(body["info"]["started"], true);
    assert!(body["info"].get("sessionID").is_none());
    sim.wait_for_state(PaytefState::Finished(Outcome::Approved), WAIT)
        .await
        .expect("approved");
    let poll = json!({"pinpad": sim.pinpad()});
    let (_, body) = post(sim.addr(), "/transaction/poll", &poll, Some(&token))
        .await
        .answer();
    assert_eq!(body["result"]["approved"], true);
}

#[tokio::test]
async fn token_expired_refuses_the_poll_until_reauthorised_and_the_sale_goes_on() {
    let sim = sim(PaytefScenario::TokenExpired).await;
    let token = authorize(&sim).await;
    let (status, _) = post(
        sim.addr(),
        "/transaction/start",
        &sale(&sim, "C-1"),
        Some(&token),
    )
    .await
    .answer();
    assert_eq!(status, 200);
    let poll = json!({"pinpad": sim.pinpad()});
    let (status, body) = post(sim.addr(), "/transaction/poll", &poll, Some(&token))
        .await
        .answer();
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "expiredToken");
    assert!(body["error"]["description"]
        .as_str()
        .is_some_and(|d| d.contains("authorization token")));
    let fresh = authorize(&sim).await;
    sim.wait_for_finished(1, WAIT).await.expect("finished");
    let (status, body) = post(sim.addr(), "/transaction/poll", &poll, Some(&fresh))
        .await
        .answer();
    assert_eq!(status, 200);
    assert_eq!(body["result"]["approved"], true);
    assert_eq!(sim.starts(), 1);
}

#[tokio::test]
async fn setting_token_expired_expires_the_tokens_already_issued() {
    let sim = sim(PaytefScenario::Approved).await;
    let token = authorize(&sim).await;
    sim.set_scenario(PaytefScenario::TokenExpired);
    let status = json!({"pinpad": sim.pinpad()});
    let (code, _) = post(sim.addr(), "/pinpad/status", &status, Some(&token))
        .await
        .answer();
    assert_eq!(code, 403);
}

#[tokio::test]
async fn the_config_lines_name_the_pinpad_and_the_keys() {
    let sim = sim(PaytefScenario::Approved).await;
    let lines = sim.config_lines();
    assert_eq!(
        lines[0],
        format!("PAYTEF=http://{}?pinpad=SIM00001", sim.addr())
    );
    assert_eq!(lines[1], "PAYTEF_ACCESS_KEY=sim-access-key");
    assert_eq!(lines[2], "PAYTEF_SECRET_KEY=sim-secret-key");
}

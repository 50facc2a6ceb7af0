//! MYPOS end to end: the engine on real sockets, the myPOS simulator (pispas-sim, written from
//! the protocol notes) on real TCP. Approve, decline, the same UUIDV4 twice (also at once on two
//! connections: one charge), a busy terminal, a lost reply and errors that may have charged the
//! card (reconciled with GET_STATUS), a terminal that forgets (UNKNOWN_OUTCOME, resolved by an
//! admin only), COMPLETE_TX after every purchase, refund and reversal, slave mode, the stuck
//! last transaction (STATUS=20), and bad amounts refused with nothing sent.

mod payment_support;

use payment_support::*;
use pispas_sim::mypos::{MyposScenario, TxKind};
use pispas_testkit::client::{next_uuid, Client};
use pispas_testkit::{start_engine, TestEngine};
use serde_json::json;

async fn engine(name: &str, uri: &str, extra: &[(&str, &str)]) -> TestEngine {
    let mut values = vec![
        ("MODULES", "base,mypos"),
        ("MYPOS", uri),
        ("ADMIN_TOKEN", ADMIN),
    ];
    values.extend_from_slice(extra);
    start_engine(name, &values).await
}

async fn sale(c: &mut Client, uuid: &str, amount: u64) -> serde_json::Value {
    c.call_with_uuid(
        uuid,
        "MYPOS",
        "SALE",
        json!({ "AMOUNT": amount, "REFERENCE": "T-1" }),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_approved_sale_reports_its_stages_and_completes_the_transaction() {
    let sim = mypos_sim(MyposScenario::Approved).await;
    let e = engine("mypos-approve", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 1250).await;
    let d = ok(&r);
    assert_eq!(d["STATE"], "APPROVED");
    assert_eq!(d["AMOUNT"], 1250);
    assert_eq!(d["CURRENCY"], "EUR");
    assert_eq!(d["REPLAYED"], false);
    assert_eq!(d["CARD"], "476173******0010");
    assert!(d["AUTH_CODE"].as_str().is_some_and(|a| !a.is_empty()));
    assert!(d["RECEIPT"].as_array().is_some_and(|r| !r.is_empty()));
    // Stage events came with the payment's UUIDV4, in the terminal's order, before the reply.
    let mut stages = Vec::new();
    while let Ok(ev) = tokio::time::timeout(
        std::time::Duration::ZERO,
        c.wait_for(|v| v["MESSAGE_TYPE"] == "EVENT"),
    )
    .await
    {
        let ev = ev.unwrap();
        assert_eq!(ev["MESSAGE_UUID"], uuid.as_str());
        stages.push(ev["MESSAGE_DATA"]["STAGE"].as_str().unwrap().to_string());
    }
    assert_eq!(
        stages.first().map(String::as_str),
        Some("SENT"),
        "{stages:?}"
    );
    assert!(stages.contains(&"PIN".to_string()), "{stages:?}");
    assert_eq!(
        stages.last().map(String::as_str),
        Some("FINISHED"),
        "{stages:?}"
    );
    let purchases = sim.requests_for("PURCHASE");
    assert_eq!(purchases.len(), 1);
    assert_eq!(purchases[0].get("AMOUNT"), Some("12.50"));
    assert_eq!(purchases[0].get("CURRENCY"), Some("978"));
    assert_eq!(purchases[0].get("REFERENCE"), Some("T-1"));
    assert_eq!(
        purchases[0].get("SID"),
        Some(uuid.as_str()),
        "the SID is the UUIDV4"
    );
    assert_eq!(
        sim.completes(),
        std::slice::from_ref(&uuid),
        "COMPLETE_TX after the purchase"
    );
    assert_eq!(sim.charged().len(), 1);
    // RECEIPT and JOURNAL read the stored payment.
    let r = c
        .call("MYPOS", "RECEIPT", json!({ "PAYMENT": uuid }))
        .await
        .unwrap();
    assert!(!ok(&r)["RECEIPT"].as_array().unwrap().is_empty());
    let r = c
        .call("MYPOS", "JOURNAL", json!({ "STATE": "APPROVED" }))
        .await
        .unwrap();
    assert_eq!(ok(&r).as_array().unwrap().len(), 1);
    assert_no_full_pan(&e.dir);
}

#[tokio::test]
async fn a_declined_sale_is_payment_declined_with_its_details_and_is_completed_too() {
    let sim = mypos_sim(MyposScenario::Declined).await;
    let e = engine("mypos-decline", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 500).await;
    assert_eq!(code(&r), "PAYMENT_DECLINED");
    assert_eq!(details(&r)["STATE"], "DECLINED");
    assert_eq!(details(&r)["AMOUNT"], 500);
    sim.wait_for_completes(1, WAIT).await.unwrap();
    assert!(sim.charged().is_empty());
    // The next sale is not refused with STATUS=20.
    sim.set_scenario(MyposScenario::Approved);
    let r = sale(&mut c, &next_uuid(), 500).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED");
}

#[tokio::test]
async fn the_same_uuid_on_two_connections_at_once_charges_once_and_later_replays() {
    let sim = mypos_sim(MyposScenario::SlowCard).await;
    let e = engine("mypos-twice", &mypos_uri(&sim), &[]).await;
    let mut a = Client::plain(e.addr()).await.unwrap();
    let mut b = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let (ra, rb) = tokio::join!(sale(&mut a, &uuid, 700), async {
        sim.wait_for_purchases(1, WAIT).await.unwrap();
        sale(&mut b, &uuid, 700).await
    });
    assert_eq!(ok(&ra)["STATE"], "APPROVED");
    assert_eq!(ok(&rb)["STATE"], "APPROVED");
    assert_eq!(
        ok(&rb)["REPLAYED"],
        true,
        "the second request attached to the first"
    );
    assert_eq!(ok(&ra)["AUTH_CODE"], ok(&rb)["AUTH_CODE"]);
    // After it settled, on a new connection: the journaled outcome, no new charge.
    let mut c = Client::plain(e.addr()).await.unwrap();
    let rc = sale(&mut c, &uuid, 700).await;
    assert_eq!(ok(&rc)["REPLAYED"], true);
    assert_eq!(sim.purchases(), 1, "one PURCHASE on the terminal");
    assert_eq!(sim.charged().len(), 1);
}

#[tokio::test]
async fn another_payment_on_a_busy_terminal_is_refused_at_once_and_not_journaled() {
    // Stage 1, then the terminal waits for a card until the customer cancels: busy for as long
    // as the test needs, whatever the machine's load.
    let sim = mypos_sim(MyposScenario::Timeout).await;
    let e = engine("mypos-busy", &mypos_uri(&sim), &[]).await;
    let mut a = Client::plain(e.addr()).await.unwrap();
    let mut b = Client::plain(e.addr()).await.unwrap();
    let first = next_uuid();
    a.send_text(pispas_testkit::client::request_text(
        &first,
        "MYPOS",
        "SALE",
        json!({ "AMOUNT": 100 }),
    ))
    .await
    .unwrap();
    sim.wait_for_purchases(1, WAIT).await.unwrap();
    let second = next_uuid();
    let r = sale(&mut b, &second, 200).await;
    assert_eq!(code(&r), "TERMINAL_BUSY");
    let r = b
        .call("MYPOS", "STATUS", json!({ "TERMINAL": "DEFAULT" }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["BUSY"], true);
    assert_eq!(ok(&r)["PAYMENT"]["PAYMENT"], first.as_str());
    sim.wait_until("the customer's cancel", WAIT, |s| {
        s.customer_cancel().then_some(())
    })
    .await
    .unwrap();
    assert_eq!(
        code(&a.reply_to(&first).await.unwrap()),
        "PAYMENT_CANCELLED"
    );
    let r = b.call("MYPOS", "JOURNAL", json!({})).await.unwrap();
    let journal = ok(&r).as_array().unwrap();
    assert_eq!(journal.len(), 1, "the refused payment was never journaled");
    assert_eq!(sim.purchases(), 1);
    // A transaction started on the terminal's keypad: the terminal's own BUSY.
    sim.set_scenario(MyposScenario::Busy);
    let r = sale(&mut b, &next_uuid(), 200).await;
    assert_eq!(code(&r), "TERMINAL_BUSY");
    assert_eq!(details(&r)["STATE"], "CANCELLED");
}

#[tokio::test]
async fn a_reply_lost_after_approval_is_found_by_get_status_and_never_charged_again() {
    let sim = mypos_sim(MyposScenario::ReplyLost).await;
    let e = engine("mypos-lost", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 990).await;
    let d = ok(&r);
    assert_eq!(d["STATE"], "APPROVED", "{r:#}");
    assert_eq!(d["CARD"], "476173******0010");
    let status = sim.requests_for("GET_STATUS");
    assert!(
        status
            .iter()
            .any(|s| s.get("SID_ORIGINAL") == Some(uuid.as_str())),
        "reconciled by SID"
    );
    assert_eq!(sim.purchases(), 1, "the purchase was never sent again");
    assert_eq!(sim.completes(), std::slice::from_ref(&uuid));
    // The POS's retry gets the same approval.
    let r = sale(&mut c, &uuid, 990).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED");
    assert_eq!(ok(&r)["REPLAYED"], true);
    assert_eq!(sim.purchases(), 1);
}

#[tokio::test]
async fn errors_that_may_have_charged_the_card_are_reconciled_not_declined() {
    // STATUS=15 although the bank approved: charged.
    let sim = mypos_sim(MyposScenario::CommError).await;
    let e = engine("mypos-comm", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let r = sale(&mut c, &next_uuid(), 300).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    // STATUS=12: the terminal's record says it was not processed.
    sim.set_scenario(MyposScenario::HostError);
    let r = sale(&mut c, &next_uuid(), 300).await;
    assert_eq!(code(&r), "PAYMENT_DECLINED", "{r:#}");
    assert!(!sim.requests_for("GET_STATUS").is_empty());
    assert_eq!(sim.charged().len(), 1);
}

#[tokio::test]
async fn a_terminal_that_forgets_the_payment_gives_unknown_outcome_resolved_by_an_admin_only() {
    let sim = mypos_sim(MyposScenario::Restarted).await;
    let e = engine("mypos-unknown", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 4200).await;
    assert_eq!(code(&r), "PAYMENT_UNKNOWN_OUTCOME", "{r:#}");
    assert_eq!(details(&r)["STATE"], "UNKNOWN_OUTCOME");
    let message = r["MESSAGE_DATA"]["MESSAGE"].as_str().unwrap();
    assert!(
        message.contains("DEFAULT") && message.contains(&uuid),
        "says which terminal and reference: {message}"
    );
    let r = c
        .call("MYPOS", "STATUS", json!({ "TERMINAL": "DEFAULT" }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["UNRESOLVED"], json!([uuid]));
    let r = c.call("BASE", "CHECK", json!({})).await.unwrap();
    let mypos = ok(&r)["MODULES"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["TARGET"] == "MYPOS")
        .cloned()
        .unwrap();
    assert_eq!(
        mypos["LEVEL"], "ATTENTION",
        "amber until resolved: {mypos:#}"
    );
    // A retry replays the unknown outcome; it never charges again.
    assert_eq!(
        code(&sale(&mut c, &uuid, 4200).await),
        "PAYMENT_UNKNOWN_OUTCOME"
    );
    assert_eq!(sim.purchases(), 1);
    // Only an admin resolves it, with what the terminal shows.
    let resolve =
        json!({ "PAYMENT": uuid, "OUTCOME": "DECLINED", "NOTE": "not on the terminal's list" });
    let r = c
        .call("MYPOS", "PAYMENT_RESOLVE", resolve.clone())
        .await
        .unwrap();
    assert_eq!(code(&r), "UNAUTHORIZED");
    let mut support = admin(e.addr()).await;
    let r = support
        .call("MYPOS", "PAYMENT_RESOLVE", resolve.clone())
        .await
        .unwrap();
    assert_eq!(ok(&r)["STATE"], "DECLINED");
    assert!(ok(&r)["RESOLUTION"]
        .as_str()
        .unwrap()
        .contains("administrator"));
    let r = support
        .call("MYPOS", "PAYMENT_RESOLVE", resolve)
        .await
        .unwrap();
    assert_eq!(code(&r), "BAD_PARAMS", "only unknown outcomes are resolved");
    let r = c
        .call("MYPOS", "STATUS", json!({ "TERMINAL": "DEFAULT" }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["UNRESOLVED"], json!([]));
    assert_eq!(code(&sale(&mut c, &uuid, 4200).await), "PAYMENT_DECLINED");
}

#[tokio::test]
async fn refund_and_reversal_are_journaled_and_mark_their_sale() {
    let sim = mypos_sim(MyposScenario::Approved).await;
    let e = engine("mypos-refund", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let first = next_uuid();
    ok(&sale(&mut c, &first, 1000).await);
    let refund = next_uuid();
    let r = c
        .call_with_uuid(
            &refund,
            "MYPOS",
            "REFUND",
            json!({ "AMOUNT": 400, "ORIGINAL": first }),
        )
        .await
        .unwrap();
    assert_eq!(ok(&r)["OPERATION"], "REFUND");
    assert_eq!(sim.requests_for("REFUND").len(), 1);
    let r = c
        .call("MYPOS", "JOURNAL", json!({ "STATE": "REFUNDED" }))
        .await
        .unwrap();
    assert_eq!(ok(&r)[0]["PAYMENT"], first.as_str());
    let r = c
        .call(
            "MYPOS",
            "REFUND",
            json!({ "AMOUNT": 5000, "ORIGINAL": first }),
        )
        .await
        .unwrap();
    assert_eq!(code(&r), "INVALID_AMOUNT", "more than the sale");
    // A reversal voids only the terminal's last transaction, and only when it is the named sale.
    let second = next_uuid();
    ok(&sale(&mut c, &second, 250).await);
    let r = c
        .call("MYPOS", "REVERSAL", json!({ "ORIGINAL": first }))
        .await
        .unwrap();
    assert_eq!(
        code(&r),
        "BAD_PARAMS",
        "the first sale is refunded, not approved"
    );
    let r = c
        .call("MYPOS", "REVERSAL", json!({ "ORIGINAL": second }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["OPERATION"], "REVERSAL");
    assert_eq!(sim.requests_for("REVERSAL").len(), 1);
    let r = c
        .call("MYPOS", "JOURNAL", json!({ "STATE": "REVERSED" }))
        .await
        .unwrap();
    assert_eq!(ok(&r)[0]["PAYMENT"], second.as_str());
    let sales: Vec<_> = sim
        .charged()
        .into_iter()
        .filter(|t| t.kind == TxKind::Purchase)
        .collect();
    assert_eq!(sales.len(), 1, "only the first sale stays charged");
    assert_eq!(sales[0].sid, first);
}

#[tokio::test]
async fn bad_amounts_currencies_and_terminals_are_refused_with_nothing_sent_or_journaled() {
    let sim = mypos_sim(MyposScenario::Approved).await;
    let e = engine("mypos-bad", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    for amount in [
        json!(0),
        json!(-100),
        json!(12.5),
        json!("1250"),
        json!(1_000_001),
        json!(1e300),
    ] {
        let r = c
            .call("MYPOS", "SALE", json!({ "AMOUNT": amount }))
            .await
            .unwrap();
        assert_eq!(code(&r), "INVALID_AMOUNT", "{amount}");
    }
    let r = c
        .call("MYPOS", "SALE", json!({ "AMOUNT": 100, "CURRENCY": "XXX" }))
        .await
        .unwrap();
    assert_eq!(code(&r), "BAD_PARAMS");
    let r = c
        .call(
            "MYPOS",
            "SALE",
            json!({ "AMOUNT": 100, "TERMINAL": "NOPE" }),
        )
        .await
        .unwrap();
    assert_eq!(code(&r), "DEVICE_NOT_FOUND");
    assert!(sim.requests().is_empty(), "nothing reached the terminal");
    let r = c.call("MYPOS", "JOURNAL", json!({})).await.unwrap();
    assert_eq!(ok(&r), &json!([]));
}

#[tokio::test]
async fn a_terminal_in_slave_mode_is_refused_with_what_to_change() {
    let sim = mypos_sim(MyposScenario::Slave).await;
    let e = engine("mypos-slave", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let r = sale(&mut c, &next_uuid(), 100).await;
    assert_eq!(code(&r), "TERMINAL_UNAVAILABLE");
    assert!(r["MESSAGE_DATA"]["MESSAGE"]
        .as_str()
        .unwrap()
        .contains("cash register"));
    assert!(sim.charged().is_empty());
    assert!(
        sim.requests_for("PROCESS").is_empty(),
        "nothing was relayed"
    );
}

#[tokio::test]
async fn a_stuck_last_transaction_is_completed_before_the_sale() {
    let sim = mypos_sim(MyposScenario::Stuck).await;
    let stuck = sim.pending().unwrap().sid;
    let e = engine("mypos-stuck", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    sim.set_scenario(MyposScenario::Approved);
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 100).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    assert_eq!(sim.completes(), [stuck, uuid]);
}

#[tokio::test]
async fn ping_and_status_reach_the_terminal_and_cancel_says_what_to_do() {
    let sim = mypos_sim(MyposScenario::Approved).await;
    let e = engine("mypos-ping", &mypos_uri(&sim), &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let r = c.call("MYPOS", "PING", json!({})).await.unwrap();
    assert_eq!(ok(&r)["REACHABLE"], true);
    let r = c.call("MYPOS", "STATUS", json!({})).await.unwrap();
    assert_eq!(ok(&r)[0]["REACHABLE"], true);
    assert_eq!(ok(&r)[0]["BUSY"], false);
    let r = c.call("MYPOS", "CANCEL", json!({})).await.unwrap();
    assert_eq!(code(&r), "PAYMENT_NOT_FOUND");
    let r = c
        .call("MYPOS", "RECEIPT", json!({ "PAYMENT": "nope" }))
        .await
        .unwrap();
    assert_eq!(code(&r), "PAYMENT_NOT_FOUND");
}

#[cfg(unix)]
#[tokio::test]
async fn a_terminal_on_a_serial_line_takes_a_payment_too() {
    use pispas_sim::mypos::{MyposOptions, MyposSim, MyposTransport};
    let dir = pispas_testkit::test_dir("mypos-pty");
    let sim = MyposSim::start(MyposOptions {
        transport: MyposTransport::Pty(dir.join("mypos-tty")),
        step: std::time::Duration::from_millis(20),
        timeout_secs: 2,
        ..MyposOptions::default()
    })
    .await
    .unwrap();
    let line = sim.config_line();
    let uri = line.strip_prefix("MYPOS=").unwrap();
    let e = engine("mypos-serial", uri, &[]).await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 450).await;
    assert_eq!(ok(&r)["STATE"], "APPROVED", "{r:#}");
    sim.wait_for_completes(1, WAIT).await.unwrap();
    assert_eq!(sim.purchases(), 1);
}

#[tokio::test]
async fn a_terminal_that_goes_silent_is_asked_until_payment_timeout_then_unknown_never_declined() {
    let sim = mypos_sim(MyposScenario::Timeout).await;
    let e = engine(
        "mypos-timeout",
        &mypos_uri(&sim),
        &[("PAYMENT_TIMEOUT_S", "5")],
    )
    .await;
    let mut c = Client::plain(e.addr()).await.unwrap();
    let uuid = next_uuid();
    let r = sale(&mut c, &uuid, 650).await;
    assert_eq!(code(&r), "PAYMENT_UNKNOWN_OUTCOME", "{r:#}");
    assert_eq!(sim.purchases(), 1, "never sent again");
    assert!(sim
        .requests_for("GET_STATUS")
        .iter()
        .any(|q| q.get("SID_ORIGINAL") == Some(uuid.as_str())));
}

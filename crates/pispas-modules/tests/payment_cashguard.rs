//! CASHGUARD end to end through the real `libloading` path: the engine loads the CashGuard
//! simulator (crates/pispas-cashguard-sim, a cglogics look-alike built as a shared library with
//! the same C functions) and the test plays the customer over the simulator's control channel.
//! A payment with change, the same UUIDV4 again (nothing taken or paid twice), PAYOUT_REST when
//! the change runs short, the change asked before any cash goes in, a cancel that hands the cash
//! back (regret), an admin-only payout, and the levels. One test: the library is one machine
//! per process.

mod payment_support;

use payment_support::*;
use pispas_cashguard_sim::{library_path, CgSimControl, Scenario};
use pispas_testkit::client::{next_uuid, request_text, Client};
use pispas_testkit::start_engine;
use serde_json::{json, Value};
use std::time::Duration;

fn inserted_event(uuid: &str, total: i64) -> impl Fn(&Value) -> bool + '_ {
    move |v| {
        v["MESSAGE_TYPE"] == "EVENT"
            && v["MESSAGE_UUID"] == uuid
            && v["MESSAGE_DATA"]["EVENT"] == "INSERTED"
            && v["MESSAGE_DATA"]["INSERTED"] == total
    }
}

#[tokio::test]
async fn cash_payments_with_change_rest_and_regret_through_the_vendor_library_abi() {
    let lib = library_path().expect("the simulator library is built (a dev-dependency)");
    let dir = pispas_testkit::test_dir("cashguard-state");
    let state = dir.join("cg.json");
    let uri = format!(
        "lib://{}?port=COM1&settings=control=127.0.0.1:0;state={}",
        lib.display(),
        state.display()
    );
    let e = start_engine(
        "cashguard",
        &[
            ("MODULES", "base,cashguard"),
            ("CASHGUARD", &uri),
            ("ADMIN_TOKEN", ADMIN),
        ],
    )
    .await;
    let mut sim =
        CgSimControl::from_state_file(&state, Duration::from_secs(10)).expect("control channel");
    let mut c = Client::plain(e.addr()).await.unwrap();

    let r = c.call("CASHGUARD", "STATUS", json!({})).await.unwrap();
    assert_eq!(ok(&r)["OPEN"], true, "the session was opened at start");

    // 12.50 paid with a 20.00 note: 7.50 change.
    let uuid = next_uuid();
    c.send_text(request_text(
        &uuid,
        "CASHGUARD",
        "START_PAYMENT",
        json!({ "AMOUNT": 1250 }),
    ))
    .await
    .unwrap();
    c.wait_for(inserted_event(&uuid, 0)).await.unwrap();
    sim.insert(&[2000]).unwrap();
    let r = c.reply_to(&uuid).await.unwrap();
    let d = ok(&r);
    assert_eq!(d["STATE"], "APPROVED", "{r:#}");
    assert_eq!(
        (
            d["INSERTED"].clone(),
            d["CHANGE"].clone(),
            d["REST"].clone()
        ),
        (json!(2000), json!(750), json!(0))
    );
    let stats = sim.stats().unwrap();
    assert_eq!(stats.kept_total, 1250);
    assert_eq!(stats.paid_out_total, 750);

    // The same UUIDV4 again: the journaled outcome, the machine not asked.
    let due_calls = sim.stats().unwrap().calls_to("amountDueCG").count();
    let r = c
        .call_with_uuid(
            &uuid,
            "CASHGUARD",
            "START_PAYMENT",
            json!({ "AMOUNT": 1250 }),
        )
        .await
        .unwrap();
    assert_eq!(ok(&r)["REPLAYED"], true);
    assert_eq!(
        sim.stats().unwrap().calls_to("amountDueCG").count(),
        due_calls
    );

    // Not enough change: asked before the cash goes in, when the POS says what it will get…
    sim.scenario(Scenario::NotEnoughChange).unwrap();
    let r = c
        .call(
            "CASHGUARD",
            "START_PAYMENT",
            json!({ "AMOUNT": 1250, "TENDERED": 2000 }),
        )
        .await
        .unwrap();
    assert_eq!(code(&r), "CHANGE_UNAVAILABLE", "{r:#}");
    // …and PAYOUT_REST after the sale when it did not: the cashier pays the rest.
    let uuid = next_uuid();
    c.send_text(request_text(
        &uuid,
        "CASHGUARD",
        "START_PAYMENT",
        json!({ "AMOUNT": 1250 }),
    ))
    .await
    .unwrap();
    c.wait_for(inserted_event(&uuid, 0)).await.unwrap();
    sim.insert(&[2000]).unwrap();
    let r = c.reply_to(&uuid).await.unwrap();
    let d = ok(&r);
    assert_eq!(d["STATE"], "APPROVED", "{r:#}");
    assert!(d["REST"].as_i64().unwrap() > 0, "{d:#}");
    assert_eq!(
        d["CHANGE"].as_i64().unwrap() + d["REST"].as_i64().unwrap(),
        750
    );

    // The customer changes their mind: CANCEL hands the cash back.
    sim.scenario(Scenario::PaysWithChange).unwrap();
    let uuid = next_uuid();
    c.send_text(request_text(
        &uuid,
        "CASHGUARD",
        "START_PAYMENT",
        json!({ "AMOUNT": 1250 }),
    ))
    .await
    .unwrap();
    c.wait_for(inserted_event(&uuid, 0)).await.unwrap();
    sim.insert(&[500]).unwrap();
    c.wait_for(inserted_event(&uuid, 500)).await.unwrap();
    let mut other = Client::plain(e.addr()).await.unwrap();
    let r = other
        .call("CASHGUARD", "START_PAYMENT", json!({ "AMOUNT": 100 }))
        .await
        .unwrap();
    assert_eq!(code(&r), "TERMINAL_BUSY");
    let r = other
        .call("CASHGUARD", "CANCEL", json!({ "PAYMENT": uuid }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["CANCEL_REQUESTED"], true);
    let r = c.reply_to(&uuid).await.unwrap();
    assert_eq!(code(&r), "PAYMENT_CANCELLED", "{r:#}");
    let stats = sim.stats().unwrap();
    assert_eq!(stats.regretted_total, 500);

    // A payout is for admins only, journaled like a payment.
    let r = c
        .call("CASHGUARD", "DISPENSE", json!({ "AMOUNT": 1000 }))
        .await
        .unwrap();
    assert_eq!(code(&r), "UNAUTHORIZED");
    let mut support = admin(e.addr()).await;
    let r = support
        .call("CASHGUARD", "DISPENSE", json!({ "AMOUNT": 1000 }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["DISPENSED"], 1000, "{r:#}");

    // A jam while the change is paid out: the money moved halfway, so nobody may guess.
    sim.scenario(Scenario::JamMidPayment).unwrap();
    let uuid = next_uuid();
    c.send_text(request_text(
        &uuid,
        "CASHGUARD",
        "START_PAYMENT",
        json!({ "AMOUNT": 1250 }),
    ))
    .await
    .unwrap();
    c.wait_for(inserted_event(&uuid, 0)).await.unwrap();
    sim.insert(&[2000]).unwrap();
    let r = c.reply_to(&uuid).await.unwrap();
    assert_eq!(code(&r), "PAYMENT_UNKNOWN_OUTCOME", "{r:#}");
    c.wait_for(|v| v["MESSAGE_DATA"]["EVENT"] == "CASH_ERROR")
        .await
        .unwrap();
    let r = support.call("CASHGUARD", "RESET", json!({})).await.unwrap();
    assert_eq!(ok(&r)["RESET"], true);
    let r = support
        .call("CASHGUARD", "PAYMENT_RESOLVE", json!({ "PAYMENT": uuid, "OUTCOME": "APPROVED", "NOTE": "counted: sale kept, 5.00 change short" }))
        .await
        .unwrap();
    assert_eq!(ok(&r)["STATE"], "APPROVED");

    let r = c.call("CASHGUARD", "BALANCE", json!({})).await.unwrap();
    assert!(ok(&r)["LEVELS"].as_array().unwrap().len() > 5);
    let r = support
        .call("CASHGUARD", "JOURNAL", json!({}))
        .await
        .unwrap();
    assert_eq!(
        ok(&r).as_array().unwrap().len(),
        5,
        "two sales, one cancelled, one payout, one resolved after a jam: {r:#}"
    );
}

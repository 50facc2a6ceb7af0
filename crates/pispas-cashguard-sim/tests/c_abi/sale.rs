//! Sales, change, regret and the dry-run check, through the C ABI.

use crate::common::{events, serial, wait_for, Ev, Machine};
use pispas_cashguard_sim::Scenario;

#[test]
fn a_sale_with_change_keeps_the_due_and_pays_the_difference_once() {
    let _s = serial();
    let mut m = Machine::open();
    assert_eq!(m.insert(&[2000]), 2000);
    let (ans, rest) = m.cg.amount_due(1250, "T1");
    assert_eq!((ans.code, rest), (0, 0), "{ans:?}");
    wait_for("the settled Status", |e| {
        matches!(
            e,
            Ev::Status {
                total: 0,
                status: 0,
                mode: 1
            }
        )
    });
    let st = m.ctl.stats().unwrap();
    assert_eq!(st.payouts.len(), 1, "paid out once");
    assert_eq!(st.payouts[0].pieces, vec![500, 200, 50]);
    assert_eq!(
        (st.kept_total, st.paid_out_total, st.state.inserted_now),
        (1250, 750, 0)
    );
    let call = st.calls_to("amountDueCG").next().unwrap();
    assert_eq!(call.args["transId"], "T1");
}

#[test]
fn too_little_cash_is_busy_with_what_is_still_due_until_the_customer_adds_more() {
    let _s = serial();
    let mut m = Machine::open();
    m.insert(&[1000]);
    let (ans, rest) = m.cg.amount_due(1250, "T1");
    assert_eq!((ans.code, rest), (1, 250), "{ans:?}");
    m.insert(&[200, 50]);
    let (ans, rest) = m.cg.amount_due(1250, "T1");
    assert_eq!((ans.code, rest), (0, 0), "{ans:?}");
    assert_eq!(m.ctl.stats().unwrap().paid_out_total, 0);
}

#[test]
fn change_the_stock_cannot_make_is_payout_rest_with_the_unpaid_rest() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.scenario(Scenario::NotEnoughChange).unwrap();
    m.insert(&[2000]);
    let (ans, rest) = m.cg.amount_due(1250, "T1");
    assert_eq!((ans.code, rest), (8, 750), "{ans:?}");
    let st = m.ctl.stats().unwrap();
    assert_eq!((st.kept_total, st.paid_out_total), (1250, 0));
}

#[test]
fn ask_payout_before_taking_cash_tells_whether_change_can_be_paid_and_pays_nothing() {
    let _s = serial();
    let mut m = Machine::open();
    let (ans, rest) = m.cg.ask_payout(750);
    assert_eq!((ans.code, rest), (0, 0), "{ans:?}");
    m.ctl.set_stock_exactly(&[(500, 1), (200, 1)]).unwrap();
    let (ans, rest) = m.cg.ask_payout(750);
    assert_eq!((ans.code, rest), (8, 50), "{ans:?}");
    let st = m.ctl.stats().unwrap();
    assert_eq!(st.paid_out_total, 0);
    assert_eq!(st.state.stock_total, 700);
}

#[test]
fn regret_all_returns_the_inserted_cash_and_resets_the_total() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.scenario(Scenario::CustomerCancels).unwrap();
    wait_for("the partial insert", |e| {
        matches!(e, Ev::Status { total: 700, .. })
    });
    let ans = m.cg.regret(1);
    assert_eq!(ans.code, 0, "{ans:?}");
    wait_for("the reset total", |e| {
        matches!(e, Ev::Status { total: 0, .. })
    });
    let st = m.ctl.stats().unwrap();
    assert_eq!(st.regretted_total, 700);
    assert_eq!(st.regrets[0].pieces, vec![500, 200]);
    assert_eq!(st.state.inserted_now, 0);
    let (ans, rest) = m.cg.amount_due(100, "T2");
    assert_eq!((ans.code, rest), (1, 100), "nothing left inserted: {ans:?}");
}

#[test]
fn regret_last_returns_only_the_last_insert() {
    let _s = serial();
    let mut m = Machine::open();
    m.insert(&[1000]);
    m.insert(&[200, 20]);
    assert_eq!(m.cg.regret(0).code, 0);
    wait_for("the total after regret", |e| {
        matches!(e, Ev::Status { total: 1000, .. })
    });
    assert_eq!(m.ctl.stats().unwrap().regrets[0].amount, 220);
}

#[test]
fn payout2_pays_a_withdrawal_and_refuses_one_over_the_limit_paying_nothing() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.limit(Some(1000)).unwrap();
    let (ans, rest) = m.cg.payout2(700, 0, "W1");
    assert_eq!((ans.code, rest), (0, 0), "{ans:?}");
    wait_for("the withdrawal CashSession", |e| {
        matches!(
            e,
            Ev::Session {
                info: 2,
                amount: 700,
                ..
            }
        )
    });
    let (ans, rest) = m.cg.payout2(400, 0, "W2");
    assert_eq!((ans.code, rest), (11, 400), "{ans:?}");
    assert_eq!(m.ctl.stats().unwrap().paid_out_total, 700);
}

#[test]
fn payout2_with_a_deposit_above_the_inserted_cash_is_payclear_error() {
    let _s = serial();
    let mut m = Machine::open();
    m.insert(&[500]);
    let (ans, _) = m.cg.payout2(0, 1000, "T1");
    assert_eq!(ans.code, 10, "{ans:?}");
}

#[test]
fn calls_that_need_a_session_are_closed_after_logout() {
    let _s = serial();
    let m = Machine::open();
    assert_eq!(m.cg.logout().code, 0);
    wait_for("the closed Status", |e| {
        matches!(e, Ev::Status { mode: 0, .. })
    });
    assert_eq!(m.cg.amount_due(100, "T").0.code, 5);
    assert_eq!(m.cg.ask_payout(100).0.code, 5);
    assert_eq!(m.cg.regret(1).code, 5);
    let (ans, open) = m.cg.is_open();
    assert_eq!((ans.code, open), (0, 0));
    assert_eq!(m.cg.info().0.code, 0, "infoCG needs no session");
}

#[test]
fn info_reports_the_stock_as_denomination_count_pairs() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl
        .set_stock_exactly(&[(500, 10), (1000, 8), (2000, 4)])
        .unwrap();
    let (ans, level) = m.cg.info();
    assert_eq!(ans.code, 0, "{ans:?}");
    assert!(level.contains("500:10;1000:8;2000:4;5000:0"), "{level}");
    assert!(level.starts_with("1:0;"), "{level}");
    assert!(events().iter().all(|(e, _)| !matches!(e, Ev::Error { .. })));
}

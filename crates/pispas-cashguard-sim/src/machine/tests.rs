//! The machine's rules without the FFI: sales, rests, regrets, faults, limits, warnings.

use super::*;

fn open() -> Machine {
    let mut m = Machine::new(Stock::default());
    assert_eq!(m.login("1", "ana").code, Code::Ok);
    m.take_events();
    m
}

fn levels(m: &mut Machine) -> Vec<(LevelKind, i32)> {
    m.take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::LevelWarning {
                kind, denomination, ..
            } => Some((kind, denomination)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_sale_with_enough_cash_keeps_the_due_and_pays_change_greedily() {
    let mut m = open();
    m.insert(&[2000]).unwrap();
    let r = m.amount_due(1250, "T1");
    assert_eq!((r.code, r.rest), (Code::Ok, Some(0)), "{r:?}");
    let s = m.stats();
    assert_eq!(s.payouts.len(), 1);
    assert_eq!(s.payouts[0].pieces, vec![500, 200, 50]);
    assert_eq!(
        (s.kept_total, s.paid_out_total, s.state.inserted_now),
        (1250, 750, 0)
    );
}

#[test]
fn too_little_inserted_is_busy_with_what_is_still_due() {
    let mut m = open();
    m.insert(&[500]).unwrap();
    let r = m.amount_due(1250, "T1");
    assert_eq!((r.code, r.rest), (Code::Busy, Some(750)));
    assert_eq!(m.inserted_total(), 500);
}

#[test]
fn change_the_stock_cannot_make_is_payout_rest() {
    let mut m = open();
    let all: Vec<(u32, u32)> = m.stock().denominations().map(|d| (d, 0)).collect();
    m.set_stock(&all).unwrap();
    m.insert(&[2000]).unwrap();
    let r = m.amount_due(1250, "T1");
    assert_eq!((r.code, r.rest), (Code::PayoutRest, Some(750)));
    assert_eq!(m.stats().kept_total, 1250);
}

#[test]
fn ask_payout_pays_nothing() {
    let mut m = open();
    let before = m.stock().total();
    assert_eq!(m.ask_payout(750).code, Code::Ok);
    m.set_stock(&[(1, 0), (2, 0)]).unwrap();
    let r = m.ask_payout(13_000_000);
    assert_eq!(r.code, Code::PayoutRest);
    assert_eq!(m.stock().total(), before - 50 - 100);
}

#[test]
fn regret_last_returns_the_last_insert_and_all_returns_everything() {
    let mut m = open();
    m.insert(&[1000, 200]).unwrap();
    m.insert(&[50]).unwrap();
    assert_eq!(m.regret(0).code, Code::Ok);
    assert_eq!(m.inserted_total(), 1200);
    m.regret(1);
    assert_eq!(m.inserted_total(), 0);
    assert_eq!(m.stats().regretted_total, 1250);
    assert_eq!(m.regret(7).code, Code::InputParamError);
}

#[test]
fn a_jam_refuses_calls_until_reset_and_a_hard_one_until_clear_then_reset() {
    let mut m = open();
    m.jam(false);
    assert_eq!(m.ask_payout(10).code, Code::Error);
    assert_eq!(m.reset().code, Code::Ok);
    assert_eq!(m.ask_payout(10).code, Code::Ok);
    m.jam(true);
    assert_eq!(m.reset().code, Code::Error);
    m.clear();
    assert_eq!(m.reset().code, Code::Ok);
}

#[test]
fn jam_mid_payment_pays_one_piece_and_reports_the_rest() {
    let mut m = open();
    m.arm_jam_on_next_payout();
    m.insert(&[2000]).unwrap();
    let r = m.amount_due(1250, "T1");
    assert_eq!((r.code, r.rest), (Code::Error, Some(250)));
    let s = m.stats();
    assert!(s.payouts[0].jammed);
    assert_eq!(s.paid_out_total, 500);
    assert_eq!(s.state.fault.as_deref(), Some("jam"));
}

#[test]
fn payout2_deposits_from_inserted_and_respects_the_limit() {
    let mut m = open();
    assert_eq!(m.payout2(0, 100, "T").code, Code::PayclearError);
    m.set_limit(Some(1000));
    assert_eq!(m.payout2(700, 0, "W1").code, Code::Ok);
    let r = m.payout2(400, 0, "W2");
    assert_eq!((r.code, r.rest), (Code::PayoutLimit, Some(400)));
    assert_eq!(m.stats().paid_out_total, 700);
    m.set_limit(None);
    m.insert(&[2000]).unwrap();
    assert_eq!(m.payout2(750, 1250, "S").code, Code::Ok);
    assert_eq!(m.inserted_total(), 0);
}

#[test]
fn a_payout_that_empties_a_denomination_warns_and_a_full_cassette_refuses_pieces() {
    let mut m = open();
    m.set_stock(&[(500, 1)]).unwrap();
    m.take_events();
    m.payout2(500, 0, "W").code.name();
    assert!(levels(&mut m).contains(&(LevelKind::Empty, 500)));
    m.fill(2000).unwrap();
    assert_eq!(levels(&mut m), vec![(LevelKind::Blocked, 2000)]);
    let out = m.insert(&[2000, 1000]).unwrap();
    assert_eq!(out.accepted, vec![1000]);
    assert_eq!(out.rejected, vec![(2000, "cassette full")]);
}

#[test]
fn calls_need_a_session_and_logout_waits_for_settlement() {
    let mut m = Machine::new(Stock::default());
    assert_eq!(m.amount_due(100, "T").code, Code::Closed);
    assert!(m.insert(&[100]).is_err());
    m.login("1", "ana");
    m.insert(&[100]).unwrap();
    assert_eq!(m.logout().code, Code::Busy);
    m.regret(1);
    assert_eq!(m.logout().code, Code::Ok);
}

#[test]
fn busy_counts_down_calls() {
    let mut m = open();
    m.busy_by_other_register(2);
    assert_eq!(m.ask_payout(1).code, Code::Busy);
    assert_eq!(m.info().0.code, Code::Busy);
    assert_eq!(m.ask_payout(1).code, Code::Ok);
}

//! Jams, busy, full cassettes and level warnings, through the C ABI.

use crate::common::{serial, wait_for, Ev, Machine};
use pispas_cashguard_sim::Scenario;

#[test]
fn a_jam_raises_an_error_callback_and_every_call_answers_error_until_reset() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.jam().unwrap();
    let (ev, _) = wait_for("the jam Error", |e| matches!(e, Ev::Error { .. }));
    assert!(matches!(ev, Ev::Error { code: 101, .. }), "{ev:?}");
    wait_for("the error Status", |e| {
        matches!(e, Ev::Status { status: 2, .. })
    });
    assert_eq!(m.cg.ask_payout(100).0.code, 2);
    assert_eq!(m.cg.amount_due(100, "T").0.code, 2);
    assert_eq!(m.cg.info().0.code, 2);
    assert!(
        m.ctl.insert(&[100]).is_err(),
        "a jammed machine takes no cash"
    );
    assert_eq!(m.cg.reset().code, 0);
    wait_for("the OK Status", |e| {
        matches!(e, Ev::Status { status: 0, .. })
    });
    assert_eq!(m.cg.ask_payout(100).0.code, 0);
}

#[test]
fn a_hard_jam_survives_reset_until_the_technician_clears_it() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.jam_hard().unwrap();
    wait_for("the jam Error", |e| {
        matches!(e, Ev::Error { code: 102, .. })
    });
    assert_eq!(m.cg.reset().code, 2);
    m.ctl.clear().unwrap();
    assert_eq!(
        m.cg.amount_due(100, "T").0.code,
        2,
        "still ERROR until resetCG"
    );
    assert_eq!(m.cg.reset().code, 0);
}

#[test]
fn a_jam_mid_payment_is_error_with_the_change_still_owed_and_the_part_paid_recorded() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.scenario(Scenario::JamMidPayment).unwrap();
    m.insert(&[2000]);
    let (ans, rest) = m.cg.amount_due(1250, "T9");
    assert_eq!((ans.code, rest), (2, 250), "{ans:?}");
    let (ev, _) = wait_for("the jam Error", |e| matches!(e, Ev::Error { .. }));
    assert_eq!(
        ev,
        Ev::Error {
            code: 103,
            text: "Jam while paying out".into(),
            ext: "trans=T9 paid=500 rest=250".into()
        }
    );
    let st = m.ctl.stats().unwrap();
    assert_eq!((st.paid_out_total, st.kept_total), (500, 1250));
    assert!(st.payouts[0].jammed);
    assert_eq!(m.cg.ask_payout(250).0.code, 2);
    assert_eq!(m.cg.reset().code, 0);
    let (ans, rest) = m.cg.payout2(250, 0, "T9-rest");
    assert_eq!(
        (ans.code, rest),
        (0, 0),
        "the owed change can be paid after the reset: {ans:?}"
    );
}

#[test]
fn a_busy_machine_says_so_for_three_calls_and_tells_which_register_holds_it() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.scenario(Scenario::Busy).unwrap();
    wait_for("busy by other register", |e| {
        matches!(e, Ev::Session { info: 4, .. })
    });
    for _ in 0..3 {
        assert_eq!(m.cg.ask_payout(100).0.code, 1);
    }
    assert_eq!(m.cg.ask_payout(100).0.code, 0);
}

#[test]
fn a_full_cassette_raises_blocked_and_refuses_its_notes() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.scenario(Scenario::RecyclerFull).unwrap();
    let (ev, _) = wait_for("BLOCKED", |e| matches!(e, Ev::Level { kind: 4, .. }));
    match ev {
        Ev::Level {
            denomination,
            type_str,
            denom_str,
            ..
        } => {
            assert_eq!(
                (denomination, type_str.as_str(), denom_str.as_str()),
                (2000, "BLOCKED", "20.00")
            );
        }
        other => panic!("{other:?}"),
    }
    let r = m.ctl.insert(&[2000, 1000]).unwrap();
    assert_eq!(r.accepted, vec![1000]);
    assert_eq!(r.rejected[0].piece, 2000);
}

#[test]
fn inserts_that_reach_the_high_mark_raise_high() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.set_stock(&[(1000, 149)]).unwrap();
    m.insert(&[1000]);
    wait_for("HIGH", |e| {
        matches!(
            e,
            Ev::Level {
                kind: 3,
                denomination: 1000,
                count: 150,
                ..
            }
        )
    });
}

#[test]
fn a_payout_that_empties_or_lowers_a_denomination_raises_empty_and_low() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.set_stock_exactly(&[(500, 6), (200, 1)]).unwrap();
    let (ans, _) = m.cg.payout2(700, 0, "W");
    assert_eq!(ans.code, 0, "{ans:?}");
    wait_for("LOW 5.00", |e| {
        matches!(
            e,
            Ev::Level {
                kind: 2,
                denomination: 500,
                count: 5,
                ..
            }
        )
    });
    wait_for("EMPTY 2.00", |e| {
        matches!(
            e,
            Ev::Level {
                kind: 1,
                denomination: 200,
                count: 0,
                ..
            }
        )
    });
}

//! The boundary itself: answer sizes, NULL pointers, panics, calls before initCG, options
//! from the environment.

use std::ffi::{c_int, CString};
use std::ptr::null_mut;
use std::time::Duration;

use crate::common::{cg, serial, state_file, AnswerBuf, Machine, Watchdog, ANSWER};
use pispas_cashguard_sim::control::CgSimControl;

#[test]
fn a_huge_trans_id_is_cut_to_255_bytes_and_the_answer_buffer_never_overflows() {
    let _s = serial();
    let mut m = Machine::open();
    // Multi-byte characters so the cut has to respect UTF-8 boundaries.
    let long = "€".repeat(5000);
    m.insert(&[2000]);
    let (ans, rest) = m.cg.amount_due(1250, &long);
    assert_eq!((ans.code, rest), (0, 0));
    assert!(
        ans.text.len() < ANSWER && ans.text.len() > 200,
        "{}",
        ans.text.len()
    );
    let (ans, _) = m.cg.payout2(10, 0, &long);
    assert!(ans.text.len() < ANSWER);
}

#[test]
fn null_pointers_are_input_param_errors() {
    let _s = serial();
    let m = Machine::open();
    let cg = m.cg;
    let tid = CString::new("T").unwrap();
    let mut buf = AnswerBuf::new();
    let mut rest: c_int = 0;
    // SAFETY: deliberately NULL where the contract allows the library to refuse; every other
    // pointer is valid.
    unsafe {
        assert_eq!(
            (cg.amount_due)(100, std::ptr::null(), &raw mut rest, buf.ptr()),
            4
        );
        assert!(buf.text().contains("transId"));
        assert_eq!((cg.amount_due)(100, tid.as_ptr(), null_mut(), buf.ptr()), 4);
        assert_eq!(
            (cg.amount_due)(100, tid.as_ptr(), &raw mut rest, null_mut()),
            4
        );
        assert_eq!((cg.payout2)(1, 0, tid.as_ptr(), null_mut(), buf.ptr()), 4);
        assert_eq!((cg.ask_payout)(1, null_mut(), buf.ptr()), 4);
        assert_eq!((cg.is_open)(null_mut(), buf.ptr()), 4);
        assert_eq!((cg.info)(null_mut(), buf.ptr()), 4);
        assert_eq!((cg.login)(std::ptr::null(), tid.as_ptr(), buf.ptr()), 4);
        assert_eq!((cg.regret)(1, null_mut()), 4);
        assert_eq!((cg.exit)(null_mut()), 4, "and the machine stays open");
    }
    assert_eq!(cg.ask_payout(1).0.code, 0);
    assert_eq!(cg.amount_due(0, "T").0.code, 4, "a due of zero");
    assert_eq!(cg.regret(2).code, 4, "an unknown regret type");
}

#[test]
fn a_panic_inside_the_library_is_error_with_its_message_and_the_next_call_works() {
    let _s = serial();
    let mut m = Machine::open();
    m.ctl.panic_next().unwrap();
    let (ans, _) = m.cg.ask_payout(100);
    assert_eq!(ans.code, 2);
    assert!(
        ans.text.contains("internal error in askPayout2CG"),
        "{}",
        ans.text
    );
    assert_eq!(m.cg.ask_payout(100).0.code, 0);
}

#[test]
fn calls_before_init_are_closed_and_init_without_a_port_is_port_error() {
    let _s = serial();
    let _w = Watchdog::start();
    let cg = cg();
    let _ = cg.exit();
    assert_eq!(cg.amount_due(100, "T").0.code, 5);
    assert_eq!(cg.login("1", "a").code, 5);
    assert_eq!(cg.is_open(), (cg.is_open().0, 0));
    assert_eq!(cg.init_with("", "").code, 9);
    assert_eq!(
        cg.init_with("COM1", "control=192.0.2.1:7").code,
        9,
        "control must be loopback"
    );
    assert_eq!(
        cg.init_with("COM1", "stock=7:1").code,
        4,
        "unknown denomination"
    );
    assert_eq!(
        cg.amount_due(100, "T").0.code,
        5,
        "a failed init leaves it closed"
    );
}

#[test]
fn the_control_endpoint_can_come_from_the_environment() {
    let _s = serial();
    let _w = Watchdog::start();
    let cg = cg();
    let state = state_file();
    std::env::set_var(
        "CGSIM_CONTROL",
        format!("control=127.0.0.1:0;state={}", state.display()),
    );
    let ans = cg.init_with("COM3", "vendorOption=1");
    std::env::remove_var("CGSIM_CONTROL");
    assert_eq!(ans.code, 0, "{ans:?}");
    let mut ctl = CgSimControl::from_state_file(&state, Duration::from_secs(5)).unwrap();
    let st = ctl.stats().unwrap();
    assert_eq!(st.calls[0].function, "initCG");
    assert_eq!(st.calls[0].args["portSettings"], "COM3");
    assert!(ctl.command("help").unwrap().contains("scenario"));
    assert_eq!(cg.exit().code, 0);
    assert!(!state.exists(), "exit removes the state file");
}

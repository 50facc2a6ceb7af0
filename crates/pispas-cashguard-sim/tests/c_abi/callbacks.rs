//! Where and when callbacks run: on a library thread, with nothing locked, never after exitCG.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::common::{cg, clear_events, events, serial, wait_for, Ev, Machine, HOOK};

#[test]
fn callbacks_arrive_on_a_library_thread_not_the_callers() {
    let _s = serial();
    let m = Machine::open();
    assert_eq!(m.cg.logout().code, 0);
    let (_, thread) = wait_for("the logout Status", |e| {
        matches!(e, Ev::Status { mode: 0, .. })
    });
    assert_ne!(thread, std::thread::current().id());
}

static FROM_CALLBACK: Mutex<Vec<(i16, String)>> = Mutex::new(Vec::new());

#[test]
fn a_callback_may_call_back_into_the_library_without_deadlock() {
    let _s = serial();
    let mut m = Machine::open();
    FROM_CALLBACK.lock().unwrap().clear();
    fn reenter(e: &Ev) {
        if let Ev::Status { total: 2000, .. } = e {
            let (ans, _) = cg().ask_payout(750);
            let (info, level) = cg().info();
            let mut v = FROM_CALLBACK.lock().unwrap();
            v.push((ans.code, ans.text));
            v.push((info.code, level));
        }
    }
    *HOOK.lock().unwrap() = Some(reenter);
    m.insert(&[2000]);
    let got = FROM_CALLBACK.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, 0);
    assert!(
        got[1].1.contains("2000:11"),
        "the insert is already in the stock: {}",
        got[1].1
    );
    // The callback's own calls reach the machine; a settle from inside works too.
    let (ans, rest) = m.cg.amount_due(1250, "T1");
    assert_eq!((ans.code, rest), (0, 0));
}

#[test]
fn exit_delivers_the_queued_callbacks_first_and_none_after_it_returns() {
    let _s = serial();
    let m = Machine::open();
    assert_eq!(m.cg.logout().code, 0);
    assert_eq!(m.cg.exit().code, 0);
    // Delivered before exitCG returned, without waiting.
    assert!(
        events()
            .iter()
            .any(|(e, _)| matches!(e, Ev::Status { mode: 0, .. })),
        "{:?}",
        events()
    );
    let n = events().len();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(events().len(), n);
    assert_eq!(m.cg.is_open().0.code, 5, "closed after exit");
    assert_eq!(m.cg.exit().code, 0, "a second exit is harmless");
}

static EXIT_CODE: AtomicI32 = AtomicI32::new(-1);

#[test]
fn exit_from_inside_a_callback_does_not_deadlock_and_stops_the_callbacks() {
    let _s = serial();
    let mut m = Machine::open();
    EXIT_CODE.store(-1, Ordering::SeqCst);
    fn exit_now(e: &Ev) {
        if let Ev::Status { total: 100, .. } = e {
            EXIT_CODE.store(i32::from(cg().exit().code), Ordering::SeqCst);
        }
    }
    *HOOK.lock().unwrap() = Some(exit_now);
    // Five Status callbacks queued; the first one closes the library.
    let _ = m.ctl.insert(&[100, 100, 100, 100, 100]);
    wait_for("the first Status", |e| {
        matches!(e, Ev::Status { total: 100, .. })
    });
    *HOOK.lock().unwrap() = None;
    assert_eq!(EXIT_CODE.load(Ordering::SeqCst), 0);
    std::thread::sleep(Duration::from_millis(200));
    let statuses = events()
        .iter()
        .filter(|(e, _)| matches!(e, Ev::Status { .. }))
        .count();
    assert_eq!(
        statuses,
        1,
        "the rest of the queue was dropped: {:?}",
        events()
    );
    assert_eq!(m.cg.is_open().0.code, 5);
    clear_events();
}

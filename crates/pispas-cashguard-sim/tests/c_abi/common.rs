//! Loads the built simulator library with libloading, as the engine loads cglogics.dll, and
//! wraps each C entry point in a safe function that also checks the answer buffer: every call
//! passes a 256-byte buffer followed by a canary, and fails the test if the library wrote past
//! 256 bytes or left no NUL inside them.
//!
//! The library is one machine per process (like the vendor's), so tests take [`serial`] and
//! leave it closed; a watchdog ends the process if a test hangs (a deadlock would otherwise
//! hang CI instead of failing).

use std::ffi::{c_char, c_int, c_short, CStr, CString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use libloading::Library;
use pispas_cashguard_sim::control::CgSimControl;

pub(crate) const ANSWER: usize = 256;
const CANARY: u8 = 0xA5;
const CANARY_LEN: usize = 64;

pub(crate) type StatusCb = unsafe extern "C" fn(c_int, c_int, c_int);
pub(crate) type ErrorCb = unsafe extern "C" fn(c_int, *const c_char, *const c_char);
pub(crate) type LevelCb = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
);
pub(crate) type SessionCb = unsafe extern "C" fn(c_int, c_int, *const c_char);

type RegisterFn = unsafe extern "C" fn(
    Option<StatusCb>,
    Option<ErrorCb>,
    Option<LevelCb>,
    Option<SessionCb>,
) -> c_short;
type InitFn = unsafe extern "C" fn(*const c_char, *const c_char, *mut c_char) -> c_short;
type AnswerFn = unsafe extern "C" fn(*mut c_char) -> c_short;
type LoginFn = unsafe extern "C" fn(*const c_char, *const c_char, *mut c_char) -> c_short;
type IsOpenFn = unsafe extern "C" fn(*mut c_int, *mut c_char) -> c_short;
type AmountDueFn = unsafe extern "C" fn(c_int, *const c_char, *mut c_int, *mut c_char) -> c_short;
type Payout2Fn =
    unsafe extern "C" fn(c_int, c_int, *const c_char, *mut c_int, *mut c_char) -> c_short;
type AskPayoutFn = unsafe extern "C" fn(c_int, *mut c_int, *mut c_char) -> c_short;
type RegretFn = unsafe extern "C" fn(c_short, *mut c_char) -> c_short;
type InfoFn = unsafe extern "C" fn(*mut c_char, *mut c_char) -> c_short;

/// The entry points, resolved once from the library file.
pub(crate) struct Cg {
    pub register: RegisterFn,
    pub init: InitFn,
    pub exit: AnswerFn,
    pub login: LoginFn,
    pub logout: AnswerFn,
    pub is_open: IsOpenFn,
    pub amount_due: AmountDueFn,
    pub payout2: Payout2Fn,
    pub ask_payout: AskPayoutFn,
    pub regret: RegretFn,
    pub info: InfoFn,
    pub reset: AnswerFn,
    _lib: Library,
}

/// The library, loaded on first use and never unloaded (the callbacks below live in this exe).
pub(crate) fn cg() -> &'static Cg {
    static CG: OnceLock<Cg> = OnceLock::new();
    CG.get_or_init(|| {
        let path = pispas_cashguard_sim::library_path().expect("build the cdylib first");
        // SAFETY: loading our own simulator, whose initialisers only set up Rust statics; each
        // symbol is looked up with the exact type cglogics.h declares.
        unsafe {
            let lib =
                Library::new(&path).unwrap_or_else(|e| panic!("load {}: {e}", path.display()));
            macro_rules! sym {
                ($name:literal) => {
                    *lib.get($name).unwrap_or_else(|e| {
                        panic!("symbol {}: {e}", String::from_utf8_lossy($name))
                    })
                };
            }
            Cg {
                register: sym!(b"registerEvents3CG"),
                init: sym!(b"initCG"),
                exit: sym!(b"exitCG"),
                login: sym!(b"loginStrCG"),
                logout: sym!(b"logoutCG"),
                is_open: sym!(b"isOpenCG"),
                amount_due: sym!(b"amountDueCG"),
                payout2: sym!(b"payout2CG"),
                ask_payout: sym!(b"askPayout2CG"),
                regret: sym!(b"regretCG"),
                info: sym!(b"infoCG"),
                reset: sym!(b"resetCG"),
                _lib: lib,
            }
        }
    })
}

/// A returned status and the answer text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub code: i16,
    pub text: String,
}

/// An answer buffer with a canary after its 256 bytes.
pub(crate) struct AnswerBuf(Vec<u8>);

impl AnswerBuf {
    pub(crate) fn new() -> AnswerBuf {
        let mut v = vec![0x5Au8; ANSWER];
        v.extend_from_slice(&[CANARY; CANARY_LEN]);
        AnswerBuf(v)
    }
    pub(crate) fn ptr(&mut self) -> *mut c_char {
        self.0.as_mut_ptr().cast()
    }
    /// Checks the canary and the NUL, returns the text.
    pub(crate) fn text(&self) -> String {
        assert!(
            self.0[ANSWER..].iter().all(|&b| b == CANARY),
            "answer buffer overflow"
        );
        let nul = self.0[..ANSWER]
            .iter()
            .position(|&b| b == 0)
            .expect("no NUL in the 256-byte answer");
        String::from_utf8(self.0[..nul].to_vec()).expect("answer is UTF-8")
    }
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

// SAFETY (every wrapper below): the pointers passed are live CStrings, local ints and a
// 256-byte AnswerBuf, exactly what cglogics.h asks for.
impl Cg {
    fn answer(&self, f: impl FnOnce(*mut c_char) -> c_short) -> Answer {
        let mut buf = AnswerBuf::new();
        let code = f(buf.ptr());
        Answer {
            code,
            text: buf.text(),
        }
    }

    pub(crate) fn register_recorders(&self) -> i16 {
        unsafe {
            (self.register)(
                Some(on_status),
                Some(on_error),
                Some(on_level),
                Some(on_session),
            )
        }
    }
    pub(crate) fn init_with(&self, port: &str, settings: &str) -> Answer {
        let (p, s) = (c(port), c(settings));
        self.answer(|a| unsafe { (self.init)(p.as_ptr(), s.as_ptr(), a) })
    }
    pub(crate) fn exit(&self) -> Answer {
        self.answer(|a| unsafe { (self.exit)(a) })
    }
    pub(crate) fn login(&self, reg: &str, cashier: &str) -> Answer {
        let (r, k) = (c(reg), c(cashier));
        self.answer(|a| unsafe { (self.login)(r.as_ptr(), k.as_ptr(), a) })
    }
    pub(crate) fn logout(&self) -> Answer {
        self.answer(|a| unsafe { (self.logout)(a) })
    }
    pub(crate) fn is_open(&self) -> (Answer, i32) {
        let mut open = -1;
        let ans = self.answer(|a| unsafe { (self.is_open)(&raw mut open, a) });
        (ans, open)
    }
    pub(crate) fn amount_due(&self, due: i32, trans: &str) -> (Answer, i32) {
        let t = c(trans);
        let mut rest = -1;
        let ans = self.answer(|a| unsafe { (self.amount_due)(due, t.as_ptr(), &raw mut rest, a) });
        (ans, rest)
    }
    pub(crate) fn payout2(&self, dispense: i32, deposit: i32, trans: &str) -> (Answer, i32) {
        let t = c(trans);
        let mut rest = -1;
        let ans = self
            .answer(|a| unsafe { (self.payout2)(dispense, deposit, t.as_ptr(), &raw mut rest, a) });
        (ans, rest)
    }
    pub(crate) fn ask_payout(&self, amount: i32) -> (Answer, i32) {
        let mut rest = -1;
        let ans = self.answer(|a| unsafe { (self.ask_payout)(amount, &raw mut rest, a) });
        (ans, rest)
    }
    pub(crate) fn regret(&self, kind: i16) -> Answer {
        self.answer(|a| unsafe { (self.regret)(kind, a) })
    }
    pub(crate) fn info(&self) -> (Answer, String) {
        let mut level = vec![0u8; 1024];
        let ans = self.answer(|a| unsafe { (self.info)(level.as_mut_ptr().cast(), a) });
        let nul = level.iter().position(|&b| b == 0).expect("NUL in level");
        (ans, String::from_utf8(level[..nul].to_vec()).unwrap())
    }
    pub(crate) fn reset(&self) -> Answer {
        self.answer(|a| unsafe { (self.reset)(a) })
    }
}

// ---------------------------------------------------------------- recorded callbacks

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ev {
    Status {
        total: i32,
        status: i32,
        mode: i32,
    },
    Error {
        code: i32,
        text: String,
        ext: String,
    },
    Level {
        kind: i32,
        denomination: i32,
        count: i32,
        type_str: String,
        denom_str: String,
        msg: String,
    },
    Session {
        info: i32,
        amount: i32,
        ext: String,
    },
}

struct Recorded {
    events: Vec<(Ev, ThreadId)>,
}

static RECORDED: Mutex<Recorded> = Mutex::new(Recorded { events: Vec::new() });
static ARRIVED: Condvar = Condvar::new();

/// A hook the callbacks run after recording (for the re-entrancy tests).
pub(crate) static HOOK: Mutex<Option<fn(&Ev)>> = Mutex::new(None);

fn record(ev: Ev) {
    let hook = *HOOK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(h) = hook {
        h(&ev);
    }
    RECORDED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .events
        .push((ev, std::thread::current().id()));
    ARRIVED.notify_all();
}

/// # Safety
/// Called by the library with NUL-terminated strings (or NULL).
unsafe fn s(p: *const c_char) -> String {
    if p.is_null() {
        "<NULL>".into()
    } else {
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

unsafe extern "C" fn on_status(total: c_int, status: c_int, mode: c_int) {
    record(Ev::Status {
        total,
        status,
        mode,
    });
}
unsafe extern "C" fn on_error(code: c_int, text: *const c_char, ext: *const c_char) {
    record(Ev::Error {
        code,
        text: unsafe { s(text) },
        ext: unsafe { s(ext) },
    });
}
unsafe extern "C" fn on_level(
    kind: c_int,
    denomination: c_int,
    count: c_int,
    type_str: *const c_char,
    denom_str: *const c_char,
    msg: *const c_char,
    _ext: *const c_char,
) {
    let (type_str, denom_str, msg) = unsafe { (s(type_str), s(denom_str), s(msg)) };
    record(Ev::Level {
        kind,
        denomination,
        count,
        type_str,
        denom_str,
        msg,
    });
}
unsafe extern "C" fn on_session(info: c_int, amount: c_int, ext: *const c_char) {
    record(Ev::Session {
        info,
        amount,
        ext: unsafe { s(ext) },
    });
}

pub(crate) fn clear_events() {
    RECORDED.lock().unwrap().events.clear();
}

/// Every event so far, with the thread it arrived on.
pub(crate) fn events() -> Vec<(Ev, ThreadId)> {
    RECORDED.lock().unwrap().events.clone()
}

/// Waits up to 5 s for an event matching `pred`.
pub(crate) fn wait_for(what: &str, pred: impl Fn(&Ev) -> bool) -> (Ev, ThreadId) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut g = RECORDED.lock().unwrap();
    loop {
        if let Some(found) = g.events.iter().find(|(e, _)| pred(e)) {
            return found.clone();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out waiting for {what}; got {:?}",
            g.events
        );
        g = ARRIVED.wait_timeout(g, left).unwrap().0;
    }
}

// ---------------------------------------------------------------- one test's machine

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time: the library holds one machine per process.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn state_file() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "cgsim-test-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ))
}

/// An open machine with a control connection and a session (register 1, cashier ana);
/// closes the machine on drop. Hold it after `serial()`.
pub(crate) struct Machine {
    pub cg: &'static Cg,
    pub ctl: CgSimControl,
    _watchdog: Watchdog,
}

impl Machine {
    pub(crate) fn open() -> Machine {
        Machine::open_with("")
    }

    /// `extra` is appended to the initSettings.
    pub(crate) fn open_with(extra: &str) -> Machine {
        let watchdog = Watchdog::start();
        let cg = cg();
        *HOOK.lock().unwrap() = None;
        assert_eq!(cg.register_recorders(), 0);
        let state = state_file();
        let settings = format!("control=127.0.0.1:0;state={};{extra}", state.display());
        let ans = cg.init_with("COM1", &settings);
        assert_eq!(ans.code, 0, "{ans:?}");
        let ctl = CgSimControl::from_state_file(&state, Duration::from_secs(5)).unwrap();
        let ans = cg.login("1", "ana");
        assert_eq!(ans.code, 0, "{ans:?}");
        wait_for("the login Status", |e| {
            matches!(e, Ev::Status { mode: 1, .. })
        });
        clear_events();
        Machine {
            cg,
            ctl,
            _watchdog: watchdog,
        }
    }

    /// Inserts through the control channel and waits for the Status with the new total.
    pub(crate) fn insert(&mut self, pieces: &[u32]) -> i64 {
        let r = self.ctl.insert(pieces).unwrap();
        let total = r.total as i32;
        wait_for(
            "the insert's Status",
            |e| matches!(e, Ev::Status { total: t, .. } if *t == total),
        );
        r.total
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        *HOOK.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let _ = self.cg.exit();
        clear_events();
    }
}

/// Ends the process if a test takes over 60 s: a deadlocked library must fail CI, not hang it.
pub(crate) struct Watchdog(Option<std::sync::mpsc::Sender<()>>);

impl Watchdog {
    pub(crate) fn start() -> Watchdog {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                rx.recv_timeout(Duration::from_secs(60))
            {
                eprintln!("watchdog: a test hung for 60 s (deadlock in the library?)");
                std::process::exit(101);
            }
        });
        Watchdog(Some(tx))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

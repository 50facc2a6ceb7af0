//! The CashGuard vendor library (`cglogics.dll`, or the simulator built with the same exports)
//! loaded at run time with `libloading` and called through the C ABI of
//! `crates/pispas-cashguard-sim/cglogics.h`. The only `unsafe` of the payment module lives here.
//!
//! What is unsafe, and why each use is sound:
//! - loading the library runs its initialisers: the operator configured its path
//!   (`CASHGUARD=lib://…`; the key is file-only, a protocol client cannot set it);
//! - looking symbols up with the prototypes of cglogics.h: a library that exports the names with
//!   other prototypes is not a cglogics library, and the header is the contract we build to;
//! - calling them with valid pointers: every buffer is ours, of the documented size, alive for
//!   the call; out-parameters point at our locals;
//! - the callbacks: C calls them on the vendor's thread; they only copy their arguments (strings
//!   valid during the call, copied before returning) into a channel, never unwind into C
//!   (`catch_unwind`), and take no lock a call holds.
//!
//! The library is one machine per process (the vendor's model): one [`CgLibrary`] is loaded,
//! and events go to the one sink registered by the last [`CgLibrary::load`].
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_short, CStr, CString};
use std::panic::catch_unwind;
use std::path::Path;
use std::sync::{mpsc, Mutex};

use super::driver::CashMachine;

/// Bytes of every `answer` buffer (CG_ANSWER_LEN), and of `infoCG`'s level buffer.
const ANSWER_LEN: usize = 256;
const LEVEL_LEN: usize = 1024;

/// A callback from the library, copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CgEvent {
    Status {
        total_inserted: i32,
        status: i32,
        mode: i32,
    },
    Error {
        code: i32,
        text: String,
        ext: String,
    },
    LevelWarning {
        kind: i32,
        denomination: i32,
        count: i32,
        kind_text: String,
        message: String,
    },
    CashSession {
        info: i32,
        amount: i32,
        ext: String,
    },
}

/// Where callbacks go (the vendor's thread sends; the engine's receiver reads).
static SINK: Mutex<Option<mpsc::Sender<CgEvent>>> = Mutex::new(None);

fn send(event: CgEvent) {
    if let Ok(sink) = SINK.lock() {
        if let Some(tx) = sink.as_ref() {
            let _ = tx.send(event);
        }
    }
}

/// Copies a C string passed to a callback.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the duration of the callback.
unsafe fn copy(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: by the function's contract (cglogics.h: strings are valid during the callback).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

unsafe extern "C" fn on_status(total_inserted: c_int, status: c_int, mode: c_int) {
    let _ = catch_unwind(|| {
        send(CgEvent::Status {
            total_inserted,
            status,
            mode,
        })
    });
}

unsafe extern "C" fn on_error(code: c_int, text: *const c_char, ext: *const c_char) {
    // SAFETY: the library passes NUL-terminated strings valid during this call.
    let (text, ext) = unsafe { (copy(text), copy(ext)) };
    let _ = catch_unwind(|| send(CgEvent::Error { code, text, ext }));
}

unsafe extern "C" fn on_level(
    kind: c_int,
    denomination: c_int,
    count: c_int,
    kind_text: *const c_char,
    _denom_text: *const c_char,
    message: *const c_char,
    _ext: *const c_char,
) {
    // SAFETY: as in on_error.
    let (kind_text, message) = unsafe { (copy(kind_text), copy(message)) };
    let _ = catch_unwind(|| {
        send(CgEvent::LevelWarning {
            kind,
            denomination,
            count,
            kind_text,
            message,
        })
    });
}

unsafe extern "C" fn on_session(info: c_int, amount: c_int, ext: *const c_char) {
    // SAFETY: as in on_error.
    let ext = unsafe { copy(ext) };
    let _ = catch_unwind(|| send(CgEvent::CashSession { info, amount, ext }));
}

type StatusCb = unsafe extern "C" fn(c_int, c_int, c_int);
type ErrorCb = unsafe extern "C" fn(c_int, *const c_char, *const c_char);
type LevelCb = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
);
type SessionCb = unsafe extern "C" fn(c_int, c_int, *const c_char);

type Register = unsafe extern "C" fn(
    Option<StatusCb>,
    Option<ErrorCb>,
    Option<LevelCb>,
    Option<SessionCb>,
) -> c_short;
type Init = unsafe extern "C" fn(*const c_char, *const c_char, *mut c_char) -> c_short;
type Answer = unsafe extern "C" fn(*mut c_char) -> c_short;
type Login = unsafe extern "C" fn(*const c_char, *const c_char, *mut c_char) -> c_short;
type IsOpen = unsafe extern "C" fn(*mut c_int, *mut c_char) -> c_short;
type AmountDue = unsafe extern "C" fn(c_int, *const c_char, *mut c_int, *mut c_char) -> c_short;
type Payout2 =
    unsafe extern "C" fn(c_int, c_int, *const c_char, *mut c_int, *mut c_char) -> c_short;
type AskPayout2 = unsafe extern "C" fn(c_int, *mut c_int, *mut c_char) -> c_short;
type Regret = unsafe extern "C" fn(c_short, *mut c_char) -> c_short;
type Info = unsafe extern "C" fn(*mut c_char, *mut c_char) -> c_short;

/// A call's return code, its answer text, and its `int` out-parameter (0 when it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CgReply {
    pub(super) code: i16,
    pub(super) answer: String,
    pub(super) out: i32,
}

/// The loaded library and its functions.
pub(super) struct CgLibrary {
    register: Register,
    init: Init,
    exit: Answer,
    login: Login,
    logout: Answer,
    is_open: IsOpen,
    amount_due: AmountDue,
    payout2: Payout2,
    ask_payout2: AskPayout2,
    regret: Regret,
    info: Info,
    reset: Answer,
    // Last: the function pointers above are valid only while the library stays loaded.
    _lib: libloading::Library,
}

fn cstr(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

pub(super) fn text(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

impl CgLibrary {
    /// Loads the library at `path`, looks up every function of cglogics.h and registers the
    /// callbacks, which go to `events` from now on.
    ///
    /// Fails when the file cannot be loaded or lacks one of the functions.
    pub(super) fn load(path: &Path, events: mpsc::Sender<CgEvent>) -> Result<CgLibrary, String> {
        // SAFETY: loading runs the library's initialisers; the path is the operator's own
        // configuration of the vendor's library (see the file's doc).
        let lib = unsafe { libloading::Library::new(path) }
            .map_err(|e| format!("cannot load {}: {e}", path.display()))?;
        macro_rules! sym {
            ($name:literal, $ty:ty) => {{
                // SAFETY: the symbol is declared with the prototype cglogics.h gives it; the
                // pointer is copied out and used only while `_lib` keeps the library loaded.
                let s: libloading::Symbol<'_, $ty> =
                    unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| {
                        format!(
                            "{} has no {}: {e} (is it cglogics.dll?)",
                            path.display(),
                            $name
                        )
                    })?;
                *s
            }};
        }
        let library = CgLibrary {
            register: sym!("registerEvents3CG", Register),
            init: sym!("initCG", Init),
            exit: sym!("exitCG", Answer),
            login: sym!("loginStrCG", Login),
            logout: sym!("logoutCG", Answer),
            is_open: sym!("isOpenCG", IsOpen),
            amount_due: sym!("amountDueCG", AmountDue),
            payout2: sym!("payout2CG", Payout2),
            ask_payout2: sym!("askPayout2CG", AskPayout2),
            regret: sym!("regretCG", Regret),
            info: sym!("infoCG", Info),
            reset: sym!("resetCG", Answer),
            _lib: lib,
        };
        if let Ok(mut sink) = SINK.lock() {
            *sink = Some(events);
        }
        // SAFETY: the four are `extern "C"` functions of the registered prototypes, valid for
        // the life of the process (they are ours, not the library's).
        unsafe {
            (library.register)(
                Some(on_status),
                Some(on_error),
                Some(on_level),
                Some(on_session),
            )
        };
        Ok(library)
    }

    /// Calls a function that takes only `answer`.
    fn answer_only(&self, f: Answer) -> CgReply {
        let mut answer = [0u8; ANSWER_LEN];
        // SAFETY: `answer` is ours, ANSWER_LEN bytes, alive for the call.
        let code = unsafe { f(answer.as_mut_ptr().cast()) };
        CgReply {
            code,
            answer: text(&answer),
            out: 0,
        }
    }

    pub(super) fn init(&self, port: &str, settings: &str) -> CgReply {
        let (port, settings) = (cstr(port), cstr(settings));
        let mut answer = [0u8; ANSWER_LEN];
        // SAFETY: two NUL-terminated strings and an ANSWER_LEN buffer, all alive for the call.
        let code =
            unsafe { (self.init)(port.as_ptr(), settings.as_ptr(), answer.as_mut_ptr().cast()) };
        CgReply {
            code,
            answer: text(&answer),
            out: 0,
        }
    }

    pub(super) fn exit(&self) -> CgReply {
        self.answer_only(self.exit)
    }
}

impl CashMachine for CgLibrary {
    fn login(&self, register: &str, cashier: &str) -> CgReply {
        let (register, cashier) = (cstr(register), cstr(cashier));
        let mut answer = [0u8; ANSWER_LEN];
        // SAFETY: as in init.
        let code = unsafe {
            (self.login)(
                register.as_ptr(),
                cashier.as_ptr(),
                answer.as_mut_ptr().cast(),
            )
        };
        CgReply {
            code,
            answer: text(&answer),
            out: 0,
        }
    }

    fn logout(&self) -> CgReply {
        self.answer_only(self.logout)
    }

    fn is_open(&self) -> CgReply {
        let mut answer = [0u8; ANSWER_LEN];
        let mut open: c_int = 0;
        // SAFETY: `open` is our local int; the answer buffer as above.
        let code = unsafe { (self.is_open)(&raw mut open, answer.as_mut_ptr().cast()) };
        CgReply {
            code,
            answer: text(&answer),
            out: open,
        }
    }

    fn amount_due(&self, due: i32, trans: &str) -> CgReply {
        let trans = cstr(trans);
        let mut answer = [0u8; ANSWER_LEN];
        let mut rest: c_int = 0;
        // SAFETY: a NUL-terminated string, our local int and an ANSWER_LEN buffer.
        let code = unsafe {
            (self.amount_due)(
                due,
                trans.as_ptr(),
                &raw mut rest,
                answer.as_mut_ptr().cast(),
            )
        };
        CgReply {
            code,
            answer: text(&answer),
            out: rest,
        }
    }

    fn payout2(&self, dispense: i32, deposit: i32, trans: &str) -> CgReply {
        let trans = cstr(trans);
        let mut answer = [0u8; ANSWER_LEN];
        let mut rest: c_int = 0;
        // SAFETY: as in amount_due.
        let code = unsafe {
            (self.payout2)(
                dispense,
                deposit,
                trans.as_ptr(),
                &raw mut rest,
                answer.as_mut_ptr().cast(),
            )
        };
        CgReply {
            code,
            answer: text(&answer),
            out: rest,
        }
    }

    fn ask_payout2(&self, amount: i32) -> CgReply {
        let mut answer = [0u8; ANSWER_LEN];
        let mut rest: c_int = 0;
        // SAFETY: our local int and an ANSWER_LEN buffer.
        let code = unsafe { (self.ask_payout2)(amount, &raw mut rest, answer.as_mut_ptr().cast()) };
        CgReply {
            code,
            answer: text(&answer),
            out: rest,
        }
    }

    fn regret(&self, all: bool) -> CgReply {
        let mut answer = [0u8; ANSWER_LEN];
        // SAFETY: an ANSWER_LEN buffer alive for the call.
        let code = unsafe { (self.regret)(c_short::from(all), answer.as_mut_ptr().cast()) };
        CgReply {
            code,
            answer: text(&answer),
            out: 0,
        }
    }

    fn info(&self) -> (CgReply, String) {
        let mut answer = [0u8; ANSWER_LEN];
        let mut level = [0u8; LEVEL_LEN];
        // SAFETY: a LEVEL_LEN and an ANSWER_LEN buffer, ours, alive for the call.
        let code = unsafe { (self.info)(level.as_mut_ptr().cast(), answer.as_mut_ptr().cast()) };
        (
            CgReply {
                code,
                answer: text(&answer),
                out: 0,
            },
            text(&level),
        )
    }

    fn reset(&self) -> CgReply {
        self.answer_only(self.reset)
    }
}

impl Drop for CgLibrary {
    fn drop(&mut self) {
        // exitCG stops the library's threads; no callback runs after it returns, so the library
        // can be unloaded after it.
        let _ = self.exit();
    }
}

//! The C entry points of cglogics.h and the callback calls: the only `unsafe` in the crate.
//!
//! Every entry point has the same shape: check the pointers (NULL → INPUT_PARAM_ERROR), copy the
//! C strings into Rust strings, run the safe code (`instance`, `machine`) inside `catch_unwind`
//! (a panic becomes ERROR with its message, it never unwinds into C), write the out-parameters
//! and at most 256 bytes into `answer`. The unsafe operations are exactly: reading C strings,
//! writing through out-pointers, and calling the registered C callbacks; each block says which
//! promise of the C caller it relies on.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_snake_case)]

use std::ffi::{c_char, c_int, c_short, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use serde_json::json;

use crate::abi::{Code, ANSWER_LEN, LEVEL_LEN};
use crate::event::Event;
use crate::instance::{self, lock};
use crate::machine::{clamp_i32, Machine, Reply};

pub(crate) type CgStatusCb =
    unsafe extern "C" fn(total_inserted: c_int, status: c_int, mode: c_int);
pub(crate) type CgErrorCb =
    unsafe extern "C" fn(code: c_int, text: *const c_char, ext_info: *const c_char);
pub(crate) type CgLevelWarningCb = unsafe extern "C" fn(
    kind: c_int,
    denomination: c_int,
    count: c_int,
    type_str: *const c_char,
    denom_str: *const c_char,
    msg: *const c_char,
    ext: *const c_char,
);
pub(crate) type CgCashSessionCb =
    unsafe extern "C" fn(info_type: c_int, amount: c_int, ext: *const c_char);

#[derive(Clone, Copy)]
struct Callbacks {
    status: Option<CgStatusCb>,
    error: Option<CgErrorCb>,
    level: Option<CgLevelWarningCb>,
    session: Option<CgCashSessionCb>,
}

/// Kept across initCG/exitCG, like a registration made before initCG.
static CALLBACKS: Mutex<Callbacks> = Mutex::new(Callbacks {
    status: None,
    error: None,
    level: None,
    session: None,
});

/// Called on the event thread with no lock held: copies the registration, then calls.
pub(crate) fn deliver(event: &Event) {
    let cbs = *lock(&CALLBACKS);
    // A panic here (there is none to expect) must not kill the event thread.
    let _ = catch_unwind(AssertUnwindSafe(|| match event {
        Event::Status {
            total_inserted,
            status,
            mode,
        } => {
            if let Some(cb) = cbs.status {
                // SAFETY: `cb` was registered by the C caller as a CgStatusCb; the contract
                // says it stays callable until exitCG returns or it is re-registered.
                unsafe { cb(*total_inserted, *status, *mode) }
            }
        }
        Event::Error { code, text, ext } => {
            if let Some(cb) = cbs.error {
                let (text, ext) = (cstring(text), cstring(ext));
                // SAFETY: as above; both strings are NUL-terminated and outlive the call.
                unsafe { cb(*code, text.as_ptr(), ext.as_ptr()) }
            }
        }
        Event::LevelWarning {
            kind,
            denomination,
            count,
            denom_str,
            msg,
            ext,
        } => {
            if let Some(cb) = cbs.level {
                let (t, d, m, e) = (
                    cstring(kind.name()),
                    cstring(denom_str),
                    cstring(msg),
                    cstring(ext),
                );
                // SAFETY: as above; the four strings are NUL-terminated and outlive the call.
                unsafe {
                    cb(
                        *kind as c_int,
                        *denomination,
                        *count,
                        t.as_ptr(),
                        d.as_ptr(),
                        m.as_ptr(),
                        e.as_ptr(),
                    );
                }
            }
        }
        Event::CashSession {
            info_type,
            amount,
            ext,
        } => {
            if let Some(cb) = cbs.session {
                let ext = cstring(ext);
                // SAFETY: as above.
                unsafe { cb(*info_type, *amount, ext.as_ptr()) }
            }
        }
    }));
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Copies a caller's C string; None for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid during the call.
unsafe fn read_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated by the function's contract.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// Writes `text` as a NUL-terminated string of at most `cap` bytes (NUL included), cut at a
/// UTF-8 character boundary.
///
/// # Safety
/// `buf` is non-NULL and points to at least `cap` writable bytes.
unsafe fn write_text(buf: *mut c_char, cap: usize, text: &str) {
    let mut n = text.len().min(cap - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: n + 1 <= cap bytes fit in `buf` by the contract; the source is a live &str that
    // cannot overlap a caller's buffer.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
        *buf.add(n) = 0;
    }
}

/// Writes an out-parameter.
///
/// # Safety
/// `p` is non-NULL, aligned, and points to a writable `T`.
unsafe fn write_out<T>(p: *mut T, value: T) {
    // SAFETY: by the function's contract.
    unsafe { p.write(value) }
}

/// Runs one entry point's body with the panic guard and fills `answer`.
///
/// # Safety
/// `answer` is NULL or points to 256 writable bytes.
unsafe fn guard(function: &str, answer: *mut c_char, body: impl FnOnce() -> Reply) -> c_short {
    if answer.is_null() {
        let _ = catch_unwind(|| instance::with_machine(|m| m.reject(function, "answer is NULL")));
        return Code::InputParamError.as_i16();
    }
    let reply = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(std::string::ToString::to_string)
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Reply::new(Code::Error, format!("internal error in {function}: {what}"))
    });
    // SAFETY: non-NULL (checked above), 256 bytes by the contract.
    unsafe { write_text(answer, ANSWER_LEN, &reply.message) };
    reply.code.as_i16()
}

fn reject(function: &str, what: &str) -> Reply {
    let message = format!("{what} is NULL");
    instance::with_machine(|m| m.reject(function, &message))
        .unwrap_or_else(|| Reply::new(Code::InputParamError, message))
}

fn not_open(rest: i64) -> Reply {
    Machine::not_open().with_rest(rest)
}

/// Registers the four callbacks (NULL: that event is not delivered). Returns 0, or 2 on an
/// internal error.
///
/// # Safety
/// Each non-NULL pointer is a function of the documented type, callable from any thread until
/// it is re-registered or exitCG returns.
#[no_mangle]
pub(crate) unsafe extern "C" fn registerEvents3CG(
    status: Option<CgStatusCb>,
    error: Option<CgErrorCb>,
    level: Option<CgLevelWarningCb>,
    session: Option<CgCashSessionCb>,
) -> c_short {
    let r = catch_unwind(|| {
        *lock(&CALLBACKS) = Callbacks {
            status,
            error,
            level,
            session,
        };
        let args = json!({"status": status.is_some(), "error": error.is_some(), "levelWarning": level.is_some(), "cashSession": session.is_some()});
        instance::with_machine(|m| {
            m.note_call(
                "registerEvents3CG",
                args,
                Reply::new(Code::Ok, "registered"),
            )
        });
    });
    match r {
        Ok(()) => Code::Ok.as_i16(),
        Err(_) => Code::Error.as_i16(),
    }
}

/// # Safety
/// String arguments are NULL or NUL-terminated; `answer` is NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn initCG(
    port_settings: *const c_char,
    init_settings: *const c_char,
    answer: *mut c_char,
) -> c_short {
    // SAFETY (for the whole entry point): the caller's promises in `# Safety` above.
    unsafe {
        guard("initCG", answer, || {
            let Some(port) = read_str(port_settings) else {
                return reject("initCG", "portSettings");
            };
            let Some(init) = read_str(init_settings) else {
                return reject("initCG", "initSettings");
            };
            instance::init(&port, &init, deliver)
        })
    }
}

/// # Safety
/// `answer` is NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn exitCG(answer: *mut c_char) -> c_short {
    // SAFETY: the caller's promise on `answer`.
    unsafe { guard("exitCG", answer, instance::exit) }
}

/// # Safety
/// Strings NULL or NUL-terminated; `answer` NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn loginStrCG(
    cash_reg_id: *const c_char,
    cashier_id: *const c_char,
    answer: *mut c_char,
) -> c_short {
    // SAFETY: the caller's promises in `# Safety` above.
    unsafe {
        guard("loginStrCG", answer, || {
            let Some(reg) = read_str(cash_reg_id) else {
                return reject("loginStrCG", "cashRegId");
            };
            let Some(cashier) = read_str(cashier_id) else {
                return reject("loginStrCG", "cashierId");
            };
            instance::with_machine(|m| m.login(&reg, &cashier)).unwrap_or_else(|| not_open(0))
        })
    }
}

/// # Safety
/// `answer` is NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn logoutCG(answer: *mut c_char) -> c_short {
    // SAFETY: the caller's promise on `answer`.
    unsafe {
        guard("logoutCG", answer, || {
            instance::with_machine(Machine::logout).unwrap_or_else(|| not_open(0))
        })
    }
}

/// # Safety
/// `open` is NULL or a writable int; `answer` NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn isOpenCG(open: *mut c_int, answer: *mut c_char) -> c_short {
    // SAFETY: the caller's promises in `# Safety` above; `open` is checked for NULL first.
    unsafe {
        guard("isOpenCG", answer, || {
            if open.is_null() {
                return reject("isOpenCG", "open");
            }
            let (reply, is_open) =
                instance::with_machine(Machine::is_open).unwrap_or_else(|| (not_open(0), false));
            write_out(open, c_int::from(is_open));
            reply
        })
    }
}

/// # Safety
/// `trans_id` NULL or NUL-terminated; `amount_rest` NULL or a writable int; `answer` NULL or
/// 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn amountDueCG(
    amount_due: c_int,
    trans_id: *const c_char,
    amount_rest: *mut c_int,
    answer: *mut c_char,
) -> c_short {
    // SAFETY: the caller's promises in `# Safety` above; pointers are checked for NULL first.
    unsafe {
        guard("amountDueCG", answer, || {
            if amount_rest.is_null() {
                return reject("amountDueCG", "amountRest");
            }
            let Some(tid) = read_str(trans_id) else {
                return reject("amountDueCG", "transId");
            };
            let reply = instance::with_machine(|m| m.amount_due(amount_due, &tid))
                .unwrap_or_else(|| not_open(i64::from(amount_due)));
            write_out(amount_rest, clamp_i32(reply.rest.unwrap_or(0)));
            reply
        })
    }
}

/// # Safety
/// As amountDueCG.
#[no_mangle]
pub(crate) unsafe extern "C" fn payout2CG(
    amount_dispense: c_int,
    amount_deposit: c_int,
    trans_id: *const c_char,
    amount_rest: *mut c_int,
    answer: *mut c_char,
) -> c_short {
    // SAFETY: the caller's promises in `# Safety` above; pointers are checked for NULL first.
    unsafe {
        guard("payout2CG", answer, || {
            if amount_rest.is_null() {
                return reject("payout2CG", "amountRest");
            }
            let Some(tid) = read_str(trans_id) else {
                return reject("payout2CG", "transId");
            };
            let reply =
                instance::with_machine(|m| m.payout2(amount_dispense, amount_deposit, &tid))
                    .unwrap_or_else(|| not_open(i64::from(amount_dispense)));
            write_out(amount_rest, clamp_i32(reply.rest.unwrap_or(0)));
            reply
        })
    }
}

/// # Safety
/// `amount_rest` NULL or a writable int; `answer` NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn askPayout2CG(
    amount: c_int,
    amount_rest: *mut c_int,
    answer: *mut c_char,
) -> c_short {
    // SAFETY: the caller's promises in `# Safety` above; `amount_rest` is checked for NULL first.
    unsafe {
        guard("askPayout2CG", answer, || {
            if amount_rest.is_null() {
                return reject("askPayout2CG", "amountRest");
            }
            let reply = instance::with_machine(|m| m.ask_payout(amount))
                .unwrap_or_else(|| not_open(i64::from(amount)));
            write_out(amount_rest, clamp_i32(reply.rest.unwrap_or(0)));
            reply
        })
    }
}

/// # Safety
/// `answer` is NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn regretCG(kind: c_short, answer: *mut c_char) -> c_short {
    // SAFETY: the caller's promise on `answer`.
    unsafe {
        guard("regretCG", answer, || {
            instance::with_machine(|m| m.regret(kind)).unwrap_or_else(|| not_open(0))
        })
    }
}

/// # Safety
/// `level` NULL or 1024 writable bytes; `answer` NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn infoCG(level: *mut c_char, answer: *mut c_char) -> c_short {
    // SAFETY: the caller's promises in `# Safety` above; `level` is checked for NULL first.
    unsafe {
        guard("infoCG", answer, || {
            if level.is_null() {
                return reject("infoCG", "level");
            }
            let (reply, text) = instance::with_machine(Machine::info)
                .unwrap_or_else(|| (not_open(0), String::new()));
            write_text(level, LEVEL_LEN, &text);
            reply
        })
    }
}

/// # Safety
/// `answer` is NULL or 256 writable bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn resetCG(answer: *mut c_char) -> c_short {
    // SAFETY: the caller's promise on `answer`.
    unsafe {
        guard("resetCG", answer, || {
            instance::with_machine(Machine::reset).unwrap_or_else(|| not_open(0))
        })
    }
}

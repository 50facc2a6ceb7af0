//! The one simulated machine per process, like the vendor library: `initCG` builds it (machine,
//! event thread, optional control listener, state file), `exitCG` tears it down and returns only
//! when no library thread is left running, so the caller may unload the library afterwards.
//!
//! Locks: `INSTANCE` is held only to clone or take the handle, the machine's lock only while a
//! call runs (events are queued under it, to keep their order, and delivered later with nothing
//! held). No callback ever runs while either is held, so a callback may call any entry point.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::json;

use crate::abi::Code;
use crate::control::server::{ControlListener, ControlServer};
use crate::event::{Dispatcher, EventSink};
use crate::machine::stock::Stock;
use crate::machine::{Machine, Reply};
use crate::settings::{Settings, SettingsError, ENV_VAR};

/// The machine and where its events go: shared by the entry points and the control server.
pub struct Shared {
    machine: Mutex<Machine>,
    sink: EventSink,
}

impl Shared {
    /// Runs `f` on the machine, then queues the events it raised (under the same lock, so two
    /// threads' events never interleave out of order).
    pub fn with<R>(&self, f: impl FnOnce(&mut Machine) -> R) -> R {
        let mut m = lock(&self.machine);
        let r = f(&mut m);
        for e in m.take_events() {
            self.sink.send(e);
        }
        r
    }
}

struct Running {
    shared: Arc<Shared>,
    dispatcher: Dispatcher,
    control: Option<ControlServer>,
    state_file: Option<PathBuf>,
}

static INSTANCE: Mutex<Option<Running>> = Mutex::new(None);
/// Serialises initCG calls with each other (never held while a callback can run).
static INIT: Mutex<()> = Mutex::new(());

/// A panic inside a call (caught at the FFI boundary) must not make every later call fail.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn shared() -> Option<Arc<Shared>> {
    lock(&INSTANCE).as_ref().map(|r| r.shared.clone())
}

/// Runs `f` on the open machine; None before `initCG` / after `exitCG`.
pub(crate) fn with_machine<R>(f: impl FnOnce(&mut Machine) -> R) -> Option<R> {
    shared().map(|s| s.with(f))
}

pub(crate) fn init(
    port_settings: &str,
    init_settings: &str,
    deliver: fn(&crate::event::Event),
) -> Reply {
    let _serial = lock(&INIT);
    if lock(&INSTANCE).is_some() {
        return with_machine(|m| {
            m.note_call(
                "initCG",
                init_args(port_settings, init_settings),
                Reply::new(Code::Ok, "already initialised"),
            )
        })
        .unwrap_or_else(|| Reply::new(Code::Ok, "already initialised"));
    }
    if port_settings.trim().is_empty() {
        return Reply::new(
            Code::PortError,
            "portSettings is empty: expected a port such as COM1",
        );
    }
    let env = std::env::var(ENV_VAR).ok();
    let settings = match Settings::resolve(init_settings, env.as_deref()) {
        Ok(s) => s,
        Err(e @ SettingsError::Control(_)) => return Reply::new(Code::PortError, e.to_string()),
        Err(e) => return Reply::new(Code::InputParamError, e.to_string()),
    };

    // Everything that can fail happens before any thread starts, so a failure has nothing to stop.
    let mut machine = Machine::new(Stock::default());
    if let Err(e) = machine.set_stock(&settings.stock) {
        return Reply::new(Code::InputParamError, format!("stock: {e}"));
    }
    machine.set_limit(settings.limit);
    if let Some(sc) = settings.scenario {
        if let Err(e) = sc.apply(&mut machine) {
            return Reply::new(Code::InputParamError, format!("scenario={sc}: {e}"));
        }
    }
    let listener = match settings.control.map(ControlListener::bind).transpose() {
        Ok(l) => l,
        Err(e) => return Reply::new(Code::PortError, format!("control endpoint: {e}")),
    };
    let addr = listener.as_ref().map(ControlListener::addr);
    if let (Some(path), Some(addr)) = (&settings.state, addr) {
        if let Err(e) = write_state_file(path, addr, port_settings) {
            return Reply::new(Code::Error, format!("state file {}: {e}", path.display()));
        }
    }
    let (dispatcher, sink) = match Dispatcher::start(deliver) {
        Ok(d) => d,
        Err(e) => return Reply::new(Code::Error, format!("event thread: {e}")),
    };
    let shared = Arc::new(Shared {
        machine: Mutex::new(machine),
        sink,
    });
    let control = match listener
        .map(|l| ControlServer::spawn(l, shared.clone()))
        .transpose()
    {
        Ok(c) => c,
        Err(e) => {
            // Nothing is queued yet (the scenario's events are sent below), so this join
            // cannot wait on a callback.
            dispatcher.stop();
            return Reply::new(Code::Error, format!("control thread: {e}"));
        }
    };
    let mut message = format!("CashGuard simulator open on {}", port_settings.trim());
    if let Some(addr) = addr {
        message.push_str(&format!(" (control {addr})"));
        eprintln!("cgsim: control listening on {addr}");
    }
    let reply = shared.with(|m| {
        m.note_call(
            "initCG",
            init_args(port_settings, init_settings),
            Reply::new(Code::Ok, message),
        )
    });
    *lock(&INSTANCE) = Some(Running {
        shared,
        dispatcher,
        control,
        state_file: settings.state,
    });
    reply
}

fn init_args(port_settings: &str, init_settings: &str) -> serde_json::Value {
    json!({"portSettings": port_settings, "initSettings": init_settings})
}

/// Tears the machine down; returns once the control threads and the event thread have ended
/// (queued callbacks are delivered first). From inside a callback the event thread ends right
/// after that callback returns instead.
pub(crate) fn exit() -> Reply {
    let Some(running) = lock(&INSTANCE).take() else {
        return Reply::new(Code::Ok, "not initialised");
    };
    if let Some(c) = running.control {
        c.stop();
    }
    running.dispatcher.stop();
    if let Some(path) = running.state_file {
        let _ = std::fs::remove_file(path);
    }
    Reply::new(Code::Ok, "CashGuard simulator closed")
}

/// `{"control":"127.0.0.1:PORT","pid":…,"port":"COM1"}`, written whole (temp file + rename) so a
/// reader never sees half of it.
fn write_state_file(path: &Path, addr: std::net::SocketAddr, port: &str) -> std::io::Result<()> {
    let body =
        json!({"control": addr.to_string(), "pid": std::process::id(), "port": port}).to_string();
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(body.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

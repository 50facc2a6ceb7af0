//! Callbacks leave the library through a queue drained by one thread the library owns (the
//! "cgsim-events" thread), never on the caller's thread and never under a lock: the machine only
//! pushes [`Event`]s into the queue (which never blocks), and the thread hands each one to
//! [`crate::ffi::deliver`] with nothing locked, so a callback may call back into the library.
//!
//! Stopping ([`Dispatcher::stop`]) delivers what is queued and joins the thread, so no callback
//! runs after `exitCG` returns. When `exitCG` is called from inside a callback the thread cannot
//! join itself: it drops the rest of the queue and ends as soon as that callback returns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};

use crate::abi::LevelKind;

/// One callback invocation, with owned text (made into C strings only at delivery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
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
        kind: LevelKind,
        denomination: i32,
        count: i32,
        denom_str: String,
        msg: String,
        ext: String,
    },
    CashSession {
        info_type: i32,
        amount: i32,
        ext: String,
    },
}

impl Event {
    /// The key used in [`crate::stats::Stats::events`].
    pub fn name(&self) -> &'static str {
        match self {
            Event::Status { .. } => "status",
            Event::Error { .. } => "error",
            Event::LevelWarning { .. } => "level_warning",
            Event::CashSession { .. } => "cash_session",
        }
    }
}

enum Msg {
    Event(Event),
    Stop,
}

/// The sending half, cloned into everything that raises events.
#[derive(Clone)]
pub struct EventSink {
    tx: Sender<Msg>,
}

impl EventSink {
    /// Queues an event; silently dropped once the dispatcher has stopped.
    pub fn send(&self, event: Event) {
        let _ = self.tx.send(Msg::Event(event));
    }
}

/// Owns the event thread.
pub struct Dispatcher {
    tx: Sender<Msg>,
    abandoned: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
}

impl Dispatcher {
    /// Starts the thread; `deliver` is called for each event on it.
    ///
    /// Fails when the OS refuses a new thread.
    pub fn start(deliver: fn(&Event)) -> std::io::Result<(Dispatcher, EventSink)> {
        let (tx, rx) = mpsc::channel();
        let abandoned = Arc::new(AtomicBool::new(false));
        let flag = abandoned.clone();
        let thread = thread::Builder::new()
            .name("cgsim-events".into())
            .spawn(move || run(rx, flag, deliver))?;
        let thread_id = thread.thread().id();
        let sink = EventSink { tx: tx.clone() };
        Ok((
            Dispatcher {
                tx,
                abandoned,
                thread: Some(thread),
                thread_id,
            },
            sink,
        ))
    }

    /// Delivers what is queued, then ends the thread. From the thread itself (exitCG inside a
    /// callback) the queue is dropped instead and the thread ends when the callback returns.
    pub fn stop(mut self) {
        if thread::current().id() == self.thread_id {
            self.abandoned.store(true, Ordering::SeqCst);
            let _ = self.tx.send(Msg::Stop);
            // Detached: it is this very thread, which exits right after the callback.
            self.thread.take();
            return;
        }
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(rx: Receiver<Msg>, abandoned: Arc<AtomicBool>, deliver: fn(&Event)) {
    while let Ok(Msg::Event(event)) = rx.recv() {
        if abandoned.load(Ordering::SeqCst) {
            return;
        }
        deliver(&event);
        if abandoned.load(Ordering::SeqCst) {
            return;
        }
    }
}

//! The virtual printer's shared state: its condition, its ESC/POS mode, and what it has
//! received and printed (document, jobs), with the rule that what arrives while the printer is
//! not ready (offline, cover open, paper out, error) is held and printed when it is ready
//! again, as a real printer prints its buffer after the paper is changed. No I/O here.

use super::status::PrinterStatus;
use crate::document::{Document, Element};
use crate::escpos::{Command, Interpreter};
use crate::wait::Changes;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::{broadcast, watch};

/// One job: a TCP connection, one ePOS request, or (on a pty) what came between two cuts.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: usize,
    /// "tcp 127.0.0.1:50312", "pty /tmp/ttyPRN", "epos 127.0.0.1:50313".
    pub transport: String,
    pub bytes: Vec<u8>,
    pub document: Document,
    /// The connection closed (or, on a pty, the job ended with a cut).
    pub finished: bool,
    /// The printer dropped the connection mid-job (`drop_after`).
    pub dropped: bool,
}

/// Something that happened, for live viewers (the CLI).
#[derive(Debug, Clone)]
pub enum PrinterEvent {
    JobStarted { job: usize, transport: String },
    Printed { job: usize, element: Element },
    JobFinished { job: usize },
    StatusRequested { n: u8, answer: Option<u8> },
}

#[derive(Default)]
pub(crate) struct State {
    pub interp: Interpreter,
    pub received: Vec<u8>,
    pub document: Document,
    pub held: Vec<(usize, Element)>,
    pub jobs: Vec<Job>,
    pub last_job_id: usize,
    pub status_requests: Vec<u8>,
    pub drop_after: Option<usize>,
    pub slow_bytes_per_sec: Option<u32>,
}

impl State {
    /// A job by id (ids stay stable when `clear` forgets finished jobs).
    pub(crate) fn job_mut(&mut self, id: usize) -> Option<&mut Job> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    status: watch::Sender<PrinterStatus>,
    pub changes: Changes,
    pub events: broadcast::Sender<PrinterEvent>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            state: Mutex::default(),
            status: watch::channel(PrinterStatus::default()).0,
            changes: Changes::default(),
            events: broadcast::channel(4096).0,
        }
    }
}

impl Shared {
    /// The state lock. Poisoning only follows a panic in a test thread; carry on with the data.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn status(&self) -> PrinterStatus {
        *self.status.borrow()
    }

    pub(crate) fn watch_status(&self) -> watch::Receiver<PrinterStatus> {
        self.status.subscribe()
    }

    /// Changes the condition; when the printer becomes ready, held output is printed.
    pub(crate) fn update_status(&self, change: impl FnOnce(&mut PrinterStatus)) {
        self.status.send_if_modified(|s| {
            let before = *s;
            change(s);
            before != *s
        });
        if self.status().is_ready() {
            let mut st = self.lock();
            for (job, element) in std::mem::take(&mut st.held) {
                self.print_now(&mut st, job, element);
            }
        }
        self.changes.bump();
    }

    pub(crate) fn start_job(&self, transport: &str) -> usize {
        let mut st = self.lock();
        st.last_job_id += 1;
        let id = st.last_job_id;
        st.jobs.push(Job {
            id,
            transport: transport.to_string(),
            bytes: Vec::new(),
            document: Document::default(),
            finished: false,
            dropped: false,
        });
        drop(st);
        let _ = self.events.send(PrinterEvent::JobStarted {
            job: id,
            transport: transport.to_string(),
        });
        self.changes.bump();
        id
    }

    pub(crate) fn finish_job(&self, job: usize, dropped: bool) {
        if let Some(j) = self.lock().job_mut(job) {
            j.finished = true;
            j.dropped = dropped;
        }
        let _ = self.events.send(PrinterEvent::JobFinished { job });
        self.changes.bump();
    }

    /// Records raw ESC/POS bytes received for a job.
    pub(crate) fn received(&self, job: usize, bytes: &[u8]) {
        self.lock().received.extend_from_slice(bytes);
        self.job_bytes(job, bytes);
    }

    /// Records bytes in a job only (an ePOS request body is not raw ESC/POS).
    pub(crate) fn job_bytes(&self, job: usize, bytes: &[u8]) {
        if let Some(j) = self.lock().job_mut(job) {
            j.bytes.extend_from_slice(bytes);
        }
    }

    /// Applies one command to the mode state and prints (or holds) what it produced.
    /// Returns true when it printed a cut.
    pub(crate) fn apply(&self, job: usize, command: Command) -> bool {
        let mut st = self.lock();
        let Some(element) = st.interp.apply(command) else {
            return false;
        };
        let cut = matches!(element, Element::Cut(_));
        self.print(&mut st, job, element);
        cut
    }

    /// Prints an element produced elsewhere (ePOS), or holds it while not ready.
    pub(crate) fn print(&self, st: &mut State, job: usize, element: Element) {
        if self.status().is_ready() {
            self.print_now(st, job, element);
        } else {
            st.held.push((job, element));
        }
    }

    fn print_now(&self, st: &mut State, job: usize, element: Element) {
        st.document.push(element.clone());
        if let Some(j) = st.job_mut(job) {
            j.document.push(element.clone());
        }
        let _ = self.events.send(PrinterEvent::Printed { job, element });
    }

    /// Records a `DLE EOT n` and returns the answer byte, if n has one.
    pub(crate) fn status_request(&self, n: u8) -> Option<u8> {
        let answer = self.status().realtime(n);
        self.lock().status_requests.push(n);
        let _ = self
            .events
            .send(PrinterEvent::StatusRequested { n, answer });
        answer
    }

    /// Of `n` bytes just read, how many to process before dropping the connection (the drop
    /// is armed by `drop_after`; it fires once).
    pub(crate) fn drop_budget(&self, n: usize) -> (usize, bool) {
        let mut st = self.lock();
        match st.drop_after {
            Some(left) if n >= left => {
                st.drop_after = None;
                (left, true)
            }
            Some(left) => {
                st.drop_after = Some(left - n);
                (n, false)
            }
            None => (n, false),
        }
    }
}

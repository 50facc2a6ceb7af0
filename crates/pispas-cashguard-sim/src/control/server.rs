//! The control listener: an accept loop on its own thread and one thread per connection, all
//! plain std (the library must not bring a runtime into the engine's process). Every thread
//! polls a stop flag at least every 100 ms and `stop` joins them all, so none outlives `exitCG`.
//! Does not authenticate: it binds loopback only (checked in `settings.rs`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::json;

use super::command::{Command, HELP};
use crate::instance::Shared;
use crate::machine::stock::format_cents;

const POLL: Duration = Duration::from_millis(100);
const ACCEPT_POLL: Duration = Duration::from_millis(20);
const MAX_CONNECTIONS: usize = 16;
const MAX_LINE: usize = 64 * 1024;

/// A bound, not yet served, listener (binding is separate so initCG fails before any thread).
pub struct ControlListener(TcpListener);

impl ControlListener {
    /// Fails when the address cannot be bound.
    pub fn bind(addr: SocketAddr) -> io::Result<ControlListener> {
        let l = TcpListener::bind(addr)?;
        l.set_nonblocking(true)?;
        Ok(ControlListener(l))
    }

    pub fn addr(&self) -> SocketAddr {
        self.0
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }
}

pub struct ControlServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl ControlServer {
    /// Starts serving. Fails when the OS refuses a thread.
    pub fn spawn(listener: ControlListener, shared: Arc<Shared>) -> io::Result<ControlServer> {
        let addr = listener.addr();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let acceptor = thread::Builder::new()
            .name("cgsim-control".into())
            .spawn(move || accept_loop(listener.0, shared, flag))?;
        Ok(ControlServer {
            addr,
            stop,
            acceptor: Some(acceptor),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, ends every connection and joins all the threads.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    let live = Arc::new(AtomicUsize::new(0));
    let mut handlers: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                if live.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                    let _ = stream.write_all(b"ERR too many control connections\n");
                    continue;
                }
                live.fetch_add(1, Ordering::SeqCst);
                let (shared, stop, live2) = (shared.clone(), stop.clone(), live.clone());
                let spawned = thread::Builder::new()
                    .name("cgsim-control-conn".into())
                    .spawn(move || {
                        let _ = serve(stream, &shared, &stop);
                        live2.fetch_sub(1, Ordering::SeqCst);
                    });
                match spawned {
                    Ok(h) => handlers.push(h),
                    Err(_) => {
                        live.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            // A failed accept (e.g. out of descriptors) must not spin: back off and go on.
            Err(_) => thread::sleep(POLL),
        }
        handlers.retain(|h| !h.is_finished());
    }
    for h in handlers {
        let _ = h.join();
    }
}

fn serve(mut stream: TcpStream, shared: &Shared, stop: &AtomicBool) -> io::Result<()> {
    // On Windows an accepted socket inherits the listener's non-blocking mode.
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(POLL))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (reply, quit) = match Command::parse(line) {
                Ok(Command::Quit) => ("OK bye".to_owned(), true),
                Ok(cmd) => (execute(cmd, shared), false),
                Err(e) => (format!("ERR {e}"), false),
            };
            stream.write_all(reply.as_bytes())?;
            stream.write_all(b"\n")?;
            if quit {
                return Ok(());
            }
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if buf.len() > MAX_LINE {
            stream.write_all(b"ERR line too long\n")?;
            return Ok(());
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Applies one command; the reply line without its newline.
fn execute(cmd: Command, shared: &Shared) -> String {
    fn ok_or(r: Result<String, String>) -> String {
        match r {
            Ok(t) => format!("OK {t}"),
            Err(e) => format!("ERR {e}"),
        }
    }
    shared.with(|m| match cmd {
        Command::Insert(pieces) => ok_or(m.insert(&pieces).map(|o| {
            json!({
                "accepted": o.accepted,
                "rejected": o.rejected.iter().map(|&(p, why)| json!({"piece": p, "reason": why})).collect::<Vec<_>>(),
                "total": o.total,
            })
            .to_string()
        })),
        Command::Cancel => format!("OK returned {}", format_cents(m.cancel())),
        Command::Stock(levels) => ok_or(m.set_stock(&levels).map(|()| m.stock().level_string())),
        Command::Refill(levels) => ok_or(m.refill(&levels).map(|a| format!("refilled {}", format_cents(a)))),
        Command::Jam { hard } => {
            m.jam(hard);
            format!("OK jammed{}", if hard { " (hard)" } else { "" })
        }
        Command::Clear => format!("OK {}", m.clear()),
        Command::Full(d) => ok_or(m.fill(d).map(|()| format!("{d} full"))),
        Command::Limit(l) => {
            m.set_limit(l);
            format!("OK limit {}", l.map_or_else(|| "off".into(), format_cents))
        }
        Command::Busy(n) => {
            m.set_busy(n);
            format!("OK next {n} calls answer BUSY")
        }
        Command::Scenario(sc) => ok_or(sc.apply(m)),
        Command::Panic => {
            m.arm_panic();
            "OK the next library call panics".into()
        }
        Command::Stats => match serde_json::to_string(&m.stats()) {
            Ok(j) => format!("OK {j}"),
            Err(e) => format!("ERR {e}"),
        },
        Command::StatsReset => {
            m.reset_stats();
            "OK stats reset".into()
        }
        Command::Help => format!("OK {HELP}"),
        // Handled by the connection loop.
        Command::Quit => "OK bye".into(),
    })
}

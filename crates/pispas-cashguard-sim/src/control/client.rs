//! A blocking client for the control protocol, for the simulator's own tests and the engine's
//! (add `pispas-cashguard-sim` to the engine's dev-dependencies):
//!
//! ```no_run
//! use pispas_cashguard_sim::control::CgSimControl;
//! # fn main() -> Result<(), pispas_cashguard_sim::control::ControlError> {
//! let mut sim = CgSimControl::from_state_file("/tmp/cg.json", std::time::Duration::from_secs(5))?;
//! sim.insert(&[2000])?;
//! let stats = sim.stats()?;
//! assert_eq!(stats.payouts.len(), 0);
//! # Ok(()) }
//! ```

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::scenario::Scenario;
use crate::stats::Stats;

const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control connection: {0}")]
    Io(#[from] io::Error),
    /// The simulator answered `ERR …`.
    #[error("simulator refused: {0}")]
    Refused(String),
    #[error("unexpected reply: {0}")]
    BadReply(String),
    #[error("state file {path}: {why}")]
    StateFile { path: PathBuf, why: String },
}

/// The file named by `state=`: written once the control listener is bound.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct StateFile {
    pub control: SocketAddr,
    pub pid: u32,
    pub port: String,
}

/// Reads the state file, waiting up to `timeout` for it to appear.
///
/// Fails when it does not appear in time or cannot be parsed.
pub fn read_state_file(
    path: impl AsRef<Path>,
    timeout: Duration,
) -> Result<StateFile, ControlError> {
    let path = path.as_ref();
    let deadline = Instant::now() + timeout;
    loop {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                return serde_json::from_str(&text).map_err(|e| ControlError::StateFile {
                    path: path.into(),
                    why: e.to_string(),
                });
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(ControlError::StateFile {
                    path: path.into(),
                    why: format!("{e} after {timeout:?}"),
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// What an `insert` did.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Inserted {
    pub accepted: Vec<u32>,
    pub rejected: Vec<Rejected>,
    /// Inserted and not yet settled, after this insert.
    pub total: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Rejected {
    pub piece: u32,
    pub reason: String,
}

/// One control connection. Commands are sent one at a time and each waits for its reply.
pub struct CgSimControl {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl CgSimControl {
    /// Fails when nothing listens there.
    pub fn connect(addr: impl ToSocketAddrs) -> Result<CgSimControl, ControlError> {
        let writer = TcpStream::connect(addr)?;
        writer.set_read_timeout(Some(REPLY_TIMEOUT))?;
        let _ = writer.set_nodelay(true);
        let reader = BufReader::new(writer.try_clone()?);
        Ok(CgSimControl { writer, reader })
    }

    /// Waits for the `state=` file, then connects to the address in it.
    pub fn from_state_file(
        path: impl AsRef<Path>,
        timeout: Duration,
    ) -> Result<CgSimControl, ControlError> {
        let state = read_state_file(path, timeout)?;
        CgSimControl::connect(state.control)
    }

    /// Sends one command line and returns the text after `OK `.
    ///
    /// Fails with `Refused` on an `ERR` reply, `Io` when the connection breaks or the reply takes
    /// longer than 10 s.
    pub fn command(&mut self, line: &str) -> Result<String, ControlError> {
        if line.contains('\n') {
            return Err(ControlError::BadReply("a command is one line".into()));
        }
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\n")?;
        let mut reply = String::new();
        if self.reader.read_line(&mut reply)? == 0 {
            return Err(ControlError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "simulator closed the connection",
            )));
        }
        let reply = reply.trim_end();
        if let Some(text) = reply.strip_prefix("OK") {
            Ok(text.trim_start().to_owned())
        } else if let Some(text) = reply.strip_prefix("ERR") {
            Err(ControlError::Refused(text.trim_start().to_owned()))
        } else {
            Err(ControlError::BadReply(reply.to_owned()))
        }
    }

    /// The customer inserts these notes/coins (cents) as one insert.
    pub fn insert(&mut self, pieces: &[u32]) -> Result<Inserted, ControlError> {
        let line = format!("insert {}", join(pieces.iter()));
        let text = self.command(&line)?;
        serde_json::from_str(&text).map_err(|e| ControlError::BadReply(format!("{e}: {text}")))
    }

    /// The customer cancels at the machine; everything inserted is returned.
    pub fn cancel(&mut self) -> Result<String, ControlError> {
        self.command("cancel")
    }

    /// Sets cassette counts (others unchanged); returns the level string.
    pub fn set_stock(&mut self, levels: &[(u32, u32)]) -> Result<String, ControlError> {
        self.command(&format!(
            "stock {}",
            join(levels.iter().map(|(d, n)| format!("{d}:{n}")))
        ))
    }

    /// Sets every cassette to zero except the given ones.
    pub fn set_stock_exactly(&mut self, levels: &[(u32, u32)]) -> Result<String, ControlError> {
        let stats = self.stats()?;
        let mut all: Vec<(u32, u32)> = stats
            .state
            .stock
            .keys()
            .filter_map(|d| d.parse().ok())
            .map(|d| (d, 0))
            .collect();
        for &(d, n) in levels {
            match all.iter_mut().find(|(x, _)| *x == d) {
                Some(e) => e.1 = n,
                None => all.push((d, n)),
            }
        }
        self.set_stock(&all)
    }

    pub fn refill(&mut self, levels: &[(u32, u32)]) -> Result<String, ControlError> {
        self.command(&format!(
            "refill {}",
            join(levels.iter().map(|(d, n)| format!("{d}:{n}")))
        ))
    }

    /// A jam that `resetCG` clears.
    pub fn jam(&mut self) -> Result<String, ControlError> {
        self.command("jam")
    }

    /// A jam that `resetCG` clears only after [`CgSimControl::clear`].
    pub fn jam_hard(&mut self) -> Result<String, ControlError> {
        self.command("jam hard")
    }

    pub fn clear(&mut self) -> Result<String, ControlError> {
        self.command("clear")
    }

    /// Fills one cassette (BLOCKED).
    pub fn full(&mut self, denomination: u32) -> Result<String, ControlError> {
        self.command(&format!("full {denomination}"))
    }

    /// Payout limit for payout2CG in cents, counted from now; None = off.
    pub fn limit(&mut self, cents: Option<i64>) -> Result<String, ControlError> {
        self.command(&format!(
            "limit {}",
            cents.map_or_else(|| "off".into(), |c| c.to_string())
        ))
    }

    /// The next `calls` library calls answer BUSY.
    pub fn busy(&mut self, calls: u32) -> Result<String, ControlError> {
        self.command(&format!("busy {calls}"))
    }

    pub fn scenario(&mut self, scenario: Scenario) -> Result<String, ControlError> {
        self.command(&format!("scenario {scenario}"))
    }

    /// The next library call panics inside the library.
    pub fn panic_next(&mut self) -> Result<String, ControlError> {
        self.command("panic")
    }

    pub fn stats(&mut self) -> Result<Stats, ControlError> {
        let text = self.command("stats")?;
        serde_json::from_str(&text).map_err(|e| ControlError::BadReply(format!("{e}: {text}")))
    }

    pub fn reset_stats(&mut self) -> Result<String, ControlError> {
        self.command("stats reset")
    }
}

fn join<T: ToString>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

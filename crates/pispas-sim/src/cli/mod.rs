//! The `pispas-sim` command line: argument parsing and the stdin command loop shared by the
//! `printer`, `scale`, `rfid`, `paytef` and `mypos` subcommands. Device behaviour lives in the
//! library; this is only the edge where `anyhow` errors become messages.

pub mod gateway;
pub mod mypos;
pub mod paytef;
pub mod printer;
pub mod rfid;
pub mod scale;

use anyhow::{bail, Context};
use std::future::Future;
use tokio::io::AsyncBufReadExt;

/// `--name value` options and `--flag`s, taken one by one; leftovers are an error.
pub struct Args {
    items: Vec<String>,
}

impl Args {
    pub fn new(items: Vec<String>) -> Args {
        Args { items }
    }

    /// The value after `--name`, if given. Fails when `--name` is last with no value.
    pub fn value(&mut self, name: &str) -> anyhow::Result<Option<String>> {
        let Some(i) = self.items.iter().position(|a| a == name) else {
            return Ok(None);
        };
        if i + 1 >= self.items.len() {
            bail!("{name} needs a value");
        }
        let value = self.items.remove(i + 1);
        self.items.remove(i);
        Ok(Some(value))
    }

    /// A number after `--name`. Fails when it is not a number.
    pub fn number<T: std::str::FromStr>(&mut self, name: &str) -> anyhow::Result<Option<T>> {
        match self.value(name)? {
            Some(v) => {
                Ok(Some(v.parse().ok().with_context(|| {
                    format!("{name}: {v:?} is not a number")
                })?))
            }
            None => Ok(None),
        }
    }

    pub fn flag(&mut self, name: &str) -> bool {
        let found = self.items.iter().position(|a| a == name);
        if let Some(i) = found {
            self.items.remove(i);
        }
        found.is_some()
    }

    /// Fails when arguments were left over (a typo, or an option this command lacks).
    pub fn finish(self) -> anyhow::Result<()> {
        if !self.items.is_empty() {
            bail!(
                "unexpected argument(s): {} (try --help)",
                self.items.join(" ")
            );
        }
        Ok(())
    }
}

/// Reads commands from stdin, one per line (words split on spaces), until `quit`, Ctrl-C, or
/// the handler returns `Ok(false)`. At end of input it keeps running until Ctrl-C, so the sim
/// can run in the background with stdin closed.
pub async fn command_loop<F, Fut>(mut handle: F) -> anyhow::Result<()>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    loop {
        let line = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            line = lines.next_line(), if stdin_open => line,
        };
        let Some(line) = line.unwrap_or(None) else {
            stdin_open = false;
            continue;
        };
        let words: Vec<String> = line.split_whitespace().map(str::to_lowercase).collect();
        match words.first().map(String::as_str) {
            None => continue,
            Some("quit" | "exit") => return Ok(()),
            Some(_) => match handle(words).await {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => eprintln!("error: {e:#}"),
            },
        }
    }
}

/// Prints a line to stdout and flushes it, so pipes see it at once.
pub fn say(line: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub const USAGE: &str = "\
pispas-sim: device simulators for the Pispas local service

USAGE:
  pispas-sim printer [--port 9100] [--host 127.0.0.1] [--epos-port 8008] [--pty PATH] [--out DIR]
  pispas-sim scale --protocol P [--link PATH | --port DEV] [--weight GRAMS]
        P: toledo8217 caspd2 castext dialog02 dialog04 dibal epelsa adam
  pispas-sim rfid --protocol em4100-14|em4100-16 [--link PATH | --port DEV]
  pispas-sim paytef [--port 8887] [--host 127.0.0.1] [--cloud] [--scenario NAME] [--pinpad CODE]
        [--card visa|mastercard] [--step-ms 500] [--slow-ms 8000]
  pispas-sim mypos [--port 8990 | --pty PATH] [--host 127.0.0.1] [--scenario NAME]
        [--card visa|mastercard] [--step-ms 500] [--slow-ms 8000] [--timeout-secs 60]
  pispas-sim gateway [--port 8765] [--host 127.0.0.1] [--token T] [--cert PEM --key PEM]
        the Pispas cloud's side of the remote gateway (docs/remote.md)

The first line printed is the engine configuration to use (e.g. SCALE=serial:///tmp/pispas-scale?protocol=toledo8217).
Then type commands on stdin; `help` lists them. See crates/pispas-sim/README.md.";

//! The OS spooler, raw: CUPS (`lp -o raw`, `lpstat`) on Linux and macOS, winspool on Windows
//! (`spooler_windows.rs`). The spooler only tells whether a queue is enabled and what the
//! driver reports, so paper and cover state are as good as the driver's (often "idle" whatever
//! happens): prefer tcp://, serial:// or usb:// where the printer can answer `DLE EOT`.

use super::{Delivery, StatusReport, TransportError};
use crate::modules::print::escpos::status::NotReady;
use std::time::Duration;

/// A printer installed in the OS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPrinter {
    pub name: String,
    pub state: String,
    pub ready: bool,
}

/// Sends `bytes` to `queue` as a raw job.
///
/// Fails when the spooler refuses the job or does not answer in `wait`.
pub async fn submit(queue: &str, bytes: &[u8], wait: Duration) -> Result<Delivery, TransportError> {
    #[cfg(windows)]
    {
        let _ = wait;
        let q = queue.to_string();
        let (_, ready, why) =
            tokio::task::spawn_blocking(move || super::spooler_windows::state(&q))
                .await
                .map_err(|e| TransportError::Spooler(e.to_string()))??;
        if !ready {
            return Ok(Delivery::NotReady(why.unwrap_or(NotReady::Offline), None));
        }
        let (q, b) = (queue.to_string(), bytes.to_vec());
        tokio::task::spawn_blocking(move || super::spooler_windows::write_raw(&q, &b))
            .await
            .map_err(|e| TransportError::Spooler(e.to_string()))??;
        Ok(Delivery::Delivered {
            confirmed: false,
            status: None,
        })
    }
    #[cfg(not(windows))]
    {
        if let StatusReport::Spooler {
            ready: false,
            reason,
            ..
        } = cups::status(queue, wait).await?
        {
            return Ok(Delivery::NotReady(
                reason.unwrap_or(NotReady::Offline),
                None,
            ));
        }
        cups::submit(queue, bytes, wait).await?;
        Ok(Delivery::Delivered {
            confirmed: false,
            status: None,
        })
    }
}

/// The queue's state.
///
/// Fails when the spooler does not know the queue or does not answer.
pub async fn status(queue: &str, wait: Duration) -> Result<StatusReport, TransportError> {
    #[cfg(windows)]
    {
        let q = queue.to_string();
        let _ = wait;
        let (state, ready, reason) =
            tokio::task::spawn_blocking(move || super::spooler_windows::state(&q))
                .await
                .map_err(|e| TransportError::Spooler(e.to_string()))??;
        Ok(StatusReport::Spooler {
            state,
            ready,
            reason,
        })
    }
    #[cfg(not(windows))]
    {
        cups::status(queue, wait).await
    }
}

/// How long a list of the OS's printers is trusted before it is asked again.
const INSTALLED_FRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// The OS's printers, asked at most every few seconds (a POS printing to one by name should
/// not run `lpstat` per receipt). A cheap clone.
#[derive(Clone, Default)]
pub struct Installed {
    last: std::sync::Arc<tokio::sync::Mutex<Option<Listed>>>,
}

/// A list of the OS's printers and when it was made.
type Listed = (std::time::Instant, Vec<SystemPrinter>);

impl Installed {
    /// The printers now, asking the OS.
    pub async fn refresh(&self) -> Vec<SystemPrinter> {
        let list = list_installed().await;
        *self.last.lock().await = Some((std::time::Instant::now(), list.clone()));
        list
    }

    /// Whether the OS has a printer of exactly this name (asking again if the list is old or
    /// does not have it, so a printer installed a moment ago is found).
    pub async fn has(&self, name: &str) -> bool {
        {
            let last = self.last.lock().await;
            if let Some((at, list)) = last.as_ref() {
                if at.elapsed() < INSTALLED_FRESH && list.iter().any(|p| p.name == name) {
                    return true;
                }
            }
        }
        self.refresh().await.iter().any(|p| p.name == name)
    }
}

/// Every printer the OS has installed; empty when there is no spooler.
pub async fn list_installed() -> Vec<SystemPrinter> {
    #[cfg(windows)]
    {
        tokio::task::spawn_blocking(super::spooler_windows::list)
            .await
            .unwrap_or_default()
    }
    #[cfg(not(windows))]
    {
        cups::list().await
    }
}

#[cfg(not(windows))]
mod cups {
    use super::{Duration, NotReady, StatusReport, SystemPrinter, TransportError};
    use std::process::Stdio;
    use tokio::io::AsyncWriteExt;
    use tokio::process::Command;

    fn command(program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("LC_ALL", "C").env("LANG", "C").kill_on_drop(true);
        c
    }

    pub(crate) async fn submit(
        queue: &str,
        bytes: &[u8],
        wait: Duration,
    ) -> Result<(), TransportError> {
        let mut child = command("lp")
            .args(["-d", queue, "-o", "raw", "-t", "pispas"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                TransportError::Spooler(format!("cannot run lp (is CUPS installed?): {e}"))
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(bytes).await?;
            stdin.shutdown().await?;
        }
        let out = tokio::time::timeout(wait, child.wait_with_output())
            .await
            .map_err(|_| TransportError::Timeout(wait))??;
        if out.status.success() {
            tracing::debug!(queue, reply = %String::from_utf8_lossy(&out.stdout).trim(), "job handed to CUPS");
            Ok(())
        } else {
            Err(TransportError::Spooler(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ))
        }
    }

    async fn lpstat(args: &[&str], wait: Duration) -> Result<String, TransportError> {
        let out = tokio::time::timeout(wait, command("lpstat").args(args).output())
            .await
            .map_err(|_| TransportError::Timeout(wait))?
            .map_err(|e| {
                TransportError::Spooler(format!("cannot run lpstat (is CUPS installed?): {e}"))
            })?;
        if !out.status.success() {
            return Err(TransportError::Spooler(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub(crate) async fn status(
        queue: &str,
        wait: Duration,
    ) -> Result<StatusReport, TransportError> {
        let text = lpstat(&["-p", queue], wait).await?;
        let p = parse_lpstat(&text)
            .into_iter()
            .find(|p| p.name == queue)
            .ok_or_else(|| TransportError::Spooler(format!("CUPS has no queue {queue:?}")))?;
        let reason = (!p.ready).then_some(NotReady::Offline);
        Ok(StatusReport::Spooler {
            state: p.state,
            ready: p.ready,
            reason,
        })
    }

    pub(crate) async fn list() -> Vec<SystemPrinter> {
        lpstat(&["-p"], Duration::from_secs(3))
            .await
            .map(|t| parse_lpstat(&t))
            .unwrap_or_default()
    }

    /// Parses `lpstat -p` lines: `printer NAME is idle.  enabled since …`, `printer NAME disabled
    /// since …`, `printer NAME now printing NAME-3.  enabled since …`.
    pub(crate) fn parse_lpstat(text: &str) -> Vec<SystemPrinter> {
        text.lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("printer ")?;
                let (name, tail) = rest.split_once(' ')?;
                let disabled = tail.contains("disabled");
                let state = if disabled {
                    "DISABLED"
                } else if tail.contains("now printing") {
                    "PRINTING"
                } else {
                    "IDLE"
                };
                Some(SystemPrinter {
                    name: name.to_string(),
                    state: state.into(),
                    ready: !disabled,
                })
            })
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn lpstat_lines_give_names_and_states() {
            let text = "printer test is idle.  enabled since Mon 01 Jan\nprinter bar disabled since Mon -\n\treason unknown\nprinter k now printing k-3.  enabled since x\n";
            let p = parse_lpstat(text);
            assert_eq!(p.len(), 3);
            assert_eq!(
                (p[0].name.as_str(), p[0].state.as_str(), p[0].ready),
                ("test", "IDLE", true)
            );
            assert_eq!((p[1].name.as_str(), p[1].ready), ("bar", false));
            assert_eq!(p[2].state, "PRINTING");
        }
    }
}

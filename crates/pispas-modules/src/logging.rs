//! Logging: human-readable lines on stderr plus a daily-rolling file in `<DATA_DIR>/logs`.
//!
//! Called once by a binary (the headless service or the desktop app), never by the library or
//! tests. Secrets are kept out by the code that logs; on top of that, the libraries that would
//! log whole frames or receipts at trace level (tungstenite, hyper, chromiumoxide…) are capped
//! whatever LOG_LEVEL says, and the file holds at most [`MAX_DAILY_BYTES`] a day, so no client
//! can fill the disk through the log.
//! tungstenite's client handshake (which traces the whole HTTP request, `Authorization: Bearer
//! <REMOTE_TOKEN>` included) is capped with them.

use std::io::Write;
use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber. Keep the returned guard alive until exit, or the last lines of
/// the file may be lost.
///
/// Fails when the filter is invalid or the logs folder cannot be created.
pub fn init(level: &str, data_dir: &Path) -> anyhow::Result<WorkerGuard> {
    let dir = data_dir.join("logs");
    std::fs::create_dir_all(&dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("pispas")
        .filename_suffix("log")
        .max_log_files(14)
        .build(&dir)?;
    let (file, guard) = tracing_appender::non_blocking(Capped::new(appender, MAX_DAILY_BYTES));
    tracing_subscriber::registry()
        .with(EnvFilter::try_new(filter(level))?)
        .with(fmt::layer().with_writer(std::io::stderr).with_target(false))
        .with(fmt::layer().with_writer(file).with_ansi(false))
        .try_init()?;
    Ok(guard)
}

/// Most bytes written to the log file in a day; later lines that day are dropped (one line
/// says so).
pub const MAX_DAILY_BYTES: u64 = 64 * 1024 * 1024;

/// Libraries that log whole messages (a frame, a receipt's HTML, a request body) at debug and
/// trace: never below these levels.
const QUIET: &[(&str, &str)] = &[
    ("tungstenite", "info"),
    ("tokio_tungstenite", "info"),
    ("hyper", "info"),
    ("hyper_util", "info"),
    ("h2", "info"),
    ("reqwest", "info"),
    ("rustls", "info"),
    ("chromiumoxide", "warn"),
    ("chromiumoxide_cdp", "warn"),
];

/// LOG_LEVEL with the caps of [`QUIET`] after it.
fn filter(level: &str) -> String {
    let mut out = level.trim().to_string();
    for (target, max) in QUIET {
        out.push_str(&format!(",{target}={max}"));
    }
    out.trim_start_matches(',').to_string()
}

/// A writer that stops after `max` bytes a day (UTC), saying so once.
struct Capped<W: Write> {
    inner: W,
    max: u64,
    day: u64,
    written: u64,
    noted: bool,
}

impl<W: Write> Capped<W> {
    fn new(inner: W, max: u64) -> Self {
        Capped {
            inner,
            max,
            day: crate::clock::now_ms() / 86_400_000,
            written: 0,
            noted: false,
        }
    }
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let today = crate::clock::now_ms() / 86_400_000;
        if today != self.day {
            (self.day, self.written, self.noted) = (today, 0, false);
        }
        if self.written + buf.len() as u64 > self.max {
            if !self.noted {
                self.noted = true;
                let _ = self.inner.write_all(b"[the log reached its size for today (64 MiB); further lines are dropped until tomorrow]\n");
            }
            return Ok(buf.len());
        }
        self.written += buf.len() as u64;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_never_reaches_the_libraries_that_log_whole_frames() {
        let f = filter("trace");
        assert!(f.starts_with("trace,"));
        assert!(
            f.contains("tungstenite=info") && f.contains("chromiumoxide=warn"),
            "{f}"
        );
        assert!(EnvFilter::try_new(&f).is_ok());
    }

    #[test]
    fn the_file_stops_at_its_daily_size_and_says_so_once() {
        let mut w = Capped::new(Vec::new(), 10);
        for _ in 0..5 {
            w.write_all(b"0123").unwrap();
        }
        let text = String::from_utf8(w.inner.clone()).unwrap();
        assert!(text.starts_with("01230123["), "{text}");
        assert_eq!(text.matches("size for today").count(), 1);
    }
}

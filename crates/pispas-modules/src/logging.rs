//! Logging: human-readable lines on stderr plus a daily-rolling file in `<DATA_DIR>/logs`.
//!
//! Called once by a binary (the headless service or the desktop app), never by the library or
//! tests. Secrets are kept out by the code that logs; the one exception is silenced here: tungstenite's
//! client handshake traces the whole HTTP request, `Authorization: Bearer <REMOTE_TOKEN>` included.

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
    let (file, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::registry()
        .with(
            EnvFilter::try_new(level)?
                .add_directive("tungstenite::handshake::client=debug".parse()?),
        )
        .with(fmt::layer().with_writer(std::io::stderr).with_target(false))
        .with(fmt::layer().with_writer(file).with_ansi(false))
        .try_init()?;
    Ok(guard)
}

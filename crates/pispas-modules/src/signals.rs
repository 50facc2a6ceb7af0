//! Waiting for the operating system to ask us to stop: Ctrl-C and SIGTERM/SIGHUP on Unix; Ctrl-C,
//! Ctrl-Break, console close, log-off and shutdown on Windows (`signals_windows.rs`).

#[cfg(windows)]
#[path = "signals_windows.rs"]
mod platform;

#[cfg(unix)]
mod platform {
    use tokio::signal::unix::{signal, SignalKind};

    /// Resolves on the first of SIGINT, SIGTERM or SIGHUP; returns its name.
    pub(crate) async fn wait() -> std::io::Result<&'static str> {
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
            _ = hup.recv() => "SIGHUP",
        })
    }
}

/// Resolves when the OS asks the process to stop, with the signal's name.
///
/// Fails only when the signal handlers cannot be installed.
pub async fn shutdown_requested() -> std::io::Result<&'static str> {
    platform::wait().await
}

//! Windows stop requests. A console close, log-off or shutdown gives the process only a few
//! seconds (about 5 s for close) before Windows kills it, so SHUTDOWN_GRACE_MS should stay below
//! that; Ctrl-C and Ctrl-Break have no such limit.

use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_logoff, ctrl_shutdown};

/// Resolves on the first console control event; returns its name.
pub(crate) async fn wait() -> std::io::Result<&'static str> {
    let mut c = ctrl_c()?;
    let mut brk = ctrl_break()?;
    let mut close = ctrl_close()?;
    let mut logoff = ctrl_logoff()?;
    let mut shutdown = ctrl_shutdown()?;
    Ok(tokio::select! {
        _ = c.recv() => "Ctrl-C",
        _ = brk.recv() => "Ctrl-Break",
        _ = close.recv() => "console close",
        _ = logoff.recv() => "log-off",
        _ = shutdown.recv() => "system shutdown",
    })
}

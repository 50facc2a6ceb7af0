//! What one of our programs can be started as, shared by the headless binary (`pispas-modules`)
//! and the desktop app (`pispas`), so the installers, the configurator's elevated steps and the
//! engine's own worker processes find the same behaviour behind either executable:
//! - `--platform <command>`: change the OS for browsers (hosts entry, Local Network Access
//!   policy) and exit; what the installers' hooks and the configurator's elevation run;
//! - the PDF worker and the rendering browser's guard, which the engine starts from its own
//!   executable;
//! - the engine without any window ([`run_headless`]): `pispas-modules`, and `pispas --headless`
//!   for a till or server with no desktop session.

use crate::config::{ConfigEnv, LoadOptions};
use crate::host::{Host, HostOptions};
use crate::modules::print::render::{browser_guard, pdf_worker};
use anyhow::Context;
use std::process::ExitCode;

/// When the arguments ask for one of the helper modes, runs it and returns its exit code;
/// otherwise arranges for PDFs to be rendered in worker processes of this executable and
/// returns `None` (the caller goes on to start the engine or the app).
pub fn helper_mode(args: &[String]) -> Option<ExitCode> {
    if let Some(code) = crate::platform::run_command(args) {
        return Some(code);
    }
    // PDFs are rendered by this same program in a worker process, so pdfium cannot take the
    // service down.
    if args.first().map(String::as_str) == Some(pdf_worker::WORKER_ARG) {
        return Some(pdf_worker::serve());
    }
    // The same program starts the rendering browser through a guard that ties it to us.
    if browser_guard::wanted(args) {
        return Some(browser_guard::serve(args));
    }
    if let Ok(exe) = std::env::current_exe() {
        pdf_worker::enable(exe);
    }
    None
}

/// Runs the engine through a [`Host`] until Ctrl-C / SIGTERM (Windows: Ctrl-C, console close,
/// log-off, shutdown); BASE `CONFIG_SAVE` and `RESTART` restart it in place.
pub fn run_headless(options: LoadOptions) -> anyhow::Result<()> {
    // Loaded once here to fail early with a clear message and to set up logging; the host loads
    // it again on every (re)start.
    let config = ConfigEnv::load(&options).context("invalid configuration")?;
    let _guard = crate::logging::init(&config.log_level, &config.data_dir)?;
    tracing::info!(config = %config.config_path.display(), data = %config.data_dir.display(), "starting");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    drop(config);
    runtime.block_on(async {
        let host = Host::new(options, HostOptions::default());
        let control = host.control();
        tokio::spawn(async move {
            match crate::signals::shutdown_requested().await {
                Ok(signal) => tracing::info!("{signal} received"),
                Err(e) => tracing::error!(error = %e, "cannot wait for signals"),
            }
            control.stop();
        });
        host.run().await
    })
}

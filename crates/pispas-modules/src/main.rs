//! `pispas-modules`: the engine without any GUI, for servers, CI, tests and benchmarks.
//!
//! `pispas-modules [--config PATH] [--data-dir DIR]`; stops gracefully on Ctrl-C / SIGTERM
//! (Windows: Ctrl-C, console close, log-off, shutdown). Runs the engine through a
//! [`pispas_modules::Host`], so BASE `CONFIG_SAVE` and `RESTART` restart it in place, exactly as
//! in the desktop app. Also serves the status, configurator and command log pages on VIEWER_PORT.

use pispas_modules::LoadOptions;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: pispas-modules [--config PATH] [--data-dir DIR]

  --config PATH    the .env file to read (default: the platform config folder)
  --data-dir DIR   where the database, logs, certificate and tokens live (overrides DATA_DIR)
  --version        print the version and exit
  --platform CMD   change the OS for browsers and exit (needs administrator rights):
                   hosts-add, hosts-remove (the local.unpispas.es entry),
                   policy-set URL[,URL…], policy-remove (LocalNetworkAccessAllowedForUrls)
Environment variables override keys of the .env; see docs/configuration.md.";

fn main() -> ExitCode {
    // `--platform <command>`, the PDF worker and the browser guard (see `process`).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = pispas_modules::process::helper_mode(&args) {
        return code;
    }
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match pispas_modules::process::run_headless(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pispas-modules: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<LoadOptions>, String> {
    let mut options = LoadOptions {
        use_process_env: true,
        ..Default::default()
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--config" => options.config_path = Some(PathBuf::from(value()?)),
            "--data-dir" => options.data_dir = Some(PathBuf::from(value()?)),
            "--version" | "-V" => {
                println!("pispas-modules {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

//! Command-line arguments of the desktop app. A second launch passes its arguments to the running
//! instance (single-instance plugin), so `pispas --quit` or `pispas --open log` act on the app
//! that is already in the tray.

use crate::windows::Page;
use std::path::PathBuf;

pub(crate) const USAGE: &str =
    "usage: pispas [--hidden|--headless] [--open status|config|log|kitchen] [--quit] [--config PATH] [--data-dir DIR]

  --hidden         start in the tray without opening the status window (start at login uses this)
  --headless       run the service alone: no tray, no windows, no desktop session needed
                   (servers, kiosks, support); stops on Ctrl-C / SIGTERM
  --open PAGE      open a window: status, config (configurator), log (command log) or
                   kitchen (the kitchen display)
  --close          close every window of the running instance (it stays in the tray)
  --quit           ask the running instance to stop the service and quit
  --config PATH    the .env file to read (default: the platform config folder)
  --data-dir DIR   where the database, logs, certificate and admin token live
  --version        print the version and exit";

/// What the command line asks for.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Args {
    pub hidden: bool,
    pub headless: bool,
    pub open: Option<Page>,
    pub quit: bool,
    pub close: bool,
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub version: bool,
    pub help: bool,
}

/// Parses arguments (without the program name). Unknown arguments are an error so a typo is not
/// silently ignored; the error names the argument.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--hidden" | "--minimized" => out.hidden = true,
            "--headless" => out.headless = true,
            "--quit" => out.quit = true,
            "--close" => out.close = true,
            "--open" => {
                let v = value()?;
                out.open =
                    Some(Page::from_name(&v).ok_or_else(|| {
                        format!("--open {v}: use status, config, log or kitchen")
                    })?);
            }
            "--config" => out.config = Some(PathBuf::from(value()?)),
            "--data-dir" => out.data_dir = Some(PathBuf::from(value()?)),
            "--version" | "-V" => out.version = true,
            "--help" | "-h" => out.help = true,
            // macOS adds -psn_… when started from Finder.
            other if other.starts_with("-psn_") => {}
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_and_values_parse() {
        let a = p(&["--hidden", "--open", "log", "--config=/tmp/x.env"]).unwrap();
        assert!(a.hidden);
        assert_eq!(a.open, Some(Page::Log));
        assert_eq!(a.config, Some(PathBuf::from("/tmp/x.env")));
        assert!(p(&["--quit"]).unwrap().quit);
        let h = p(&["--headless", "--data-dir", "/tmp/d"]).unwrap();
        assert!(h.headless && !h.hidden);
        assert_eq!(h.data_dir, Some(PathBuf::from("/tmp/d")));
    }

    #[test]
    fn a_typo_is_an_error_naming_it() {
        assert!(p(&["--hiden"]).unwrap_err().contains("--hiden"));
        assert!(p(&["--open", "kitchn"]).unwrap_err().contains("kitchn"));
        assert_eq!(p(&["--open", "kitchen"]).unwrap().open, Some(Page::Kitchen));
    }
}

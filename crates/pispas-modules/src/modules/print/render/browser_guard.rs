//! The rendering browser never outlives the service. A service that is SIGKILLed (or crashes)
//! cannot kill its children, and a warm Chromium with its renderers (about 200 MiB) would run on
//! for good, one more after every crash-restart. So:
//!
//! - on Unix the browser is started through a small guard: this same program started with
//!   [`GUARD_ARG`], which starts the browser as its own child (on Linux with
//!   `PR_SET_PDEATHSIG`, so the kernel kills the browser the moment the guard dies, however it
//!   dies), watches its own parent and kills the browser when the service is gone;
//! - on Windows the browser goes into a job object that kills it when the service's last handle
//!   to the job closes, which the system does when the service dies (`browser_guard_windows.rs`);
//! - at the first launch, what an earlier run left behind (a browser whose service is dead, and
//!   its profile folder) is killed and removed.
//!
//! The binaries opt in through `pdf_worker::enable` (the same program serves both); an engine
//! inside a test harness starts the browser directly. This file does not talk to the browser.

use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;
use std::process::ExitCode;

/// The argument naming the browser a guard starts: `--pispas-browser-guard=<browser path>`.
/// It may come anywhere in the arguments (the DevTools client orders them itself); every other
/// argument is the browser's.
pub const GUARD_ARG: &str = "--pispas-browser-guard=";
/// Profile folders are named `pispas-chromium-<service pid>-<n>` in the temporary folder.
pub(super) const PROFILE_PREFIX: &str = "pispas-chromium-";
/// The guard writes the browser's pid here, inside the profile folder.
#[cfg(unix)]
const PID_FILE: &str = "browser.pid";

/// Whether this process was started as a guard.
pub fn wanted(args: &[String]) -> bool {
    args.iter().any(|a| a.starts_with(GUARD_ARG))
}

/// The program and first argument that start `browser` through a guard, when the binary opted
/// in (Unix only).
#[cfg(unix)]
pub(super) fn wrap(browser: &Path) -> Option<(PathBuf, String)> {
    let exe = super::pdf_worker::helper_exe()?;
    Some((exe, format!("{GUARD_ARG}{}", browser.display())))
}

/// Runs as the guard: starts the browser with the other arguments, waits for it, and kills it
/// if the service that started the guard goes away. Exits with the browser's status.
#[cfg(unix)]
pub fn serve(args: &[String]) -> ExitCode {
    use nix::unistd::{getpid, getppid};
    use std::os::unix::process::CommandExt;
    let service = getppid();
    let mut browser = None;
    let mut rest = Vec::new();
    for a in args {
        match a.strip_prefix(GUARD_ARG) {
            Some(path) => browser = Some(PathBuf::from(path)),
            None => rest.push(a.clone()),
        }
    }
    let Some(browser) = browser else {
        eprintln!("{GUARD_ARG}<browser> is missing");
        return ExitCode::from(2);
    };
    let guard = getpid();
    let mut cmd = std::process::Command::new(&browser);
    cmd.args(&rest);
    // SAFETY: the closure runs in the child between fork and exec and only makes two system
    // calls (prctl, getppid), which are async-signal-safe.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            #[cfg(target_os = "linux")]
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)?;
            // The guard may have died before the line above took effect.
            if getppid() != guard {
                return Err(std::io::Error::other("the guard is gone"));
            }
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{} did not start: {e}", browser.display());
            return ExitCode::FAILURE;
        }
    };
    if let Some(dir) = profile_of(&rest) {
        let _ = std::fs::write(dir.join(PID_FILE), child.id().to_string());
    }
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1));
            }
            Ok(None) => {}
            Err(_) => return ExitCode::FAILURE,
        }
        if getppid() != service {
            // The service died (we were handed to init or a subreaper).
            let _ = child.kill();
            let _ = child.wait();
            return ExitCode::FAILURE;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[cfg(not(unix))]
pub fn serve(_args: &[String]) -> ExitCode {
    eprintln!("the browser guard is for Unix; Windows uses a job object");
    ExitCode::FAILURE
}

/// The `--user-data-dir` among a browser's arguments.
#[cfg(unix)]
fn profile_of(args: &[String]) -> Option<PathBuf> {
    args.iter()
        .find_map(|a| a.strip_prefix("--user-data-dir="))
        .map(PathBuf::from)
}

/// Kills the browser whose profile is `dir`, if the guard recorded it and it still runs. Used
/// when the service drops a browser on purpose (the guard itself is killed then, and on Linux
/// the kernel kills the browser with it; elsewhere this does).
#[cfg(unix)]
pub(super) fn kill_browser_of(dir: &Path) {
    if let Some(pid) = recorded_pid(dir) {
        if pid != nix::unistd::getpid() && runs_with_profile(pid, dir) {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
pub(super) fn kill_browser_of(_dir: &Path) {}

#[cfg(unix)]
fn recorded_pid(dir: &Path) -> Option<nix::unistd::Pid> {
    let text = std::fs::read_to_string(dir.join(PID_FILE)).ok()?;
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|p| *p > 1)
        .map(nix::unistd::Pid::from_raw)
}

/// Whether `pid` runs with `dir` as its profile (so a reused pid is never killed). Without
/// `/proc` (macOS) a live pid is taken as the browser: the pid file is only minutes old then.
#[cfg(unix)]
fn runs_with_profile(pid: nix::unistd::Pid, dir: &Path) -> bool {
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => {
            let needle = dir.display().to_string();
            String::from_utf8_lossy(&cmdline).contains(&needle)
        }
        Err(_) if cfg!(target_os = "linux") => false,
        Err(_) => nix::sys::signal::kill(pid, None).is_ok(),
    }
}

/// Whether the process `pid` exists.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        i32::try_from(pid)
            .is_ok_and(|p| nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok())
    }
    #[cfg(windows)]
    {
        super::browser_guard_windows::alive(pid)
    }
}

/// Removes what earlier runs left in `temp`: for each profile folder whose service is no longer
/// running, its browser is killed (if the guard recorded it) and the folder removed. Returns how
/// many folders were cleaned.
pub(super) fn clean_earlier_runs(temp: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return 0;
    };
    let mut cleaned = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PROFILE_PREFIX)) else {
            continue;
        };
        let Some(service) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if service == std::process::id() || alive(service) {
            continue;
        }
        let dir = entry.path();
        kill_browser_of(&dir);
        if std::fs::remove_dir_all(&dir).is_ok() {
            cleaned += 1;
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_argument_is_found_anywhere() {
        let args = [
            "--headless".to_string(),
            format!("{GUARD_ARG}/usr/bin/chromium"),
        ];
        assert!(wanted(&args));
        assert!(!wanted(&["--headless".to_string()]));
    }

    #[cfg(unix)]
    #[test]
    fn a_dead_services_profile_is_removed_and_a_live_ones_kept() {
        let temp = std::env::temp_dir().join(format!("pispas-guard-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&temp);
        // pid 0x7fff_fff0 does not exist; this process does.
        let dead = temp.join(format!("{PROFILE_PREFIX}{}-0", 0x7fff_fff0_u32));
        let live = temp.join(format!("{PROFILE_PREFIX}{}-0", std::process::id()));
        let other = temp.join("something-else");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d).unwrap();
        }
        // A recorded pid that is not a browser with that profile is never killed: our own.
        std::fs::write(dead.join(PID_FILE), std::process::id().to_string()).unwrap();
        assert_eq!(clean_earlier_runs(&temp), 1);
        assert!(!dead.exists() && live.exists() && other.exists());
        std::fs::remove_dir_all(&temp).unwrap();
    }
}

//! What the till's operating system must be told for a browser POS to reach the service on its
//! first day, offered by the configurator (BASE admin actions) and run by the installers:
//! the `local.unpispas.es` entry of the hosts file (`hosts.rs`) and the browsers'
//! `LocalNetworkAccessAllowedForUrls` policy for the POS origins (`policy.rs`).
//!
//! Writing either needs administrator rights on most tills. The engine first tries itself; when
//! refused it asks the OS to run this same program elevated with `--platform <command>`
//! (`elevate.rs`), which [`run_command`] serves. Nothing here knows the engine.

pub mod elevate;
pub mod hosts;
pub mod policy;
mod policy_registry;
#[cfg(windows)]
mod policy_windows;

/// Why a change to the OS was not made.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The file or key needs administrator rights and none could be had; the message says what
    /// to run instead.
    #[error("{0}")]
    NeedsElevation(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// This OS has no way to do it from here (a sentence for the administrator).
    #[error("{0}")]
    Unsupported(String),
}

impl PlatformError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            let what = what.into();
            return PlatformError::NeedsElevation(format!(
                "{what}: administrator rights are needed ({source})"
            ));
        }
        PlatformError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Serves `--platform <command> [args]` (the elevated half of a configurator action, and what
/// installers and administrators run): `hosts-add`, `hosts-remove`, `policy-set <url,url…>`,
/// `policy-remove`. Returns `None` when `args` is not a platform command, else the exit code.
pub fn run_command(args: &[String]) -> Option<std::process::ExitCode> {
    let pos = args.iter().position(|a| a == "--platform")?;
    let command = args.get(pos + 1).map(String::as_str).unwrap_or("");
    let rest = args.get(pos + 2).map(String::as_str).unwrap_or("");
    let result = match command {
        "hosts-add" => hosts::add(&hosts::path()).map(|_| "hosts entry present".to_string()),
        "hosts-remove" => hosts::remove(&hosts::path()).map(|_| "hosts entry removed".to_string()),
        "policy-set" => {
            let urls: Vec<String> = rest
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_string)
                .collect();
            policy::system()
                .set(&urls)
                .map(|n| format!("policy written for {n} browser(s)"))
        }
        "policy-remove" => policy::system()
            .remove()
            .map(|n| format!("policy removed for {n} browser(s)")),
        other => {
            eprintln!("--platform {other:?}: use hosts-add, hosts-remove, policy-set URLS or policy-remove");
            return Some(std::process::ExitCode::from(2));
        }
    };
    Some(match result {
        Ok(done) => {
            println!("{done}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    })
}

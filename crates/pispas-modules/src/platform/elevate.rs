//! Running this same program again with administrator rights for one `--platform` command
//! (see [`super::run_command`]): `pkexec` on Linux desktops, UAC on Windows, the system's
//! password dialog on macOS. Where none can be shown (a server, CI), it fails saying the exact
//! command an administrator can run instead.

use super::PlatformError;
use std::process::Command;

/// Runs `--platform <args>` elevated and waits; returns what it printed.
///
/// Fails when elevation is refused or not possible here (NeedsElevation, naming the command),
/// or when the elevated command fails.
pub fn run(args: &[&str]) -> Result<String, PlatformError> {
    let exe = std::env::current_exe().map_err(|e| PlatformError::io("this program", e))?;
    let manual = format!(
        "run as administrator: \"{}\" --platform {}",
        exe.display(),
        args.join(" ")
    );
    let output = match elevated_command(&exe, args) {
        Some(mut cmd) => cmd.output(),
        None => return Err(PlatformError::NeedsElevation(manual)),
    };
    match output {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Err(PlatformError::NeedsElevation(if err.is_empty() {
                format!("administrator rights were not given; {manual}")
            } else {
                format!("{err}; {manual}")
            }))
        }
        Err(_) => Err(PlatformError::NeedsElevation(manual)),
    }
}

#[cfg(windows)]
fn elevated_command(exe: &std::path::Path, args: &[&str]) -> Option<Command> {
    let list: Vec<String> = std::iter::once("'--platform'".to_string())
        .chain(args.iter().map(|a| format!("'{}'", a.replace('\'', "''"))))
        .collect();
    let script = format!(
        "$p = Start-Process -FilePath '{}' -ArgumentList {} -Verb RunAs -Wait -PassThru -WindowStyle Hidden; exit $p.ExitCode",
        exe.display().to_string().replace('\'', "''"),
        list.join(",")
    );
    let mut cmd = Command::new("powershell");
    cmd.args(["-NoProfile", "-NonInteractive", "-Command", &script]);
    Some(cmd)
}

#[cfg(target_os = "macos")]
fn elevated_command(exe: &std::path::Path, args: &[&str]) -> Option<Command> {
    let line = std::iter::once(format!("'{}'", exe.display()))
        .chain(std::iter::once("--platform".to_string()))
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("osascript");
    cmd.args([
        "-e",
        &format!(
            "do shell script \"{}\" with administrator privileges",
            line.replace('"', "\\\"")
        ),
    ]);
    Some(cmd)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn elevated_command(exe: &std::path::Path, args: &[&str]) -> Option<Command> {
    // pkexec needs a desktop session with a polkit agent to ask the user.
    let desktop =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    let pkexec = ["/usr/bin/pkexec", "/bin/pkexec"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    if !desktop {
        return None;
    }
    let mut cmd = Command::new(pkexec);
    cmd.arg(exe).arg("--platform").args(args);
    Some(cmd)
}

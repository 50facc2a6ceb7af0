//! The `local.unpispas.es` entry of the hosts file: the production certificate is for that name,
//! so `wss://local.unpispas.es:5005` must reach this till. The line is marked, so removing it
//! removes exactly what was added and nothing else; adding it twice adds it once. The
//! installers (`.deb` maintainer scripts, NSIS/MSI hooks) write the same marked line.

use super::PlatformError;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The name the production certificate is for.
pub const NAME: &str = "local.unpispas.es";
/// Ends every line this program (or its installers) added.
pub const MARKER: &str = "# pispas-local-service";

/// The system's hosts file.
pub fn path() -> PathBuf {
    if cfg!(windows) {
        let root = std::env::var_os("SystemRoot").unwrap_or_else(|| "C:\\Windows".into());
        PathBuf::from(root).join("System32\\drivers\\etc\\hosts")
    } else {
        PathBuf::from("/etc/hosts")
    }
}

/// The line added.
pub fn line() -> String {
    format!("127.0.0.1 {NAME} {MARKER}")
}

/// `text` with the marked line present once (other lines untouched); `None` when it already is.
pub fn with_entry(text: &str) -> Option<String> {
    if text.lines().any(|l| l.trim_end() == line()) {
        return None;
    }
    let mut out = without_entry(text).unwrap_or_else(|| text.to_string());
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&line());
    out.push('\n');
    Some(out)
}

/// `text` without the marked lines; `None` when there are none.
pub fn without_entry(text: &str) -> Option<String> {
    if !text.lines().any(is_ours) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for l in text.split_inclusive('\n') {
        if !is_ours(l) {
            out.push_str(l);
        }
    }
    Some(out)
}

fn is_ours(line: &str) -> bool {
    line.trim_end().ends_with(MARKER)
}

/// Whether the file has the marked entry.
pub fn has_entry(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.lines().any(is_ours))
}

/// Adds the entry to the hosts file at `path` (nothing when present).
///
/// Fails when the file cannot be read or written (NeedsElevation without rights).
pub fn add(path: &Path) -> Result<(), PlatformError> {
    rewrite(path, with_entry)
}

/// Removes the entry from the hosts file at `path` (nothing when absent).
///
/// Fails as [`add`] does.
pub fn remove(path: &Path) -> Result<(), PlatformError> {
    rewrite(path, without_entry)
}

fn rewrite(path: &Path, change: fn(&str) -> Option<String>) -> Result<(), PlatformError> {
    let what = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(PlatformError::io(what, e)),
    };
    let Some(new) = change(&text) else {
        return Ok(());
    };
    // In place, not by rename: the hosts file's owner, mode and (on Windows) ACL stay as they
    // are, and a reader sees the old or the new text.
    std::fs::write(path, new).map_err(|e| PlatformError::io(what, e))
}

/// Where the name resolves now (within two seconds: a till offline must not wait for DNS), and
/// whether that is this machine.
pub async fn resolves_here() -> (bool, Vec<IpAddr>) {
    let lookup = tokio::net::lookup_host((NAME, 443));
    let found: Vec<IpAddr> =
        match tokio::time::timeout(std::time::Duration::from_secs(2), lookup).await {
            Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
            _ => Vec::new(),
        };
    let here = !found.is_empty() && found.iter().all(|ip| ip.is_loopback() || is_own(*ip));
    (here, found)
}

/// Whether `ip` is one of this machine's addresses (it can be bound).
fn is_own(ip: IpAddr) -> bool {
    std::net::UdpSocket::bind((ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_twice_adds_one_marked_line_and_keeps_the_rest() {
        let original = "127.0.0.1 localhost\n::1 localhost\n";
        let once = with_entry(original).unwrap();
        assert_eq!(once, format!("{original}{}\n", line()));
        assert_eq!(with_entry(&once), None);
    }

    #[test]
    fn removing_takes_out_only_the_marked_lines() {
        let text = format!(
            "127.0.0.1 localhost\n{}\n10.0.0.5 local.unpispas.es\n",
            line()
        );
        let out = without_entry(&text).unwrap();
        assert_eq!(out, "127.0.0.1 localhost\n10.0.0.5 local.unpispas.es\n");
        assert_eq!(without_entry(&out), None);
    }

    #[test]
    fn a_file_without_a_final_newline_gets_one_before_the_entry() {
        assert_eq!(
            with_entry("127.0.0.1 localhost").unwrap(),
            format!("127.0.0.1 localhost\n{}\n", line())
        );
    }

    #[test]
    fn add_and_remove_work_on_a_real_file() {
        let dir = std::env::temp_dir().join(format!("pispas-hosts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("hosts");
        std::fs::write(&file, "127.0.0.1 localhost\n").unwrap();
        add(&file).unwrap();
        add(&file).unwrap();
        assert!(has_entry(&file));
        assert_eq!(
            std::fs::read_to_string(&file)
                .unwrap()
                .matches(MARKER)
                .count(),
            1
        );
        remove(&file).unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "127.0.0.1 localhost\n"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

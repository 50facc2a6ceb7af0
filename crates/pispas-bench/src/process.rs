//! Starting the two servers as child processes and reading their memory from /proc.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server child process, killed on drop.
pub(crate) struct Server {
    pub child: Child,
    pub plain: SocketAddr,
    pub tls: SocketAddr,
    pub dir: PathBuf,
    /// From spawn to the first accepted TCP connection.
    pub startup: Duration,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    // A build of another commit, to compare against in the same run (scripts/bench-versus.sh).
    if name == "pispas-modules" {
        if let Some(path) = std::env::var_os("PISPAS_BENCH_ENGINE") {
            return Ok(PathBuf::from(path));
        }
    }
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(name);
    anyhow::ensure!(
        path.exists(),
        "{} not found: build it in the same profile first",
        path.display()
    );
    Ok(path)
}

fn wait_listening(
    child: &mut Child,
    addr: SocketAddr,
    started: Instant,
) -> anyhow::Result<Duration> {
    loop {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(started.elapsed());
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("server exited: {status}");
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "server did not listen"
        );
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Starts the release engine with a fresh (or given) data folder; TLS and plain share its port.
pub(crate) fn engine(dir: &Path) -> anyhow::Result<Server> {
    engine_with_env(dir, &[("MODULES", "base".to_string())])
}

/// User + system CPU time of a process in clock ticks (1/100 s), from /proc.
#[cfg(unix)]
pub(crate) fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// Starts the release engine with extra environment.
pub(crate) fn engine_with_env(dir: &Path, env: &[(&str, String)]) -> anyhow::Result<Server> {
    let port = pispas_testkit::free_port();
    let started = Instant::now();
    let mut child = Command::new(sibling("pispas-modules")?)
        .arg("--config")
        .arg(dir.join(".env"))
        .arg("--data-dir")
        .arg(dir)
        .env("LOCAL_PORT", port.to_string())
        .env("LOG_LEVEL", "warn")
        .env("HEARTBEAT_SECS", "0")
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let startup = wait_listening(&mut child, addr, started)?;
    Ok(Server {
        child,
        plain: addr,
        tls: addr,
        dir: dir.to_path_buf(),
        startup,
    })
}

/// Starts the echo baseline.
pub(crate) fn echo(dir: &Path) -> anyhow::Result<Server> {
    let (plain, tls) = (pispas_testkit::free_port(), pispas_testkit::free_port());
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "echo-server",
            "--plain",
            &plain.to_string(),
            "--tls",
            &tls.to_string(),
            "--dir",
        ])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let plain: SocketAddr = ([127, 0, 0, 1], plain).into();
    let startup = wait_listening(&mut child, plain, started)?;
    let tls: SocketAddr = ([127, 0, 0, 1], tls).into();
    wait_listening(&mut child, tls, started)?;
    Ok(Server {
        child,
        plain,
        tls,
        dir: dir.to_path_buf(),
        startup,
    })
}

/// Resident memory of a process in MiB (VmRSS), or NaN where /proc is missing.
pub(crate) fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

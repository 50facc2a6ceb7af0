//! Starting something to test against: the engine in-process on port 0, or the real binary (Linux
//! build, or the Windows exe under wine when `PISPAS_SMOKE_CMD` says so).

use pispas_modules::{ConfigEnv, Engine, RunningEngine};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh, empty folder under the system temp dir.
pub fn test_dir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("pispas-test-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// An engine running in this process, with its folder.
pub struct TestEngine {
    pub engine: RunningEngine,
    pub dir: PathBuf,
}

impl TestEngine {
    pub fn addr(&self) -> SocketAddr {
        self.engine.local_addr()
    }
}

/// Starts the engine on 127.0.0.1:0 with test defaults plus `overrides` (`KEY`, `value`).
pub async fn start_engine(name: &str, overrides: &[(&str, &str)]) -> TestEngine {
    let dir = test_dir(name);
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    values.insert("LOCAL_PORT".into(), "0".into());
    values.insert("DATA_DIR".into(), dir.to_string_lossy().into_owned());
    values.insert("HEARTBEAT_SECS".into(), "0".into());
    values.insert("VIEWER_PORT".into(), "0".into());
    for (k, v) in overrides {
        values.insert(k.to_string(), v.to_string());
    }
    let config =
        ConfigEnv::from_values(values, &dir.join(".env")).unwrap_or_else(|e| panic!("config: {e}"));
    let engine = Engine::start(config)
        .await
        .unwrap_or_else(|e| panic!("engine: {e}"));
    TestEngine { engine, dir }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(0, |a| a.port())
}

/// The real binary, started as a child process; killed on drop.
pub struct BinaryServer {
    pub child: Child,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
}

impl BinaryServer {
    /// Starts `program` (plus `PISPAS_SMOKE_CMD` as a wrapper, e.g. `wine64`, when set) with a
    /// fresh data folder and `env`, and waits until it accepts connections.
    pub fn start(program: &Path, name: &str, env: &[(&str, &str)]) -> anyhow::Result<BinaryServer> {
        BinaryServer::start_in(program, &test_dir(name), env)
    }

    /// Like [`BinaryServer::start`], on an existing data folder (a restart after a crash).
    pub fn start_in(
        program: &Path,
        data_dir: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<BinaryServer> {
        let data_dir = data_dir.to_path_buf();
        let port = free_port();
        let mut cmd = match std::env::var("PISPAS_SMOKE_CMD")
            .ok()
            .filter(|s| !s.is_empty())
        {
            Some(wrapper) => {
                let mut parts = wrapper.split_whitespace();
                let mut c = Command::new(parts.next().unwrap_or("wine"));
                c.args(parts).arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.arg("--config")
            .arg(data_dir.join(".env"))
            .arg("--data-dir")
            .arg(&data_dir)
            .env("LOCAL_PORT", port.to_string())
            .env("LOCAL_HOST", "127.0.0.1")
            .env("VIEWER_PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("{} exited before listening: {status}", program.display());
            }
            if started.elapsed() > Duration::from_mins(1) {
                let _ = child.kill();
                anyhow::bail!("{} did not listen on {addr} within 60 s", program.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(BinaryServer {
            child,
            addr,
            data_dir,
        })
    }

    /// Kills the process with SIGKILL on Unix (no shutdown code runs) and waits for it.
    pub fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// The certificate the binary generated (PEM → DER), for TLS clients.
    pub fn cert_der(&self) -> anyhow::Result<Vec<u8>> {
        use rustls_pki_types::pem::PemObject;
        let path = self.data_dir.join("tls").join("cert.pem");
        Ok(rustls_pki_types::CertificateDer::from_pem_file(&path)?.to_vec())
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

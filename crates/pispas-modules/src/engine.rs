//! Starting and stopping the whole engine: configuration → TLS, tokens, modules, router → listener.
//!
//! [`Engine::start`] is what the headless binary, the desktop app and the tests call. The returned
//! [`RunningEngine`] owns the shutdown token and task tracker; dropping it does not stop the engine,
//! [`RunningEngine::shutdown`] does, letting in-flight requests finish for SHUTDOWN_GRACE_MS.

use crate::commandlog::{CommandLog, Retention};
use crate::config::{ConfigEnv, RemoteConfig};
use crate::context::{ModuleContext, ModuleError};
use crate::control::Control;
use crate::events::EventBus;
use crate::modules;
use crate::modules::base::{BaseContext, ServerFacts, TlsFacts};
use crate::pairing::Pairings;
use crate::remote::GatewayContext;
use crate::router::{Directory, RouterBuilder};
use crate::server::security::{AccessPolicy, LanRules};
use crate::server::tls::{self, CertSource, TlsError};
use crate::server::{self, tokens, viewer, ServerContext, Shared};
use crate::server::{KitchenLan, Scope};
use crate::status::EngineStatus;
use crate::store::{Store, StoreError};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Why the engine did not start. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("port {port} on {host} is already in use by another program: close it (is another Pispas running?) or set LOCAL_PORT to a free port")]
    PortInUse { host: String, port: u16 },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("module {module} cannot start: {source}")]
    Module {
        module: &'static str,
        source: ModuleError,
    },
}

/// Entry point to run the engine.
pub struct Engine;

impl Engine {
    /// Binds, prepares TLS and the admin token, builds the modules and starts serving.
    ///
    /// Fails when the port is taken or cannot be bound, the data folder cannot be created, or the
    /// certificate in CERT_DIR is unusable.
    pub async fn start(config: ConfigEnv) -> Result<RunningEngine, StartError> {
        Engine::start_hosted(config, None).await
    }

    /// Like [`Engine::start`], with a [`Control`] so BASE can restart the engine in place (the
    /// [`crate::host::Host`] passes its own).
    ///
    /// Fails as [`Engine::start`] does.
    pub async fn start_hosted(
        config: ConfigEnv,
        control: Option<Control>,
    ) -> Result<RunningEngine, StartError> {
        let started = Instant::now();
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let (tls, tls_warnings) =
            tls::load_for_service(&config.cert_dir, &config.data_dir, crate::clock::now_ms())?;
        let admin_token = tokens::admin_token(config.admin_token.as_deref(), &config.data_dir)
            .map_err(|source| StartError::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            })?;
        let listener = bind(&config)?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: addr_of(&config),
            source,
        })?;
        if config.allowed_origins.iter().any(|o| o == "*") {
            tracing::warn!(
                "ALLOWED_ORIGINS is *: any web page in this computer's browser can use the devices"
            );
        }
        let lan_rules = LanRules {
            admin_from_lan: config.admin_from_lan,
            plain_tokens: config.lan_plain_tokens,
        };
        if !config.local_host.is_loopback() {
            if lan_rules.plain_tokens {
                tracing::warn!("LAN_PLAIN_TOKENS is on: clients on the network may send their token over ws://, where anyone on the network can read it");
            }
            if lan_rules.admin_from_lan {
                tracing::warn!("ADMIN_FROM_LAN is on: the admin token (configuration, command log) is honoured from other computers");
            }
        }
        let mut policy = AccessPolicy::new(
            &config.allowed_origins,
            admin_token.clone(),
            config.lan_token.clone(),
            lan_rules,
        );
        // The app's own windows (Tauri serves them from its bundle under these origins).
        for origin in APP_ORIGINS {
            policy.allow_origin(origin);
        }
        let mut warnings = tls_warnings;
        let viewer_listener = match config.viewer_port {
            None => None,
            Some(port) => match viewer::bind(port).await {
                Ok(l) => Some(l),
                Err(e) => {
                    let msg = format!("the pages could not be served on http://127.0.0.1:{port}/ ({e}); set VIEWER_PORT to a free port");
                    tracing::warn!("{msg}");
                    warnings.push(msg);
                    None
                }
            },
        };
        let viewer_addr = viewer_listener.as_ref().and_then(|l| l.local_addr().ok());
        if let Some(addr) = viewer_addr {
            for origin in viewer::origins(addr.port()) {
                policy.allow_origin(&origin);
            }
        }
        let events = EventBus::new();
        let store = Store::open(&config.data_dir)?;
        warnings.extend(store.recovered().map(String::from));
        let command_log = if config.command_log {
            let log_store = Store::open_file(&config.data_dir, crate::commandlog::FILE)?;
            warnings.extend(log_store.recovered().map(String::from));
            CommandLog::start(
                log_store,
                events.clone(),
                Retention {
                    max_age: config.command_log_max_age,
                    max_bytes: config.command_log_max_bytes,
                },
            )?
        } else {
            CommandLog::disabled()
        };
        let config = Arc::new(config);
        let status = EngineStatus::new(started);
        for w in warnings {
            status.add_warning(w);
        }
        let server_facts = Arc::new(ServerFacts {
            local_addr,
            viewer_addr,
            tls: TlsFacts {
                provided: matches!(tls.source, CertSource::Provided(_)),
                dir: match &tls.source {
                    CertSource::Provided(d) | CertSource::SelfSigned(d) => d.clone(),
                },
                fingerprint: tls.fingerprint.clone(),
                details: tls::details(&tls.cert_der),
            },
        });
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut builder = RouterBuilder::new();
        let directory = builder.directory();
        let pairings = Pairings::open(store.clone())?;
        let ctx = ModuleContext {
            config: config.clone(),
            events: events.clone(),
            pairings: pairings.clone(),
            store,
            directory: directory.clone(),
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
        };
        let base = BaseContext {
            config: config.clone(),
            events: events.clone(),
            status: status.clone(),
            server: server_facts,
            command_log: command_log.clone(),
            control,
            directory: directory.clone(),
        };
        for kind in &config.modules {
            match modules::build(*kind, &ctx, &base) {
                Ok(service) => builder.add(service),
                Err(source) => {
                    shutdown.cancel();
                    tracker.close();
                    tracker.wait().await;
                    return Err(StartError::Module {
                        module: kind.name(),
                        source,
                    });
                }
            }
        }
        let router = builder.build();
        tracker.spawn(
            status
                .clone()
                .track_devices(events.clone(), shutdown.clone()),
        );
        if let Some(listener) = viewer_listener {
            tracker.spawn(viewer::run(listener, local_addr.port(), shutdown.clone()));
        }
        start_remote(
            &config,
            &router,
            &events,
            &status,
            &command_log,
            &shutdown,
            &tracker,
        )
        .inspect_err(|_| shutdown.cancel())?;
        let server_ctx = |router: &crate::router::Router, scope: Scope| ServerContext {
            router: router.clone(),
            config: config.clone(),
            events: events.clone(),
            status: status.clone(),
            command_log: command_log.clone(),
            policy: policy.clone(),
            tls: tls.acceptor.clone(),
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
            scope,
        };
        if let Some(lan) = kitchen_lan_address(&config) {
            match TcpListener::bind(lan).await {
                Ok(l) => {
                    let port = l.local_addr().map_or(lan.port(), |a| a.port());
                    let scope = Scope::KitchenLan(KitchenLan { pairings, port });
                    let shared = Arc::new(Shared::new(server_ctx(&router, scope)));
                    tracker.spawn(server::run(l, shared));
                    tracing::info!(address = %lan, "kitchen displays on the network: http://<this computer>:{port}/kitchen (pair each tablet from the till's kitchen window)");
                }
                Err(e) => {
                    let msg = format!("the kitchen listener for tablets could not open {lan} ({e}); set KITCHEN_LAN_PORT to a free port, or KITCHEN_LAN=off");
                    tracing::warn!("{msg}");
                    status.add_warning(msg);
                }
            }
        }
        let shared = Arc::new(Shared::new(server_ctx(&router, Scope::Full)));
        tracker.spawn(server::run(listener, shared));
        tracing::info!(
            address = %local_addr,
            tls_fingerprint = %tls.fingerprint,
            modules = ?config.modules.iter().map(|m| m.name()).collect::<Vec<_>>(),
            "pispas local service listening (wss:// and ws:// on the same port)"
        );
        if let Some(addr) = viewer_addr {
            tracing::info!("status, configurator and command log pages: http://{addr}/");
        }
        Ok(RunningEngine {
            config,
            events,
            status,
            directory,
            command_log,
            local_addr,
            viewer_addr,
            shutdown,
            tracker,
            admin_token,
            cert_der: tls.cert_der.to_vec(),
            store: ctx.store,
        })
    }
}

/// Where the kitchen LAN listener goes: KITCHEN_LAN=on with ORDER_KITCHEN enabled (its
/// configuration was checked when the module started).
fn kitchen_lan_address(config: &ConfigEnv) -> Option<SocketAddr> {
    if !config
        .modules
        .contains(&crate::config::ModuleKind::OrderKitchen)
    {
        return None;
    }
    crate::modules::kitchen::config::KitchenConfig::from_values(&config.values)
        .ok()?
        .lan
}

/// Starts the remote gateway when REMOTE_HOST is set (the device id is read or generated in
/// the data folder).
///
/// Fails when the REMOTE_* keys are invalid or the device id cannot be kept.
fn start_remote(
    config: &ConfigEnv,
    router: &crate::router::Router,
    events: &EventBus,
    status: &EngineStatus,
    command_log: &CommandLog,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> Result<(), StartError> {
    let base = config
        .config_path
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let remote =
        RemoteConfig::from_values(&config.values, base).map_err(|e| StartError::Module {
            module: "remote",
            source: ModuleError::Config(e.to_string()),
        })?;
    let Some(remote) = remote else {
        return Ok(());
    };
    let device_id =
        crate::config::remote::device_id(&remote, &config.data_dir).map_err(|source| {
            StartError::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            }
        })?;
    crate::remote::start(
        remote,
        device_id,
        GatewayContext {
            router: router.clone(),
            events: events.clone(),
            status: status.clone(),
            command_log: command_log.clone(),
            max_frame_bytes: config.max_frame_bytes,
            max_in_flight: config.max_in_flight,
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
        },
    );
    Ok(())
}

/// Origins of the desktop app's own windows: `tauri://localhost` on Linux and macOS,
/// `http(s)://tauri.localhost` on Windows (WebView2) — each only where the app uses it.
#[cfg(not(windows))]
pub const APP_ORIGINS: [&str; 1] = ["tauri://localhost"];
/// Origins of the desktop app's own windows: `http(s)://tauri.localhost` on Windows (WebView2).
#[cfg(windows)]
pub const APP_ORIGINS: [&str; 2] = ["http://tauri.localhost", "https://tauri.localhost"];

fn addr_of(config: &ConfigEnv) -> SocketAddr {
    SocketAddr::new(config.local_host, config.local_port)
}

/// Binds with a backlog large enough for a burst of reconnecting clients.
fn bind(config: &ConfigEnv) -> Result<TcpListener, StartError> {
    let addr = addr_of(config);
    let err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            StartError::PortInUse {
                host: config.local_host.to_string(),
                port: config.local_port,
            }
        } else {
            StartError::Bind { addr, source }
        }
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    // On Unix SO_REUSEADDR only allows rebinding over TIME_WAIT; on Windows it would let another
    // process steal the port, so it is not set there.
    #[cfg(unix)]
    socket.set_reuseaddr(true).map_err(err)?;
    socket.bind(addr).map_err(err)?;
    socket.listen(1024).map_err(err)
}

/// A running engine. Call [`RunningEngine::shutdown`] to stop it.
pub struct RunningEngine {
    config: Arc<ConfigEnv>,
    events: EventBus,
    status: EngineStatus,
    directory: Directory,
    command_log: CommandLog,
    local_addr: SocketAddr,
    viewer_addr: Option<SocketAddr>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    admin_token: String,
    cert_der: Vec<u8>,
    store: Store,
}

impl RunningEngine {
    /// The address actually bound (the real port when LOCAL_PORT was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where the pages are served, if they are.
    pub fn viewer_addr(&self) -> Option<SocketAddr> {
        self.viewer_addr
    }

    /// Counters, warnings, failures and device states.
    pub fn status(&self) -> &EngineStatus {
        &self.status
    }

    /// The modules with their health.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The command log.
    pub fn command_log(&self) -> &CommandLog {
        &self.command_log
    }

    /// The admin token in force (configured or generated).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The DER of the TLS certificate served, for clients that pin it.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The engine's database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The event bus (the desktop shell and the command log subscribe to it).
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// A token that is cancelled when shutdown starts.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets in-flight requests finish for up to SHUTDOWN_GRACE_MS, then waits
    /// for every task.
    pub async fn shutdown(self) {
        tracing::info!("shutting down");
        self.shutdown.cancel();
        self.tracker.close();
        let limit = self.config.shutdown_grace + std::time::Duration::from_secs(2);
        if tokio::time::timeout(limit, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop in time");
        }
        // After the connections: their last replies are recorded too.
        self.command_log.close().await;
        tracing::info!("stopped");
    }
}

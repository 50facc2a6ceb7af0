//! Keeping one engine running inside a process: start it from the configuration, restart it in
//! place when asked (the configurator saved, the tray's "Restart service"), stop it on quit.
//! The headless binary and the desktop app both run their engine through a [`Host`].
//!
//! A restart whose new configuration cannot start (the new port is taken) falls back to the last
//! configuration that worked and says so in the status, rather than leaving the till without a
//! service. A first start that fails is retried every few seconds when asked to (the desktop app:
//! another program may free the port), and reported through [`HostState::Failed`].

use crate::config::{ConfigEnv, LoadOptions};
use crate::control::{Control, HostCommand};
use crate::engine::{Engine, RunningEngine, StartError};
use crate::events::EventBus;
use crate::router::Directory;
use crate::status::EngineStatus;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How long a failed first start waits before trying again (when retrying is on).
const RETRY_EVERY: Duration = Duration::from_secs(10);

/// What a running engine offers the shell (tray, windows).
pub struct EngineHandle {
    pub local_addr: SocketAddr,
    /// Where the pages are served, if they are.
    pub viewer_addr: Option<SocketAddr>,
    pub events: EventBus,
    pub status: EngineStatus,
    pub directory: Directory,
    pub admin_token: String,
    /// Counts starts, so a watcher can tell a restarted engine from the one it knew.
    pub generation: u64,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle")
            .field("local_addr", &self.local_addr)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl EngineHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

/// The host's state, published on a watch channel.
#[derive(Debug, Clone)]
pub enum HostState {
    Starting,
    Running(Arc<EngineHandle>),
    /// The engine could not start; `message` says why and what to do.
    Failed {
        message: String,
        port_in_use: Option<u16>,
    },
    Stopped,
}

/// How the host behaves when the first start fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostOptions {
    /// Keep retrying (desktop) instead of returning the error (headless binary).
    pub retry_failed_start: bool,
}

/// Runs and restarts the engine. Create with [`Host::new`], then `run().await` it.
pub struct Host {
    options: LoadOptions,
    host_options: HostOptions,
    rx: mpsc::UnboundedReceiver<HostCommand>,
    control: Control,
    state: watch::Sender<HostState>,
}

impl Host {
    pub fn new(options: LoadOptions, host_options: HostOptions) -> Host {
        let (control, rx) = Control::channel();
        let (state, _) = watch::channel(HostState::Starting);
        Host {
            options,
            host_options,
            rx,
            control,
            state,
        }
    }

    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// A receiver of state changes (the tray and the windows watch this).
    pub fn subscribe(&self) -> watch::Receiver<HostState> {
        self.state.subscribe()
    }

    /// Starts the engine and serves restart requests until [`Control::stop`].
    ///
    /// Fails only when the first start fails and `retry_failed_start` is off.
    pub async fn run(mut self) -> anyhow::Result<()> {
        let mut last_good: Option<ConfigEnv> = None;
        let mut generation = 0u64;
        let mut pending_warning: Option<String> = None;
        loop {
            self.state.send_replace(HostState::Starting);
            generation += 1;
            let started = match ConfigEnv::load(&self.options) {
                Ok(config) => match self.start(config.clone(), generation).await {
                    Ok(engine) => Ok((engine, config)),
                    Err(e) => Err((e.to_string(), port_of(&e))),
                },
                Err(e) => Err((format!("invalid configuration: {e}"), None)),
            };
            let engine = match (started, last_good.clone()) {
                (Ok((engine, config)), _) => {
                    last_good = Some(config);
                    engine
                }
                (Err((message, _)), Some(previous)) => {
                    tracing::error!("the new configuration did not start ({message}); going back to the previous one");
                    match self.start(previous, generation).await {
                        Ok(engine) => {
                            pending_warning = Some(format!("The saved configuration could not start: {message}. The service is running with the previous configuration."));
                            engine
                        }
                        Err(e) => {
                            if !self.failed(e.to_string(), port_of(&e)).await {
                                self.state.send_replace(HostState::Stopped);
                                return Ok(());
                            }
                            continue;
                        }
                    }
                }
                (Err((message, port)), None) => {
                    if !self.host_options.retry_failed_start {
                        self.state.send_replace(HostState::Failed {
                            message: message.clone(),
                            port_in_use: port,
                        });
                        anyhow::bail!(message);
                    }
                    if !self.failed(message, port).await {
                        self.state.send_replace(HostState::Stopped);
                        return Ok(());
                    }
                    continue;
                }
            };
            if let Some(w) = pending_warning.take() {
                engine.status().add_warning(w);
            }
            let handle = Arc::new(EngineHandle {
                local_addr: engine.local_addr(),
                viewer_addr: engine.viewer_addr(),
                events: engine.events().clone(),
                status: engine.status().clone(),
                directory: engine.directory().clone(),
                admin_token: engine.admin_token().to_string(),
                generation,
            });
            self.state.send_replace(HostState::Running(handle));
            let command = self.rx.recv().await.unwrap_or(HostCommand::Stop);
            engine.shutdown().await;
            match command {
                HostCommand::Restart(reason) => {
                    tracing::info!(reason, "restarting the engine in place");
                }
                HostCommand::Stop => {
                    self.state.send_replace(HostState::Stopped);
                    return Ok(());
                }
            }
        }
    }

    async fn start(&self, config: ConfigEnv, generation: u64) -> Result<RunningEngine, StartError> {
        tracing::info!(generation, "starting the engine");
        Engine::start_hosted(config, Some(self.control.clone())).await
    }

    /// Publishes a failure and waits for a command or the retry timer. Returns false on Stop.
    async fn failed(&mut self, message: String, port_in_use: Option<u16>) -> bool {
        tracing::error!("{message}");
        self.state.send_replace(HostState::Failed {
            message,
            port_in_use,
        });
        tokio::select! {
            cmd = self.rx.recv() => !matches!(cmd, None | Some(HostCommand::Stop)),
            _ = tokio::time::sleep(RETRY_EVERY) => true,
        }
    }
}

fn port_of(e: &StartError) -> Option<u16> {
    match e {
        StartError::PortInUse { port, .. } => Some(*port),
        _ => None,
    }
}

//! What a module is handed when it is built: [`ModuleContext`] (configuration, the event bus,
//! the database, the other modules' directory, the shutdown token and task tracker), and the
//! error a constructor returns.
//! Core, so a module never imports the registry that builds it.

use crate::config::ConfigEnv;
use crate::events::EventBus;
use crate::pairing::Pairings;
use crate::router::Directory;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a module gets when it is built: typed configuration, the bus, the database, and the
/// shutdown token and task tracker every long-lived task must use.
#[derive(Clone)]
pub struct ModuleContext {
    pub config: Arc<ConfigEnv>,
    pub events: EventBus,
    pub store: Store,
    /// The other modules, filled once the router is built (empty while modules are built):
    /// how a module sends a request to another TARGET.
    pub directory: Directory,
    /// Kitchen displays paired for the kitchen LAN listener (one state for the module that
    /// pairs and the listener that admits).
    pub pairings: Pairings,
    /// Cancelled when the engine stops; loops check it only between frames or jobs.
    pub shutdown: CancellationToken,
    /// Spawn long-lived tasks here so shutdown waits for them.
    pub tracker: TaskTracker,
}

impl ModuleContext {
    /// A context for one module outside an engine (a test, a tool): the database in the
    /// configuration's data folder, a bus, a shutdown token and a task tracker of its own.
    ///
    /// Fails when the data folder's database cannot be opened.
    pub fn standalone(config: ConfigEnv) -> Result<ModuleContext, StoreError> {
        let store = Store::open(&config.data_dir)?;
        Ok(ModuleContext {
            config: Arc::new(config),
            events: EventBus::new(),
            pairings: Pairings::open(store.clone())?,
            store,
            directory: Directory::default(),
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
        })
    }
}

/// Why a module could not be built. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// A setting is invalid; the message starts with the key (`PRINTER_BAR: …`).
    #[error("{0}")]
    Config(String),
    /// The module's tables could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
}

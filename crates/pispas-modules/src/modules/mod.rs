//! The module registry: which TARGETs exist, which are built, and how `MODULES` turns into the
//! services the router serves.
//!
//! Every module is built by one constructor, `<Module>::start(&ModuleContext)`, reached through
//! [`build`] — the one table from [`ModuleKind`] to code. A module that is known but not built
//! yet is registered as [`unavailable::Unavailable`], so a POS gets a clear MODULE_UNAVAILABLE
//! rather than UNKNOWN_TARGET. Modules import only the core (`protocol`, `router`, `events`,
//! `store`, `config`, `transport`, `clock`) and their own folder; what else they need is handed in.

pub mod base;
pub mod print;
pub mod rfid;
pub mod scale;
pub mod unavailable;

use crate::config::{ConfigEnv, ModuleKind};
use crate::events::EventBus;
use crate::router::Service;
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
            store,
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

/// Builds the module `kind`: the one registration table. BASE gets its narrow engine view too.
///
/// Fails when the module's configuration is invalid or its tables cannot be opened; a device
/// that is merely offline does not fail it.
pub fn build(
    kind: ModuleKind,
    ctx: &ModuleContext,
    engine: &base::BaseContext,
) -> Result<Arc<dyn Service>, ModuleError> {
    Ok(match kind {
        ModuleKind::Base => Arc::new(base::Base::start(ctx, engine.clone())),
        ModuleKind::Print => Arc::new(print::Print::start(ctx)?),
        ModuleKind::Scale => Arc::new(scale::Scale::start(ctx)?),
        ModuleKind::Rfid => Arc::new(rfid::Rfid::start(ctx)?),
        ModuleKind::Cashguard
        | ModuleKind::Paytef
        | ModuleKind::Mypos
        | ModuleKind::OrderKitchen
        | ModuleKind::Cache
        | ModuleKind::Log
        | ModuleKind::Remote => Arc::new(unavailable::Unavailable::new(kind.target())),
    })
}

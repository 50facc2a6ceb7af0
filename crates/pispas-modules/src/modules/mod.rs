//! The module registry: which TARGETs exist, which are built, and how `MODULES` turns into the
//! services the router serves.
//!
//! Every module is built by one constructor, `<Module>::start(&ModuleContext)` (`context.rs`),
//! reached through [`build`] — the one table from [`ModuleKind`] to code. A module that is known but not built
//! yet is registered as [`unavailable::Unavailable`], so a POS gets a clear MODULE_UNAVAILABLE
//! rather than UNKNOWN_TARGET. Modules import only the core (`protocol`, `router`, `events`,
//! `store`, `config`, `transport`, `clock`) and their own folder; what else they need is handed in.

pub mod base;
pub mod cache;
pub mod kitchen;
pub mod payment;
pub mod print;
pub mod rfid;
pub mod scale;
pub mod unavailable;

use crate::config::ModuleKind;
use crate::context::{ModuleContext, ModuleError};
use crate::router::Service;
use std::sync::Arc;

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
        ModuleKind::Mypos => Arc::new(payment::mypos::Mypos::start(ctx)?),
        ModuleKind::Paytef => Arc::new(payment::paytef::Paytef::start(ctx)?),
        ModuleKind::Cashguard => Arc::new(payment::cashguard::CashGuard::start(ctx)?),
        ModuleKind::Cache => Arc::new(cache::Cache::start(ctx)?),
        ModuleKind::OrderKitchen => Arc::new(kitchen::Kitchen::start(ctx)?),
        ModuleKind::Log | ModuleKind::Remote => {
            Arc::new(unavailable::Unavailable::new(kind.target()))
        }
    })
}

//! The module registry: which TARGETs exist, which are built, and how `MODULES` turns into the
//! services the router serves.
//!
//! A module that is known but not built yet is registered as [`unavailable::Unavailable`], so a
//! POS gets a clear MODULE_UNAVAILABLE rather than UNKNOWN_TARGET.

pub mod base;
pub mod print;
pub mod rfid;
pub mod scale;
pub mod unavailable;

use crate::config::ConfigEnv;
use crate::events::EventBus;
use crate::router::Service;
use crate::store::Store;
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

/// Every module name `MODULES` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModuleKind {
    Base,
    Print,
    Scale,
    Rfid,
    Cashguard,
    Paytef,
    Mypos,
    OrderKitchen,
    Cache,
    Log,
    Remote,
}

impl ModuleKind {
    pub const ALL: [ModuleKind; 11] = [
        ModuleKind::Base,
        ModuleKind::Print,
        ModuleKind::Scale,
        ModuleKind::Rfid,
        ModuleKind::Cashguard,
        ModuleKind::Paytef,
        ModuleKind::Mypos,
        ModuleKind::OrderKitchen,
        ModuleKind::Cache,
        ModuleKind::Log,
        ModuleKind::Remote,
    ];

    /// The name used in `MODULES`.
    pub fn name(self) -> &'static str {
        match self {
            ModuleKind::Base => "base",
            ModuleKind::Print => "print",
            ModuleKind::Scale => "scale",
            ModuleKind::Rfid => "rfid",
            ModuleKind::Cashguard => "cashguard",
            ModuleKind::Paytef => "paytef",
            ModuleKind::Mypos => "mypos",
            ModuleKind::OrderKitchen => "order_kitchen",
            ModuleKind::Cache => "cache",
            ModuleKind::Log => "log",
            ModuleKind::Remote => "remote",
        }
    }

    /// The TARGET clients send.
    pub fn target(self) -> &'static str {
        match self {
            ModuleKind::Base => "BASE",
            ModuleKind::Print => "PRINT",
            ModuleKind::Scale => "SCALE",
            ModuleKind::Rfid => "RFID",
            ModuleKind::Cashguard => "CASHGUARD",
            ModuleKind::Paytef => "PAYTEF",
            ModuleKind::Mypos => "MYPOS",
            ModuleKind::OrderKitchen => "ORDER_KITCHEN",
            ModuleKind::Cache => "CACHE",
            ModuleKind::Log => "LOG",
            ModuleKind::Remote => "REMOTE",
        }
    }

    /// Parses a `MODULES` entry (case-insensitive; `-` and `_` alike).
    pub fn from_name(name: &str) -> Option<ModuleKind> {
        let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
        ModuleKind::ALL
            .into_iter()
            .find(|m| m.name() == wanted || (wanted == "kitchen" && *m == ModuleKind::OrderKitchen))
    }
}

/// Builds the service for a module that has no implementation in this build.
pub fn unavailable(kind: ModuleKind) -> Arc<dyn Service> {
    Arc::new(unavailable::Unavailable::new(kind.target()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_name_round_trips() {
        for m in ModuleKind::ALL {
            assert_eq!(ModuleKind::from_name(m.name()), Some(m));
            assert_eq!(ModuleKind::from_name(&m.name().to_uppercase()), Some(m));
        }
        assert_eq!(
            ModuleKind::from_name("order-kitchen"),
            Some(ModuleKind::OrderKitchen)
        );
        assert_eq!(ModuleKind::from_name("printer"), None);
    }
}

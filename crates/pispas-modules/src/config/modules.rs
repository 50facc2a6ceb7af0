//! The module names `MODULES` accepts, and the TARGET each answers. Configuration owns this list
//! (it parses `MODULES`); the registry in `modules/` maps each name to its constructor.

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

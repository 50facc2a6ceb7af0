//! The Pispas local service engine: a WebSocket server (TLS and plain on one port) that lets the
//! web POS reach the hardware on the counter through modules, one per TARGET.
//!
//! Data flows one way: socket → connection → envelope → router → module → device, and the reply
//! back on the same socket; events go out through one [`events::EventBus`]. This crate never
//! depends on a GUI toolkit: the desktop app embeds it, the headless binary runs it alone.

// `deny`, not `forbid`: the Windows spooler FFI (modules/print/transport/spooler_windows.rs) is the
// one place allowed to opt out, with each `unsafe` block justified.
#![deny(unsafe_code)]

pub mod clock;
pub mod commandlog;
pub mod config;
pub mod context;
pub mod control;
pub mod devices;
pub mod engine;
pub mod events;
pub mod host;
pub mod logging;
pub mod modules;
pub mod pairing;
pub mod pan;
pub mod platform;
pub mod process;
pub mod protocol;
pub mod remote;
pub mod router;
pub mod server;
pub mod signals;
pub mod status;
pub mod store;
pub mod transport;

pub use config::{ConfigEnv, LoadOptions};
pub use control::Control;
pub use engine::{Engine, RunningEngine, StartError};
pub use host::{Host, HostOptions, HostState};

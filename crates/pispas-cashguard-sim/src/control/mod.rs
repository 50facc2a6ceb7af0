//! The side channel into the simulated machine. The library runs inside the engine's process,
//! so a test (or a person with `nc`) reaches it over a loopback TCP port named by
//! `control=127.0.0.1:0` in `initSettings` or `CGSIM_CONTROL`.
//!
//! Protocol: one command per line (UTF-8, `\n`), exactly one reply line per command:
//! `OK <text>` or `ERR <text>`; `stats` and `insert` reply `OK <one-line JSON>`. `help` lists the
//! commands. [`CgSimControl`] is the Rust client.

pub mod client;
pub mod command;
pub mod server;

pub use client::{read_state_file, CgSimControl, ControlError, Inserted, StateFile};
pub use command::Command;

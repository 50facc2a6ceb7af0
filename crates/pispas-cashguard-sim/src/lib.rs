//! A CashGuard cash-recycler simulator. Built as a cdylib it is a drop-in for the vendor's
//! `cglogics.dll` (same exported C functions, see `cglogics.h` and the README's contract), so
//! the engine's real `libloading` code is what tests exercise, on Linux and under wine. As an
//! rlib it offers what those tests need: [`library_path`] to find the built library and
//! [`control::CgSimControl`] to play the customer and the technician.
//!
//! Layout: `ffi.rs` (the C entry points, the only unsafe code) → `instance.rs` (the one machine
//! per process, init/exit, threads) → `machine/` (pure state and rules). `event.rs` is the
//! callback thread; `control/` the loopback side channel. Nothing here speaks a real machine's
//! wire protocol (it is not public).

// The C entry points and callback calls need `unsafe`; they live in ffi.rs, which opts out
// with every block justified. Nothing else may.
#![deny(unsafe_code)]

pub mod abi;
pub mod control;
pub mod event;
mod ffi;
mod instance;
pub mod machine;
pub mod scenario;
pub mod settings;
pub mod stats;

mod locate;

pub use abi::Code;
pub use control::CgSimControl;
pub use locate::{library_file_name, library_path, LIBRARY_ENV};
pub use scenario::Scenario;
pub use stats::Stats;

//! Device simulators for the Pispas local service, written from the protocol documents
//! (../shared/research/device-protocols.md) and not from the engine's drivers, so that the two
//! check each other. Library first (tests use it in-process); `main.rs` wraps it as a CLI.
//!
//! - [`printer`]: a virtual ESC/POS printer on TCP (port 9100 style), a pty, and Epson
//!   ePOS-Print XML over HTTP.
//! - [`scale`]: serial scales (Toledo 8217, CAS, Dialog, Dibal, Epelsa, Adam) on a pty.
//! - [`rfid`]: EM4100 serial readers on a pty.
//! - [`paytef`]: the Paytef pinpad's JSON API over HTTP, local or cloud.
//! - [`mypos`]: a myPOS terminal speaking IPP over TCP or a pty.
//! - [`gateway`]: the Pispas cloud's side of the remote gateway (a WebSocket server tills
//!   connect out to), and an HTTP CONNECT proxy.
//! - [`payment`]: test cards and host numbers both payment simulators share.

// One justified `unsafe` registers a pty master with tokio (port/pty.rs); nothing else.
#![deny(unsafe_code)]

pub mod bitmap;
pub mod cli;
pub mod document;
pub mod escpos;
pub mod gateway;
pub mod line;
pub mod mypos;
pub mod payment;
pub mod paytef;
pub mod port;
pub mod printer;
pub mod rfid;
pub mod scale;
pub mod wait;

pub use wait::WaitTimeout;

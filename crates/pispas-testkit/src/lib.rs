//! Test and benchmark support: a protocol-level WebSocket client (plain or TLS, trusting exactly
//! the engine's certificate) and launchers for an in-process engine or the real binary.
//!
//! The same client drives the Linux tests, the Windows exe under wine and the benchmarks, so a
//! behaviour checked once is checked everywhere. Not shipped in the product.

pub mod client;
pub mod fake;
pub mod launch;
pub mod pdf;

pub use client::{connect_raw, http_get, request_text, Client, Connect, RawSocket};
pub use launch::{free_port, start_engine, test_dir, BinaryServer, TestEngine};

//! Payments: card terminals (MYPOS and PAYTEF; CASHGUARD to come) on one journal that
//! never charges twice.
//!
//! - `journal.rs`: the SQLite table every payment is written to before a byte reaches a
//!   terminal, keyed by the request's UUIDV4.
//! - `runner.rs`: one terminal's payments — attach, replay, TERMINAL_BUSY, reconciliation,
//!   UNKNOWN_OUTCOME and PAYMENT_RESOLVE — the same for every kind.
//! - `model.rs`, `params.rs`: states, outcomes, masked card data, and the shared parameters.
//! - one folder per terminal kind, each a pure codec, a driver, actions, config and errors.
//!
//! docs/payments.md is the guide for POS developers and support.

pub mod cashguard;
pub mod journal;
pub mod model;
pub mod mypos;
pub mod params;
pub mod paytef;
pub mod runner;

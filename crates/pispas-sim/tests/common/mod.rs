//! Helpers shared by the integration tests (each test file includes this module).

pub(crate) mod http;
pub(crate) mod ipp;

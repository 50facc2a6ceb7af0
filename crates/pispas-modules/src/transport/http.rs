//! HTTP clients for devices and services the engine calls (Epson ePOS printers, the Paytef
//! API): reqwest on rustls with the `ring` provider, certificates checked by the operating
//! system's verifier plus an optional extra CA, never by hand-written HTTP.
//!
//! Only building clients lives here; what to send is the caller's protocol.

use std::sync::Once;
use std::time::Duration;

/// How a client should trust and wait.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Connecting may take this long.
    pub connect_timeout: Duration,
    /// A whole request may take this long.
    pub timeout: Duration,
    /// An extra CA (PEM) to trust besides the system's, for a server with its own CA.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Skip certificate checks (a LAN printer's self-signed certificate, when configured so).
    pub accept_invalid_certs: bool,
}

impl ClientOptions {
    pub fn new(timeout: Duration) -> Self {
        ClientOptions {
            connect_timeout: timeout,
            timeout,
            extra_ca_pem: None,
            accept_invalid_certs: false,
        }
    }
}

/// Installs `ring` as the process's rustls provider (the TLS server uses it too); later calls
/// do nothing.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another part of the process installed one first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client with `options`.
///
/// Fails when the extra CA is not a PEM certificate or the TLS setup cannot be built.
pub fn client(options: &ClientOptions) -> Result<reqwest::Client, String> {
    builder(options)?
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// A client that reaches `host` only at `addrs` (already checked by the caller), never through
/// a fresh DNS answer; redirects are not followed.
///
/// Fails as [`client`] does.
pub fn client_pinned(
    options: &ClientOptions,
    host: &str,
    addrs: &[std::net::SocketAddr],
) -> Result<reqwest::Client, String> {
    builder(options)?
        .resolve_to_addrs(host, addrs)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

fn builder(options: &ClientOptions) -> Result<reqwest::ClientBuilder, String> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .no_proxy()
        .user_agent(concat!("pispas-local-service/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &options.extra_ca_pem {
        let cert = reqwest::Certificate::from_pem(pem).map_err(|e| format!("extra CA: {e}"))?;
        builder = builder.tls_certs_merge([cert]);
    }
    if options.accept_invalid_certs {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

//! Who may connect: the Origin allowlist for browsers, loopback for native clients, and tokens for
//! LAN clients and administrative actions.
//!
//! Decided once, at the WebSocket handshake, from the `Origin` header, the peer address and a token
//! (`Authorization: Bearer <t>` or `?token=<t>` in the URL, since browsers cannot set headers on a
//! WebSocket). The Host header is deliberately ignored (DNS rebinding makes it meaningless).

pub use crate::config::OriginPattern;
use crate::transport::uri::percent_decode;
use std::net::SocketAddr;

/// Why a handshake was refused, mapped to an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 403: a browser page from an origin not in ALLOWED_ORIGINS.
    OriginNotAllowed(String),
    /// 401: a LAN client without a valid token.
    TokenRequired,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::OriginNotAllowed(_) => 403,
            Refusal::TokenRequired => 401,
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Refusal::OriginNotAllowed(o) => format!("origin {o} is not in ALLOWED_ORIGINS"),
            Refusal::TokenRequired => {
                "clients from the network must present a token (?token=…)".into()
            }
        }
    }
}

/// What an admitted client may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// It presented the admin token.
    pub admin: bool,
}

/// The admission rules, built once from the configuration.
#[derive(Clone)]
pub struct AccessPolicy {
    origins: Vec<OriginPattern>,
    admin_token: Secret,
    lan_token: Option<Secret>,
}

impl std::fmt::Debug for AccessPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessPolicy")
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

/// A token kept only as its HMAC under a key made at start: a presented token is checked with
/// ring's constant-time HMAC verification, which leaks neither how much of it was right nor its
/// length.
#[derive(Clone)]
struct Secret {
    key: ring::hmac::Key,
    tag: Vec<u8>,
}

impl Secret {
    fn new(token: &str) -> Secret {
        let rng = ring::rand::SystemRandom::new();
        // A fresh random key per token; if the system has no randomness a fixed key still
        // gives a constant-time comparison (only the tag's secrecy is lost, not the check).
        let key = ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
            .unwrap_or_else(|_| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"pispas"));
        let tag = ring::hmac::sign(&key, token.as_bytes()).as_ref().to_vec();
        Secret { key, tag }
    }

    fn matches(&self, presented: &str) -> bool {
        ring::hmac::verify(&self.key, presented.as_bytes(), &self.tag).is_ok()
    }
}

impl AccessPolicy {
    /// Builds the policy; entries of `origins` were validated by the configuration already, and
    /// any that do not parse are skipped.
    pub fn new(origins: &[String], admin_token: String, lan_token: Option<String>) -> Self {
        let origins = origins
            .iter()
            .filter_map(|o| OriginPattern::parse(o).ok())
            .collect();
        AccessPolicy {
            origins,
            admin_token: Secret::new(&admin_token),
            lan_token: lan_token.as_deref().map(Secret::new),
        }
    }

    /// Extra origins allowed besides the configured ones (the engine's own pages).
    pub fn allow_origin(&mut self, origin: &str) {
        if let Ok(p) = OriginPattern::parse(origin) {
            self.origins.push(p);
        }
    }

    /// Decides on one handshake.
    ///
    /// A disallowed Origin is refused whatever the token; a non-loopback peer needs the LAN or the
    /// admin token; a loopback peer without an Origin is a native client and is admitted.
    pub fn admit(
        &self,
        origin: Option<&str>,
        peer: SocketAddr,
        token: Option<&str>,
    ) -> Result<Admission, Refusal> {
        let admin = token.is_some_and(|t| self.admin_token.matches(t));
        let lan = admin || matches!((token, &self.lan_token), (Some(t), Some(l)) if l.matches(t));
        if let Some(o) = origin.filter(|o| !o.is_empty()) {
            if !self.origins.iter().any(|p| p.matches(o)) {
                return Err(Refusal::OriginNotAllowed(o.to_string()));
            }
        }
        if !is_loopback(peer) && !lan {
            return Err(Refusal::TokenRequired);
        }
        Ok(Admission { admin })
    }
}

fn is_loopback(peer: SocketAddr) -> bool {
    match peer {
        SocketAddr::V4(a) => a.ip().is_loopback(),
        SocketAddr::V6(a) => {
            a.ip().is_loopback() || a.ip().to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// The token of a handshake: `Authorization: Bearer <t>` or the `token` query parameter.
pub fn token_from(authorization: Option<&str>, query: Option<&str>) -> Option<String> {
    if let Some(t) = authorization.and_then(|h| h.strip_prefix("Bearer ")) {
        return Some(t.trim().to_string());
    }
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(percent_decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "admin-token-0123456789";

    fn policy() -> AccessPolicy {
        let origins = [
            "https://app.unpispas.es".to_string(),
            "https://*.unpispas.es".to_string(),
        ];
        AccessPolicy::new(&origins, ADMIN.into(), Some("lan-token-0123456789".into()))
    }

    fn local() -> SocketAddr {
        "127.0.0.1:50000".parse().unwrap()
    }

    fn lan() -> SocketAddr {
        "192.0.2.7:50000".parse().unwrap()
    }

    #[test]
    fn the_pispas_origins_are_allowed_and_others_refused() {
        let p = policy();
        assert!(p
            .admit(Some("https://app.unpispas.es"), local(), None)
            .is_ok());
        assert!(p
            .admit(Some("https://tienda.unpispas.es"), local(), None)
            .is_ok());
        assert!(p
            .admit(Some("https://a.b.unpispas.es"), local(), None)
            .is_ok());
        for bad in [
            "https://evil.example",
            "http://app.unpispas.es",
            "https://unpispas.es.evil.example",
            "https://evilunpispas.es",
            "https://unpispas.es",
            "https://app.unpispas.es:8443",
            "null",
        ] {
            assert_eq!(
                p.admit(Some(bad), local(), None).unwrap_err().status(),
                403,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_native_client_on_loopback_needs_nothing() {
        assert_eq!(
            policy().admit(None, local(), None),
            Ok(Admission { admin: false })
        );
        let v6: SocketAddr = "[::1]:1".parse().unwrap();
        assert!(policy().admit(None, v6, None).is_ok());
    }

    #[test]
    fn a_lan_client_needs_a_token() {
        let p = policy();
        assert_eq!(p.admit(None, lan(), None), Err(Refusal::TokenRequired));
        assert_eq!(
            p.admit(None, lan(), Some("wrong-token-0123456789")),
            Err(Refusal::TokenRequired)
        );
        assert_eq!(
            p.admit(None, lan(), Some("lan-token-0123456789")),
            Ok(Admission { admin: false })
        );
        assert_eq!(
            p.admit(None, lan(), Some(ADMIN)),
            Ok(Admission { admin: true })
        );
    }

    #[test]
    fn a_token_does_not_excuse_a_bad_origin() {
        assert!(policy()
            .admit(Some("https://evil.example"), local(), Some(ADMIN))
            .is_err());
    }

    #[test]
    fn tokens_are_read_from_the_header_or_the_query() {
        assert_eq!(token_from(Some("Bearer abc"), None).as_deref(), Some("abc"));
        assert_eq!(
            token_from(None, Some("x=1&token=a%2Bb")).as_deref(),
            Some("a+b")
        );
        assert_eq!(token_from(None, Some("x=1")), None);
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in [
            "app.unpispas.es",
            "https://",
            "https://a/b",
            "https://a*.b",
            "https://*.",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
        assert!(OriginPattern::parse("http://localhost:4200")
            .unwrap()
            .matches("http://localhost:4200"));
    }
}

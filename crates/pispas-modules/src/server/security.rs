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
    /// 426: a LAN client presenting a token over plain ws:// (LAN_PLAIN_TOKENS off).
    TlsRequired,
    /// 429: an address that presented too many wrong tokens, for a while.
    TooManyAttempts,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::OriginNotAllowed(_) => 403,
            Refusal::TokenRequired => 401,
            Refusal::TlsRequired => 426,
            Refusal::TooManyAttempts => 429,
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Refusal::OriginNotAllowed(o) => format!("origin {o} is not in ALLOWED_ORIGINS"),
            Refusal::TokenRequired => {
                "clients from the network must present a token (?token=…)".into()
            }
            Refusal::TlsRequired => "clients from the network present their token over wss:// only (over ws:// anyone on the network could read it; LAN_PLAIN_TOKENS=on allows it)".into(),
            Refusal::TooManyAttempts => "too many wrong tokens from this address; try again in a few minutes".into(),
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
    lan: LanRules,
}

/// How clients from the network are treated (`ADMIN_FROM_LAN`, `LAN_PLAIN_TOKENS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LanRules {
    /// The admin token counts from other computers.
    pub admin_from_lan: bool,
    /// Tokens are taken over plain ws:// from the network.
    pub plain_tokens: bool,
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
    pub fn new(
        origins: &[String],
        admin_token: String,
        lan_token: Option<String>,
        lan: LanRules,
    ) -> Self {
        let origins = origins
            .iter()
            .filter_map(|o| OriginPattern::parse(o).ok())
            .collect();
        AccessPolicy {
            origins,
            admin_token: Secret::new(&admin_token),
            lan_token: lan_token.as_deref().map(Secret::new),
            lan,
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
    /// admin token, over TLS (unless LAN_PLAIN_TOKENS), and is an administrator only with
    /// ADMIN_FROM_LAN; a loopback peer without an Origin is a native client and is admitted.
    /// A refusal for a wrong token is `TokenRequired` with `wrong_token` set, for the caller to
    /// count against the address.
    pub fn admit(
        &self,
        origin: Option<&str>,
        peer: SocketAddr,
        token: Option<&str>,
        tls: bool,
    ) -> Result<Admission, Refusal> {
        if let Some(o) = origin.filter(|o| !o.is_empty()) {
            if !self.origins.iter().any(|p| p.matches(o)) {
                return Err(Refusal::OriginNotAllowed(o.to_string()));
            }
        }
        let from_lan = !is_loopback(peer);
        // Over plain ws:// from the network a token is refused before it is even checked: no
        // answer tells an eavesdropper whether what it read was right.
        if from_lan && token.is_some() && !tls && !self.lan.plain_tokens {
            return Err(Refusal::TlsRequired);
        }
        let admin_token = token.is_some_and(|t| self.admin_token.matches(t));
        let lan =
            admin_token || matches!((token, &self.lan_token), (Some(t), Some(l)) if l.matches(t));
        if from_lan && !lan {
            return Err(Refusal::TokenRequired);
        }
        Ok(Admission {
            admin: admin_token && (!from_lan || self.lan.admin_from_lan),
        })
    }
}

pub(super) fn is_loopback(peer: SocketAddr) -> bool {
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
        AccessPolicy::new(
            &origins,
            ADMIN.into(),
            Some("lan-token-0123456789".into()),
            LanRules::default(),
        )
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
            .admit(Some("https://app.unpispas.es"), local(), None, true)
            .is_ok());
        assert!(p
            .admit(Some("https://tienda.unpispas.es"), local(), None, true)
            .is_ok());
        assert!(p
            .admit(Some("https://a.b.unpispas.es"), local(), None, true)
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
                p.admit(Some(bad), local(), None, true)
                    .unwrap_err()
                    .status(),
                403,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_native_client_on_loopback_needs_nothing() {
        assert_eq!(
            policy().admit(None, local(), None, true),
            Ok(Admission { admin: false })
        );
        let v6: SocketAddr = "[::1]:1".parse().unwrap();
        assert!(policy().admit(None, v6, None, true).is_ok());
    }

    #[test]
    fn a_lan_client_needs_a_token_over_tls() {
        let p = policy();
        assert_eq!(
            p.admit(None, lan(), None, true),
            Err(Refusal::TokenRequired)
        );
        assert_eq!(
            p.admit(None, lan(), Some("wrong-token-0123456789"), true),
            Err(Refusal::TokenRequired)
        );
        assert_eq!(
            p.admit(None, lan(), Some("lan-token-0123456789"), true),
            Ok(Admission { admin: false })
        );
        // Over plain ws:// the token is refused, right or wrong, and not checked at all.
        for token in ["lan-token-0123456789", "wrong-token-0123456789"] {
            assert_eq!(
                p.admit(None, lan(), Some(token), false),
                Err(Refusal::TlsRequired)
            );
        }
        // On this computer plain ws:// is fine.
        assert!(p.admit(None, local(), Some(ADMIN), false).unwrap().admin);
    }

    #[test]
    fn the_admin_token_is_for_this_computer_unless_admin_from_lan() {
        let p = policy();
        assert_eq!(
            p.admit(None, lan(), Some(ADMIN), true),
            Ok(Admission { admin: false }),
            "admitted as a LAN client, without administrative rights"
        );
        assert!(p.admit(None, local(), Some(ADMIN), true).unwrap().admin);
        let open = AccessPolicy::new(
            &[],
            ADMIN.into(),
            None,
            LanRules {
                admin_from_lan: true,
                plain_tokens: true,
            },
        );
        assert!(open.admit(None, lan(), Some(ADMIN), true).unwrap().admin);
        assert!(open.admit(None, lan(), Some(ADMIN), false).unwrap().admin);
    }

    #[test]
    fn a_token_does_not_excuse_a_bad_origin() {
        assert!(policy()
            .admit(Some("https://evil.example"), local(), Some(ADMIN), true)
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

//! What an HTML receipt may load (`PRINT_HTML_FETCH`), and loading it for the browser.
//!
//! A receipt is a document, not a program: an HTML injection in an order note must not make the
//! till reach the shop's LAN devices or a cloud metadata address. So every http(s) subresource
//! is decided here and, when allowed, fetched by the engine itself from the address it checked
//! (pinned, so a DNS answer that changes between the check and the fetch cannot redirect it),
//! and handed to the browser. Redirects go back to the browser, which asks again (and is checked
//! again). `data:` URIs never reach this file.

use crate::transport::http::{self, ClientOptions};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Largest subresource handed to the browser.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// `PRINT_HTML_FETCH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchPolicy {
    /// Public internet addresses only (the default): never loopback, private, link-local
    /// (metadata), CGNAT, multicast or unspecified addresses, checked after DNS resolution.
    Public,
    /// No network at all: only `data:` URIs.
    None,
    /// Only these hosts (lower case), whatever their addresses: the administrator trusts them.
    Hosts(Vec<String>),
}

impl FetchPolicy {
    /// `public`, `none`, or a comma-separated list of host names.
    ///
    /// Fails with a sentence when the text is empty or a host is not a plain name.
    pub fn parse(text: &str) -> Result<FetchPolicy, String> {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "public" | "" => Ok(FetchPolicy::Public),
            "none" | "off" => Ok(FetchPolicy::None),
            list => {
                let hosts: Vec<String> = list
                    .split(',')
                    .map(|h| h.trim().to_string())
                    .filter(|h| !h.is_empty())
                    .collect();
                if let Some(bad) = hosts
                    .iter()
                    .find(|h| h.contains(['/', ' ', '@', '?', '#']) || h.contains("://"))
                {
                    return Err(format!(
                        "{bad:?} is not a host name (write public, none, or hosts like cdn.example.com,img.example.com)"
                    ));
                }
                Ok(FetchPolicy::Hosts(hosts))
            }
        }
    }
}

/// Why a subresource was not loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0}: PRINT_HTML_FETCH is none")]
    NoNetwork(String),
    #[error("{0}: only http and https are loaded")]
    Scheme(String),
    #[error("{url}: {host} is not in PRINT_HTML_FETCH")]
    NotListed { url: String, host: String },
    #[error("{url}: {addr} is not a public address (loopback, private, link-local or metadata)")]
    NotPublic { url: String, addr: IpAddr },
    #[error("{url}: {why}")]
    Unresolvable { url: String, why: String },
}

/// Whether `ip` is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let unique_local = (s[0] & 0xfe00) == 0xfc00;
            let link_local = (s[0] & 0xffc0) == 0xfe80;
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0];
            if nat64 {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return is_public_v4(v4);
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || unique_local
                || link_local
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    let cgnat = o[0] == 100 && (64..128).contains(&o[1]);
    let this_network = o[0] == 0;
    let benchmarking = o[0] == 198 && (o[1] == 18 || o[1] == 19);
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || cgnat
        || this_network
        || benchmarking
        || o[0] >= 240)
}

/// The addresses `url` may be fetched from under `policy`, resolved now.
///
/// Fails with the reason the browser's request is refused.
pub async fn allowed_addrs(
    policy: &FetchPolicy,
    url: &str,
) -> Result<(reqwest::Url, Vec<SocketAddr>), Refused> {
    if *policy == FetchPolicy::None {
        return Err(Refused::NoNetwork(url.to_string()));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| Refused::Unresolvable {
        url: url.to_string(),
        why: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Refused::Scheme(url.to_string()));
    }
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if let FetchPolicy::Hosts(list) = policy {
        if !list.contains(&host) {
            return Err(Refused::NotListed {
                url: url.to_string(),
                host,
            });
        }
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| Refused::Unresolvable {
                url: url.to_string(),
                why: e.to_string(),
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Refused::Unresolvable {
            url: url.to_string(),
            why: "the name has no address".into(),
        });
    }
    if *policy == FetchPolicy::Public {
        // Every address must be public: a name that answers with one private address among
        // public ones could be fetched from the private one.
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(Refused::NotPublic {
                url: url.to_string(),
                addr: bad.ip(),
            });
        }
    }
    Ok((parsed, addrs))
}

/// What the browser gets for a subresource.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// GETs `url` from exactly `addrs` (no redirects followed, at most 8 MiB, within `timeout`).
///
/// Fails when the server cannot be reached, answers too slowly or sends too much.
pub async fn fetch_pinned(
    url: reqwest::Url,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<Fetched, String> {
    let host = url.host_str().unwrap_or_default().to_string();
    let client = http::client_pinned(&ClientOptions::new(timeout), &host, addrs)?;
    let mut response = client.get(url).send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("more than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_link_local_and_metadata_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.50",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:192.168.1.1",
            "64:ff9b::a00:1",
            "::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "151.101.1.69",
            "2a00:1450:4003:80e::200e",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_policy_reads_public_none_or_a_host_list() {
        assert_eq!(FetchPolicy::parse("PUBLIC"), Ok(FetchPolicy::Public));
        assert_eq!(FetchPolicy::parse("none"), Ok(FetchPolicy::None));
        assert_eq!(
            FetchPolicy::parse("cdn.example.com, Img.Example.com"),
            Ok(FetchPolicy::Hosts(vec![
                "cdn.example.com".into(),
                "img.example.com".into()
            ]))
        );
        assert!(FetchPolicy::parse("http://cdn.example.com/x").is_err());
    }

    #[tokio::test]
    async fn a_loopback_url_is_refused_under_public_and_allowed_when_listed() {
        let url = "http://127.0.0.1:9/logo.png";
        let refused = allowed_addrs(&FetchPolicy::Public, url).await.unwrap_err();
        assert!(matches!(refused, Refused::NotPublic { .. }), "{refused}");
        let listed = FetchPolicy::Hosts(vec!["127.0.0.1".into()]);
        assert!(allowed_addrs(&listed, url).await.is_ok());
        let other = FetchPolicy::Hosts(vec!["cdn.example.com".into()]);
        assert!(matches!(
            allowed_addrs(&other, url).await,
            Err(Refused::NotListed { .. })
        ));
        assert!(matches!(
            allowed_addrs(&FetchPolicy::None, url).await,
            Err(Refused::NoNetwork(_))
        ));
        assert!(matches!(
            allowed_addrs(&FetchPolicy::Public, "ftp://example.com/x").await,
            Err(Refused::Scheme(_))
        ));
    }

    #[tokio::test]
    async fn localhost_by_name_is_refused_after_resolution() {
        let refused = allowed_addrs(&FetchPolicy::Public, "http://localhost:8081/")
            .await
            .unwrap_err();
        assert!(matches!(refused, Refused::NotPublic { .. }), "{refused}");
    }
}

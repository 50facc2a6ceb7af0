//! Finding printers on the LAN: a bounded, concurrent probe of TCP port 9100 over one subnet
//! (the till's own /24 unless told otherwise), each hit asked `DLE EOT 1` to tell an ESC/POS
//! printer from any other raw-port device.
//!
//! At most 1,024 addresses, 64 probes at a time, a short timeout each; dropping the future (the
//! client went away) cancels every probe in flight.

use crate::modules::print::escpos::status::is_status_byte;
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most addresses one scan probes (a /22).
const MAX_HOSTS: u32 = 1024;
/// Probes in flight at once.
const CONCURRENCY: usize = 64;

/// Parses `a.b.c.d/nn` (nn ≥ 22) or a single address.
///
/// Fails on anything else, or on a range larger than a /22.
pub fn parse_subnet(s: &str) -> Result<(Ipv4Addr, u32), String> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (
            a,
            b.parse::<u32>()
                .map_err(|_| format!("bad prefix length in {s:?}"))?,
        ),
        None => (s, 32),
    };
    let ip: Ipv4Addr = addr
        .trim()
        .parse()
        .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
    if !(22..=32).contains(&bits) {
        return Err(format!(
            "SUBNET {s:?} is too large: at most a /22 (1,024 addresses) is scanned"
        ));
    }
    Ok((ip, bits))
}

/// The till's own IPv4 address, found without sending anything (a UDP "connect" only picks the
/// route).
fn local_ipv4() -> Option<Ipv4Addr> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.connect("192.0.2.1:9").ok()?;
    match sock.local_addr().ok()? {
        SocketAddr::V4(a) if !a.ip().is_unspecified() => Some(*a.ip()),
        _ => None,
    }
}

/// Addresses to probe: the network's hosts (network and broadcast excluded for ranges).
fn hosts(ip: Ipv4Addr, bits: u32) -> Vec<Ipv4Addr> {
    if bits == 32 {
        return vec![ip];
    }
    let mask = u32::MAX << (32 - bits);
    let net = u32::from(ip) & mask;
    let size = (1u32 << (32 - bits)).min(MAX_HOSTS);
    (1..size.saturating_sub(1))
        .map(|i| Ipv4Addr::from(net + i))
        .collect()
}

/// Probes `port` on every host of `subnet` (default: the local /24).
///
/// Fails when no subnet is given and the local address cannot be found, or the subnet is bad.
pub async fn scan(subnet: Option<&str>, port: u16, timeout: Duration) -> Result<Value, String> {
    let (ip, bits) = match subnet {
        Some(s) => parse_subnet(s)?,
        None => (
            local_ipv4()
                .ok_or("cannot tell this computer's network; give SUBNET (e.g. 192.168.1.0/24)")?,
            24,
        ),
    };
    let targets = hosts(ip, bits);
    let probed = targets.len();
    let found: Vec<Value> = stream::iter(targets)
        .map(|host| probe(host, port, timeout))
        .buffer_unordered(CONCURRENCY)
        .filter_map(|r| async move { r })
        .collect()
        .await;
    let mut found = found;
    found.sort_by_key(|v| {
        v["HOST"]
            .as_str()
            .and_then(|h| h.parse::<Ipv4Addr>().ok())
            .map(u32::from)
            .unwrap_or(0)
    });
    Ok(
        json!({ "SUBNET": format!("{}/{bits}", Ipv4Addr::from(u32::from(ip) & (u32::MAX.checked_shl(32 - bits).unwrap_or(0)))), "PROBED": probed, "FOUND": found }),
    )
}

async fn probe(host: Ipv4Addr, port: u16, timeout: Duration) -> Option<Value> {
    let mut s = tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port)))
        .await
        .ok()?
        .ok()?;
    let escpos = async {
        s.write_all(&[0x10, 0x04, 0x01]).await.ok()?;
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.ok()?;
        Some(is_status_byte(b[0]))
    };
    let answered = tokio::time::timeout(timeout, escpos)
        .await
        .ok()
        .flatten()
        .unwrap_or(false);
    Some(
        json!({ "HOST": host.to_string(), "PORT": port, "URI": format!("tcp://{host}:{port}"), "ESCPOS": answered }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_are_bounded() {
        assert_eq!(parse_subnet("192.168.1.0/24").unwrap().1, 24);
        assert!(parse_subnet("10.0.0.0/8")
            .unwrap_err()
            .contains("too large"));
        assert_eq!(hosts("192.168.1.77".parse().unwrap(), 24).len(), 254);
        assert_eq!(
            hosts("127.0.0.1".parse().unwrap(), 32),
            vec![Ipv4Addr::LOCALHOST]
        );
    }
}

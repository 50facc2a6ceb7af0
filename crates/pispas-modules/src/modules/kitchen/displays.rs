//! PAIR, DISPLAYS and REVOKE: tablets paired for the kitchen LAN listener, for an administrator
//! (the till's kitchen window in the app, or a client with the admin token). PAIR answers the
//! address a tablet opens (`http://<this computer>:<KITCHEN_LAN_PORT>/kitchen?pair=<code>`) and
//! the same as a QR code in SVG, for the window to show. The codes and tokens themselves are
//! `crate::pairing`'s; the listener that admits them is `server/kitchen_lan.rs`.

use super::config::KitchenConfig;
use crate::clock::now_ms;
use crate::pairing::{Pairings, CODE_VALID_MS};
use crate::protocol::{ErrorCode, Failure};
use crate::router::{Outcome, RequestContext};
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr, UdpSocket};

fn admin_only(ctx: &RequestContext, what: &str) -> Result<(), Failure> {
    if ctx.admin && ctx.display.is_none() {
        Ok(())
    } else {
        Err(Failure::new(
            ErrorCode::Unauthorized,
            format!("{what} needs the admin token (the till's kitchen window in the app has it)"),
        ))
    }
}

fn store_failure(e: impl std::fmt::Display) -> Failure {
    Failure::internal("kitchen displays", e)
}

/// This computer's address on the network the listener serves: the one it is bound to, else
/// the address the system would use to reach another computer (no packet is sent).
fn lan_address(bound: SocketAddr) -> IpAddr {
    if !bound.ip().is_unspecified() {
        return bound.ip();
    }
    UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip())
}

/// PAIR: a one-time code for a tablet that will be the display `name`.
pub(super) fn pair(
    pairings: &Pairings,
    cfg: &KitchenConfig,
    name: &str,
    ctx: &RequestContext,
) -> Outcome {
    admin_only(ctx, "PAIR")?;
    let Some(bound) = cfg.lan else {
        return Err(Failure::new(
            ErrorCode::Unsupported,
            "tablets connect through the kitchen LAN listener, which is off: set KITCHEN_LAN=on (configurator, Kitchen display) and save",
        ));
    };
    let code = pairings.start(name, now_ms()).map_err(store_failure)?;
    let host = match lan_address(bound) {
        IpAddr::V6(a) => format!("[{a}]"),
        a @ IpAddr::V4(_) => a.to_string(),
    };
    let url = format!("http://{host}:{}/kitchen?pair={}", bound.port(), code.code);
    let qr = qrcode::QrCode::new(url.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    Ok(json!({
        "NAME": code.name,
        "CODE": code.code,
        "URL": url,
        "EXPIRES_AT": code.expires_at,
        "VALID_MS": CODE_VALID_MS,
        "QR_SVG": qr,
    }))
}

/// DISPLAYS: the paired tablets. Blocking (reads the database).
pub(super) fn list(pairings: &Pairings, cfg: &KitchenConfig, ctx: &RequestContext) -> Outcome {
    admin_only(ctx, "DISPLAYS")?;
    let displays = pairings.list().map_err(store_failure)?;
    Ok(json!({
        "LAN": cfg.lan.map(|a| a.to_string()),
        "DISPLAYS": displays
            .iter()
            .map(|d| json!({ "NAME": d.name, "PAIRED_AT": d.paired_at }))
            .collect::<Vec<Value>>(),
    }))
}

/// REVOKE: unpairs a tablet; its token stops working at once. Blocking (one commit).
pub(super) fn revoke(pairings: &Pairings, name: &str, ctx: &RequestContext) -> Outcome {
    admin_only(ctx, "REVOKE")?;
    let was = pairings.revoke(name).map_err(store_failure)?;
    if was {
        tracing::info!(display = %name, "a kitchen display was unpaired");
    }
    Ok(json!({ "NAME": name, "REVOKED": was }))
}

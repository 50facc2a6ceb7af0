//! The kitchen LAN listener's rules (`KITCHEN_LAN`): what tablets on the network get from it.
//! Plain HTTP serves the kitchen pages and their scripts only, `/endpoint.json`, and `/pair`,
//! which trades a one-time code from the till for a display token. The WebSocket admits a
//! paired display's token only, from no Origin or this listener's own pages, and reaches
//! ORDER_KITCHEN's display actions only: a tablet can never print, weigh, pay, send tickets or
//! read the configuration. A display revoked on the till is refused on its next request.
//!
//! Tokens go over plain ws:// here when no production certificate is installed (a tablet cannot
//! trust the self-signed one): a display token only lets a screen bump tickets, and the till's
//! kitchen window says which it is.

use super::http::{self, Body};
use super::security::Refusal;
use super::viewer;
use super::KitchenLan;
use crate::clock::now_ms;
use crate::pairing::PairError;
use crate::protocol::{ErrorCode, Failure, Request};
use hyper::{Method, Response, StatusCode};
use serde_json::json;

/// What a paired display may ask ORDER_KITCHEN (actions as normalised: no underscores).
const DISPLAY_ACTIONS: [&str; 10] = [
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "LIST",
    "GET",
    "STATUS",
    "LINEDONE",
    "BUMP",
    "RECALL",
    "SERVE",
    "ACK",
];

/// Files a tablet may load (under `ui/`).
const FILES: [&str; 9] = [
    "kitchen.html",
    "kitchen-status.html",
    "css/kitchen.css",
    "css/kitchen-status.css",
    "js/page.js",
    "js/pispas.js",
    "js/kitchen.js",
    "js/kitchen-status.js",
    "favicon.png",
];

/// The answer to a plain HTTP request (not a WebSocket upgrade) on the kitchen listener.
pub(super) async fn page(
    method: &Method,
    path: &str,
    query: Option<&str>,
    lan: &KitchenLan,
) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return http::text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    let path = path.trim_start_matches('/');
    let file = match path {
        "" | "kitchen" => "kitchen.html",
        "kitchen/status" => "kitchen-status.html",
        "endpoint.json" => {
            let body = json!({
                "PORT": lan.port,
                "LAN": true,
                "VERSION": crate::protocol::SERVICE_VERS,
            });
            return http::response(StatusCode::OK, "application/json", body.to_string());
        }
        "pair" => return pair(query, lan).await,
        p if FILES.contains(&p) => p,
        _ => return http::text(StatusCode::NOT_FOUND, "not on the kitchen listener\n"),
    };
    match viewer::asset(file) {
        Some(bytes) => http::response(StatusCode::OK, viewer::content_type(file), bytes),
        None => http::text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// Lets a page served here open its WebSocket back to this listener by name: the pages' CSP
/// allows `'self'` and loopback, and not every tablet browser counts `ws://` as `'self'`. A Host
/// that is not a plain host[:port] leaves the header as it is.
pub(super) fn allow_own_socket(mut r: Response<Body>, host: Option<&str>) -> Response<Body> {
    let plain = |h: &&str| {
        !h.is_empty()
            && h.len() <= 255
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
    };
    let Some(host) = host.filter(plain) else {
        return r;
    };
    let csp = format!(
        "default-src 'self'; connect-src 'self' ws://{host} wss://{host}; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&csp) {
        r.headers_mut().insert("content-security-policy", v);
    }
    r
}

/// `/pair?code=…`: the display token for a valid one-time code, as JSON `{TOKEN, NAME}`.
async fn pair(query: Option<&str>, lan: &KitchenLan) -> Response<Body> {
    let code = query
        .unwrap_or("")
        .split('&')
        .find_map(|p| p.strip_prefix("code="))
        .map(crate::transport::uri::percent_decode)
        .unwrap_or_default();
    let pairings = lan.pairings.clone();
    let redeemed = tokio::task::spawn_blocking(move || pairings.redeem(&code, now_ms())).await;
    match redeemed {
        Ok(Ok((token, name))) => {
            tracing::info!(display = %name, "a kitchen display was paired");
            let body = json!({ "TOKEN": token, "NAME": name });
            http::response(StatusCode::OK, "application/json", body.to_string())
        }
        Ok(Err(e @ PairError::BadCode)) => http::text(StatusCode::FORBIDDEN, e.to_string()),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a kitchen display could not be paired");
            http::text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
        Err(e) => http::text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Admits a WebSocket on the kitchen listener: returns the paired display's name.
pub(super) fn admit(
    lan: &KitchenLan,
    origin: Option<&str>,
    host: Option<&str>,
    token: Option<&str>,
) -> Result<String, Refusal> {
    if let Some(o) = origin.filter(|o| !o.is_empty()) {
        let own = host.is_some_and(|h| o == format!("http://{h}") || o == format!("https://{h}"));
        if !own {
            return Err(Refusal::OriginNotAllowed(o.to_string()));
        }
    }
    token
        .and_then(|t| lan.pairings.check(t))
        .ok_or(Refusal::TokenRequired)
}

/// Refuses what a paired display may not ask, and everything once it has been revoked.
pub(super) fn vet(request: &Request, display: &str, lan: &KitchenLan) -> Result<(), Failure> {
    if !lan.pairings.is_paired(display) {
        return Err(Failure::new(
            ErrorCode::Unauthorized,
            format!(
                "the kitchen display {display:?} is no longer paired: pair it again from the till"
            ),
        ));
    }
    if request.target != "ORDER_KITCHEN" || !DISPLAY_ACTIONS.contains(&request.action.as_str()) {
        return Err(Failure::new(
            ErrorCode::Unauthorized,
            format!(
                "a kitchen display on the network may only ask ORDER_KITCHEN for {}; {} {} is refused",
                "SUBSCRIBE, UNSUBSCRIBE, LIST, GET, STATUS, LINE_DONE, BUMP, RECALL, SERVE, ACK",
                request.target,
                request.raw_action
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pairing::Pairings;
    use crate::store::Store;

    fn lan(name: &str) -> KitchenLan {
        let dir =
            std::env::temp_dir().join(format!("pispas-kitchen-lan-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        KitchenLan {
            pairings: Pairings::open(Store::open(&dir).unwrap()).unwrap(),
            port: 8082,
        }
    }

    fn request(target: &str, action: &str) -> Request {
        Request {
            uuid: "u".into(),
            target: target.into(),
            action: action.into(),
            raw_action: action.into(),
            params: Default::default(),
        }
    }

    #[test]
    fn only_a_paired_token_from_its_own_page_is_admitted() {
        let lan = lan("admit");
        let code = lan.pairings.start("GRILL-TAB", now_ms()).unwrap();
        let (token, _) = lan.pairings.redeem(&code.code, now_ms()).unwrap();
        let host = Some("192.168.1.20:8082");
        assert_eq!(admit(&lan, None, host, Some(&token)).unwrap(), "GRILL-TAB");
        assert_eq!(
            admit(&lan, Some("http://192.168.1.20:8082"), host, Some(&token)).unwrap(),
            "GRILL-TAB"
        );
        assert_eq!(
            admit(&lan, Some("https://evil.example"), host, Some(&token)),
            Err(Refusal::OriginNotAllowed("https://evil.example".into()))
        );
        assert_eq!(
            admit(&lan, None, host, Some("guess")),
            Err(Refusal::TokenRequired)
        );
        assert_eq!(admit(&lan, None, host, None), Err(Refusal::TokenRequired));
    }

    #[test]
    fn a_page_may_open_its_socket_to_the_host_it_came_from_and_nothing_else() {
        let csp = |host| {
            let r = allow_own_socket(http::text(StatusCode::OK, "x"), host);
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string()
        };
        assert!(csp(Some("192.168.1.20:8082"))
            .contains("connect-src 'self' ws://192.168.1.20:8082 wss://192.168.1.20:8082;"));
        let fallback = csp(None);
        for odd in ["evil.example; script-src *", "a b", ""] {
            assert_eq!(csp(Some(odd)), fallback, "{odd:?}");
        }
    }

    #[test]
    fn a_display_reaches_the_display_actions_only_and_nothing_once_revoked() {
        let lan = lan("vet");
        let code = lan.pairings.start("BAR", now_ms()).unwrap();
        lan.pairings.redeem(&code.code, now_ms()).unwrap();
        assert!(vet(&request("ORDER_KITCHEN", "BUMP"), "BAR", &lan).is_ok());
        assert!(vet(&request("ORDER_KITCHEN", "LINEDONE"), "BAR", &lan).is_ok());
        for (t, a) in [
            ("PRINT", "PRINT"),
            ("BASE", "CONFIG"),
            ("ORDER_KITCHEN", "SEND"),
            ("ORDER_KITCHEN", "PAIR"),
        ] {
            let f = vet(&request(t, a), "BAR", &lan).unwrap_err();
            assert_eq!(f.code, ErrorCode::Unauthorized, "{t} {a}");
        }
        lan.pairings.revoke("BAR").unwrap();
        let f = vet(&request("ORDER_KITCHEN", "BUMP"), "BAR", &lan).unwrap_err();
        assert!(f.message.contains("no longer paired"), "{}", f.message);
    }
}

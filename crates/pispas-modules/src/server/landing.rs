//! The page a browser gets from a plain GET of the WebSocket port
//! (`https://local.unpispas.es:5005/`, `http://127.0.0.1:5005/`): "the Pispas service is
//! running", its version, and whether this browser trusts the certificate. It is how a cashier
//! accepts a self-signed certificate and what support asks them to open. No admin data, no
//! scripts, nothing that changes state.

use super::http::{self, Body};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

/// Where the landing page links back to.
const POS_URL: &str = "https://app.unpispas.es";

/// The response to a non-WebSocket request on the WebSocket port.
pub(crate) fn page(req: &Request<Incoming>, tls: bool) -> Response<Body> {
    route(req.method(), req.uri().path(), tls)
}

fn route(method: &Method, path: &str, tls: bool) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return http::text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    match path {
        "/" | "/index.html" => {
            http::response(StatusCode::OK, "text/html; charset=utf-8", html(tls))
        }
        "/health" => http::response(
            StatusCode::OK,
            "application/json",
            serde_json::json!({ "SERVICE": "pispas-local-service", "VERSION": crate::protocol::SERVICE_VERS, "TLS": tls })
                .to_string(),
        ),
        _ => http::text(
            StatusCode::NOT_FOUND,
            "This is the Pispas local service. The POS connects here with a WebSocket.\n",
        ),
    }
}

fn html(tls: bool) -> String {
    let version = crate::protocol::SERVICE_VERS;
    let trust = if tls {
        "This browser trusts the service's certificate: the POS can connect with <code>wss://</code>."
    } else {
        "This page came over plain HTTP. The POS on https needs <code>wss://</code>: open \
         <a href=\"https://local.unpispas.es:5005/\">https://local.unpispas.es:5005/</a> once and accept the certificate if the browser asks."
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pispas local service</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}\
         h1{{font-size:1.6rem}} .ok{{color:#17803d}}</style></head><body>\
         <h1 class=\"ok\">The Pispas service is running</h1>\
         <p>Version {version}.</p><p>{trust}</p>\
         <p><a href=\"{POS_URL}\">Back to the POS</a></p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn text(r: Response<Body>) -> String {
        String::from_utf8_lossy(&r.into_body().collect().await.unwrap().to_bytes()).into_owned()
    }

    #[tokio::test]
    async fn the_page_says_running_with_the_version_and_the_connection_kind() {
        let over_tls = text(route(&Method::GET, "/", true)).await;
        assert!(over_tls.contains("is running"), "{over_tls}");
        assert!(over_tls.contains(crate::protocol::SERVICE_VERS));
        assert!(over_tls.contains("trusts"));
        let plain = text(route(&Method::GET, "/", false)).await;
        assert!(plain.contains("https://local.unpispas.es:5005/"));
    }

    #[test]
    fn other_paths_and_methods_are_refused() {
        assert_eq!(
            route(&Method::GET, "/config", true).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            route(&Method::POST, "/", true).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}

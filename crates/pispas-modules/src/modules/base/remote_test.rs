//! REMOTE_TEST, the configurator's "test connection" button: one attempt to reach the remote
//! gateway with the saved REMOTE_* keys (or the form's unsaved ones over them), through the same
//! client the gateway uses, and a sentence saying what happened. Reaching or not reaching the
//! cloud is the answer (a SUCCESS with `OK`), not a failure; bad keys are BAD_PARAMS naming the
//! key. Nothing is sent after the handshake and the running link is not touched.

use super::context::BaseContext;
use crate::config::RemoteConfig;
use crate::protocol::{Failure, SERVICE_VERS};
use crate::router::Outcome;
use crate::transport::ws_client::{self, ConnectError};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// How long the attempt may take.
const TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn run(ctx: &BaseContext, form: Map<String, Value>) -> Outcome {
    let mut values = ctx.config.values.clone();
    for (k, v) in form {
        let k = k.to_ascii_uppercase();
        if !k.starts_with("REMOTE_") {
            return Err(Failure::bad_params(format!(
                "VALUES: {k} is not a REMOTE_* key"
            )));
        }
        let text = match v {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        };
        // A secret the form shows as *** keeps its saved value.
        if text != "***" {
            values.insert(k, text);
        }
    }
    let base = ctx
        .config
        .config_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let config = RemoteConfig::from_values(&values, &base)
        .map_err(|e| Failure::bad_params(e.to_string()))?;
    let Some(config) = config else {
        return Ok(json!({
            "OK": false,
            "STATE": "OFF",
            "DETAIL": "REMOTE_HOST is empty: the remote gateway is off",
            "MS": 0,
        }));
    };
    let started = Instant::now();
    let attempt = ws_client::connect(&config, 1 << 20, TIMEOUT).await;
    let ms = started.elapsed().as_millis() as u64;
    Ok(match attempt {
        Ok(mut ws) => {
            let _ = ws.close(None).await;
            json!({
                "OK": true,
                "STATE": "CONNECTED",
                "DETAIL": format!("reached {} (service {SERVICE_VERS})", config.authority()),
                "MS": ms,
            })
        }
        Err(e) => json!({
            "OK": false,
            "STATE": if e.is_refusal() { "REFUSED" } else { "UNREACHABLE" },
            "DETAIL": explain(&e),
            "MS": ms,
        }),
    })
}

/// What to tell the person at the configurator.
fn explain(e: &ConnectError) -> String {
    match e {
        ConnectError::Refused(_) => format!("{e}: check REMOTE_TOKEN"),
        ConnectError::Tls(_) | ConnectError::Ca(_) => {
            format!(
                "{e} (the gateway's certificate is not trusted: check REMOTE_HOST and REMOTE_CA)"
            )
        }
        ConnectError::Proxy(_) => format!("{e} (check REMOTE_PROXY)"),
        ConnectError::Io(_) | ConnectError::Timeout(_) => {
            format!("{e} (check REMOTE_HOST, REMOTE_PORT and the shop's internet connection)")
        }
        ConnectError::Status(_) | ConnectError::Handshake(_) => format!("{e} (check REMOTE_PATH)"),
    }
}

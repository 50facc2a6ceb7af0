//! BASE's command log actions (admin token required): `LOG_QUERY` (a filtered page, newest
//! first), `LOG_GET` (one entry with its request and reply), `LOG_EXPORT` (a filtered range as
//! JSON lines), `LOG_SUBSCRIBE`/`LOG_UNSUBSCRIBE` (live `LOG_ENTRY` events).
//!
//! The filters and SQL live in `commandlog::query`; this file maps parameters and errors.

use crate::commandlog::{query, CommandLog, LIVE_TOPIC};
use crate::protocol::{ErrorCode, Failure, Request};
use crate::router::{BoxFuture, Outcome, RequestContext};
use serde_json::{json, Value};

/// Handles a `LOG*` action; `None` when `action` is not one.
pub fn call(
    log: &CommandLog,
    action: &str,
    request: &Request,
    ctx: &RequestContext,
) -> Option<BoxFuture<Outcome>> {
    let known = matches!(
        action,
        "LOGQUERY" | "LOGGET" | "LOGEXPORT" | "LOGSUBSCRIBE" | "LOGUNSUBSCRIBE"
    );
    if !known {
        return None;
    }
    if let Err(f) = ctx.require_admin() {
        return Some(ready(Err(f)));
    }
    let Some(store) = log.store().cloned() else {
        return Some(ready(Err(Failure::new(
            ErrorCode::ModuleUnavailable,
            "the command log is off (COMMAND_LOG=off in the configuration)",
        ))));
    };
    Some(match action {
        "LOGSUBSCRIBE" => {
            ctx.subscribe(LIVE_TOPIC, &request.uuid);
            log.watch(ctx.connection_id);
            ready(Ok(json!({ "TOPIC": LIVE_TOPIC })))
        }
        "LOGUNSUBSCRIBE" => {
            ctx.unsubscribe(LIVE_TOPIC);
            ready(Ok(
                json!({ "WAS_SUBSCRIBED": log.unwatch(ctx.connection_id) }),
            ))
        }
        "LOGGET" => {
            let id = match request.u64_param("ID") {
                Ok(Some(id)) => id,
                Ok(None) => return Some(ready(Err(Failure::bad_params("ID is required")))),
                Err(f) => return Some(ready(Err(f))),
            };
            Box::pin(async move {
                match store.call(move |c| query::entry(c, id)).await {
                    Ok(Some(entry)) => Ok(entry),
                    Ok(None) => Err(Failure::bad_params(format!(
                        "no command log entry {id} (it may have been trimmed)"
                    ))),
                    Err(e) => Err(internal(e)),
                }
            })
        }
        "LOGQUERY" => {
            let (filter, limit) = match filter_of(request) {
                Ok(f) => f,
                Err(f) => return Some(ready(Err(f))),
            };
            let dropped = log.dropped();
            Box::pin(async move {
                store
                    .call(move |c| {
                        let (entries, more) = query::page(c, &filter, limit)?;
                        let mut stats = query::stats(c)?;
                        if let Value::Object(m) = &mut stats {
                            m.insert("DROPPED".into(), json!(dropped));
                        }
                        Ok(json!({ "ENTRIES": entries, "MORE": more, "STATS": stats }))
                    })
                    .await
                    .map_err(internal)
            })
        }
        _ => {
            // LOGEXPORT
            let (filter, _) = match filter_of(request) {
                Ok(f) => f,
                Err(f) => return Some(ready(Err(f))),
            };
            Box::pin(async move {
                store
                    .call(move |c| query::export(c, &filter))
                    .await
                    .map(|(jsonl, lines, truncated)| {
                        json!({ "JSONL": jsonl, "LINES": lines, "TRUNCATED": truncated, "MAX_LINES": query::MAX_EXPORT })
                    })
                    .map_err(internal)
            })
        }
    })
}

fn ready(outcome: Outcome) -> BoxFuture<Outcome> {
    Box::pin(std::future::ready(outcome))
}

fn internal(e: impl std::fmt::Display) -> Failure {
    tracing::warn!(error = %e, "command log read failed");
    Failure::new(
        ErrorCode::Internal,
        format!("the command log could not be read: {e}"),
    )
}

/// The filter parameters: TARGET, RESULT, KIND, TEXT, SINCE_MS, UNTIL_MS, BEFORE_ID, AFTER_ID and
/// LIMIT (page size, default 200).
fn filter_of(request: &Request) -> Result<(query::Filter, usize), Failure> {
    let text = |name: &str| -> Result<Option<String>, Failure> {
        Ok(request
            .str_param(name)?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string))
    };
    let result = text("RESULT")?;
    if let Some(r) = &result {
        let r = r.to_ascii_uppercase();
        if !["SUCCESS", "FAILURE", "PENDING", "EVENT"].contains(&r.as_str()) {
            return Err(Failure::bad_params(
                "RESULT must be SUCCESS, FAILURE, PENDING or EVENT",
            ));
        }
    }
    let filter = query::Filter {
        target: text("TARGET")?,
        result,
        kind: text("KIND")?,
        text: text("TEXT")?,
        since_ms: request.u64_param("SINCE_MS")?,
        until_ms: request.u64_param("UNTIL_MS")?,
        before_id: request.u64_param("BEFORE_ID")?,
        after_id: request.u64_param("AFTER_ID")?,
    };
    let limit = request.u64_param("LIMIT")?.unwrap_or(200) as usize;
    Ok((filter, limit))
}

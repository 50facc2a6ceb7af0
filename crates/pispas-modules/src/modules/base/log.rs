//! BASE's command log actions (admin token required, checked by `mod.rs`): `LOG_QUERY` (a
//! filtered page, newest first), `LOG_GET` (one entry with its request and reply), `LOG_EXPORT`
//! (a filtered range as JSON lines), `LOG_SUBSCRIBE`/`LOG_UNSUBSCRIBE` (live `LOG_ENTRY` events).
//!
//! The filters and SQL live in `commandlog::query`; this file reads parameters and runs them.

use crate::commandlog::{query, CommandLog, LIVE_TOPIC};
use crate::protocol::{Failure, Request};
use crate::router::{BoxFuture, Outcome, RequestContext};
use serde_json::{json, Value};

/// Page size of LOG_QUERY when LIMIT is not given.
const DEFAULT_LIMIT: usize = 200;

/// A command log action with its parameters read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LogAction {
    Query { filter: query::Filter, limit: usize },
    Get { id: u64 },
    Export { filter: query::Filter },
    Subscribe,
    Unsubscribe,
}

impl LogAction {
    /// `LOG_QUERY`'s filter and LIMIT. Fails naming a parameter of the wrong type.
    pub(super) fn query(request: &Request) -> Result<LogAction, Failure> {
        let filter = filter_of(request)?;
        let limit = request
            .u64_param("LIMIT")?
            .map_or(DEFAULT_LIMIT, |l| usize::try_from(l).unwrap_or(usize::MAX));
        Ok(LogAction::Query { filter, limit })
    }

    /// `LOG_GET`'s ID. Fails when it is missing or not a number.
    pub(super) fn get(request: &Request) -> Result<LogAction, Failure> {
        match request.u64_param("ID")? {
            Some(id) => Ok(LogAction::Get { id }),
            None => Err(Failure::bad_params("ID is required")),
        }
    }

    /// `LOG_EXPORT`'s filter. Fails naming a parameter of the wrong type.
    pub(super) fn export(request: &Request) -> Result<LogAction, Failure> {
        Ok(LogAction::Export {
            filter: filter_of(request)?,
        })
    }
}

/// Runs a log action (the log is known to be on).
pub(super) fn call(
    log: &CommandLog,
    action: LogAction,
    request: &Request,
    ctx: &RequestContext,
) -> BoxFuture<Outcome> {
    let Some(store) = log.store().cloned() else {
        return ready(Err(Failure::internal(
            "command log",
            "the command log has no database",
        )));
    };
    match action {
        LogAction::Subscribe => {
            ctx.subscribe(LIVE_TOPIC, &request.uuid);
            log.watch(ctx.connection_id);
            ready(Ok(json!({ "TOPIC": LIVE_TOPIC })))
        }
        LogAction::Unsubscribe => {
            ctx.unsubscribe(LIVE_TOPIC);
            ready(Ok(
                json!({ "WAS_SUBSCRIBED": log.unwatch(ctx.connection_id) }),
            ))
        }
        LogAction::Get { id } => Box::pin(async move {
            match store.call(move |c| query::entry(c, id)).await {
                Ok(Some(entry)) => Ok(entry),
                Ok(None) => Err(Failure::bad_params(format!(
                    "no command log entry {id} (it may have been trimmed)"
                ))),
                Err(e) => Err(Failure::internal("reading the command log", e)),
            }
        }),
        LogAction::Query { filter, limit } => {
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
                    .map_err(|e| Failure::internal("reading the command log", e))
            })
        }
        LogAction::Export { filter } => Box::pin(async move {
            store
                .call(move |c| query::export(c, &filter))
                .await
                .map(|(jsonl, lines, truncated)| {
                    json!({ "JSONL": jsonl, "LINES": lines, "TRUNCATED": truncated, "MAX_LINES": query::MAX_EXPORT })
                })
                .map_err(|e| Failure::internal("reading the command log", e))
        }),
    }
}

fn ready(outcome: Outcome) -> BoxFuture<Outcome> {
    Box::pin(std::future::ready(outcome))
}

/// The filter parameters: TARGET, RESULT, KIND, TEXT, SINCE_MS, UNTIL_MS, BEFORE_ID, AFTER_ID.
fn filter_of(request: &Request) -> Result<query::Filter, Failure> {
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
    Ok(query::Filter {
        target: text("TARGET")?,
        result,
        kind: text("KIND")?,
        text: text("TEXT")?,
        since_ms: request.u64_param("SINCE_MS")?,
        until_ms: request.u64_param("UNTIL_MS")?,
        before_id: request.u64_param("BEFORE_ID")?,
        after_id: request.u64_param("AFTER_ID")?,
    })
}

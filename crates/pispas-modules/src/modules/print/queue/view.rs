//! How a job looks to clients (JOB, JOBS, events), and the reply a PRINT-like request gets for a
//! job in a given state: SUCCESS while it is delivered or still coming, FAILURE with the stored
//! reason once it never will be.

use super::state::JobState;
use super::store::JobRow;
use crate::protocol::{ErrorCode, Failure};
use serde_json::{json, Value};

/// A job as clients see it.
pub fn job_json(row: &JobRow) -> Value {
    json!({
        "JOB_ID": row.id,
        "UUID": row.uuid,
        "PRINTER": row.printer,
        "FORMAT": row.format.name(),
        "STATE": row.state.as_str(),
        "REASON": row.reason.map(ErrorCode::as_str),
        "MESSAGE": row.message,
        "ATTEMPTS": row.attempts,
        "ACCEPTED_AT": row.accepted_at,
        "FINISHED_AT": row.finished_at,
        "BYTES": row.bytes,
        "SIZE": row.size,
        "OPTIONS": row.options.to_json(),
        "TIMINGS": row.timings,
        "REPRINT_OF": row.source_job,
    })
}

/// The reply to PRINT-like actions for a job in `row`'s state.
pub fn reply_for(row: &JobRow, repeat: bool) -> Result<Value, Failure> {
    let mut data = job_json(row);
    if let Some(m) = data.as_object_mut() {
        m.insert("DUPLICATE".into(), json!(repeat));
    }
    if !row.state.is_failure() {
        return Ok(data);
    }
    let code = row.reason.unwrap_or(match row.state {
        JobState::Cancelled => ErrorCode::JobCancelled,
        JobState::Expired => ErrorCode::JobExpired,
        // A failure stored without its reason (never written by this version).
        JobState::Failed
        | JobState::Queued
        | JobState::Printing
        | JobState::Waiting
        | JobState::Delivered => ErrorCode::DeliveryFailed,
    });
    let message = row
        .message
        .clone()
        .unwrap_or_else(|| format!("job {} {}", row.id, row.state.as_str().to_ascii_lowercase()));
    Err(Failure::new(code, message).with_details(data))
}

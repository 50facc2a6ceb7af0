//! How a job looks to clients (JOB, JOBS, events), and the reply a PRINT-like request gets for a
//! job in a given state: SUCCESS while it is delivered or still coming, FAILURE with the stored
//! reason once it never will be.

use super::store::{state, JobRow};
use crate::modules::print::error::code_from_reason;
use crate::protocol::Failure;
use serde_json::{json, Value};

/// A job as clients see it.
pub fn job_json(row: &JobRow) -> Value {
    json!({
        "JOB_ID": row.id,
        "UUID": row.uuid,
        "PRINTER": row.printer,
        "FORMAT": row.format,
        "STATE": row.state,
        "REASON": row.reason,
        "MESSAGE": row.message,
        "ATTEMPTS": row.attempts,
        "ACCEPTED_AT": row.accepted_at,
        "FINISHED_AT": row.finished_at,
        "BYTES": row.bytes,
        "SIZE": row.size,
        "OPTIONS": row.options,
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
    match row.state.as_str() {
        state::FAILED | state::CANCELLED | state::EXPIRED => {
            let reason = row.reason.clone().unwrap_or_else(|| row.state.clone());
            let message = row
                .message
                .clone()
                .unwrap_or_else(|| format!("job {} {}", row.id, row.state.to_lowercase()));
            Err(Failure::new(code_from_reason(&reason), message).with_details(data))
        }
        _ => Ok(data),
    }
}

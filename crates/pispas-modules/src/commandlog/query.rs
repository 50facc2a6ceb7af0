//! Reading the command log: filtered pages of summaries (newest first), one entry in full, and an
//! export of a filtered range as JSON lines (oldest first).
//!
//! Filters are the same for all three: TARGET, RESULT (SUCCESS, FAILURE, PENDING, EVENT), KIND
//! (REQUEST, EVENT), TEXT (found in the client, target, action, UUID, request or reply), SINCE_MS
//! and UNTIL_MS. This file does not check permissions; BASE does (admin token).

use super::iso8601;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, Row};
use serde_json::{json, Map, Value};

/// Most summaries in one page.
pub const MAX_PAGE: usize = 1000;
/// Most entries in one export.
pub const MAX_EXPORT: usize = 50_000;

const SUMMARY_COLUMNS: &str =
    "id, at_ms, kind, conn, client, target, action, uuid, result, code, duration_us";

/// Which entries a query wants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub target: Option<String>,
    pub result: Option<String>,
    pub kind: Option<String>,
    pub text: Option<String>,
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
    /// Only entries with a smaller id (paging backwards).
    pub before_id: Option<u64>,
    /// Only entries with a larger id (catching up after a reconnect).
    pub after_id: Option<u64>,
}

impl Filter {
    /// The WHERE clause and its parameters.
    fn sql(&self) -> (String, Vec<Sql>) {
        let mut clauses = Vec::new();
        let mut params: Vec<Sql> = Vec::new();
        if let Some(t) = &self.target {
            params.push(Sql::Text(t.to_ascii_uppercase()));
            clauses.push(format!("target = ?{}", params.len()));
        }
        if let Some(r) = &self.result {
            params.push(Sql::Text(r.to_ascii_uppercase()));
            clauses.push(format!("result = ?{}", params.len()));
        }
        if let Some(k) = &self.kind {
            params.push(Sql::Text(k.to_ascii_uppercase()));
            clauses.push(format!("kind = ?{}", params.len()));
        }
        if let Some(text) = self.text.as_deref().filter(|t| !t.is_empty()) {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            params.push(Sql::Text(format!("%{escaped}%")));
            let n = params.len();
            clauses.push(format!(
                "(client LIKE ?{n} ESCAPE '\\' OR target LIKE ?{n} ESCAPE '\\' OR action LIKE ?{n} ESCAPE '\\' \
                 OR uuid LIKE ?{n} ESCAPE '\\' OR request LIKE ?{n} ESCAPE '\\' OR reply LIKE ?{n} ESCAPE '\\')"
            ));
        }
        for (value, op) in [
            (self.since_ms, "at_ms >="),
            (self.until_ms, "at_ms <="),
            (self.before_id, "id <"),
            (self.after_id, "id >"),
        ] {
            if let Some(v) = value {
                params.push(Sql::Integer(v as i64));
                clauses.push(format!("{op} ?{}", params.len()));
            }
        }
        let sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        (sql, params)
    }
}

fn summary(row: &Row) -> rusqlite::Result<Value> {
    let at: i64 = row.get(1)?;
    Ok(json!({
        "ID": row.get::<_, i64>(0)?,
        "AT_MS": at,
        "AT": iso8601(at as u64),
        "KIND": row.get::<_, String>(2)?,
        "CONN": row.get::<_, Option<i64>>(3)?,
        "CLIENT": row.get::<_, String>(4)?,
        "TARGET": row.get::<_, String>(5)?,
        "ACTION": row.get::<_, String>(6)?,
        "UUID": row.get::<_, Option<String>>(7)?,
        "RESULT": row.get::<_, String>(8)?,
        "CODE": row.get::<_, Option<String>>(9)?,
        "DURATION_US": row.get::<_, Option<i64>>(10)?,
    }))
}

/// A page of summaries, newest first, and whether older ones exist.
///
/// Fails on a database error.
pub fn page(c: &Connection, filter: &Filter, limit: usize) -> rusqlite::Result<(Vec<Value>, bool)> {
    let limit = limit.clamp(1, MAX_PAGE);
    let (clause, params) = filter.sql();
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM command_log {clause} ORDER BY id DESC LIMIT {}",
        limit + 1
    );
    let mut stmt = c.prepare(&sql)?;
    let mut rows: Vec<Value> = stmt
        .query_map(rusqlite::params_from_iter(params), summary)?
        .collect::<Result<_, _>>()?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

/// Summaries of these ids (for live updates), oldest first.
///
/// Fails on a database error.
pub fn summaries_by_id(c: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<Value>> {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM command_log WHERE id IN ({list}) ORDER BY id");
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt.query_map([], summary)?.collect();
    rows
}

fn full(row: &Row) -> rusqlite::Result<Value> {
    let mut v = summary(row)?;
    let parse = |s: Option<String>| {
        s.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s)))
            .unwrap_or(Value::Null)
    };
    if let Value::Object(map) = &mut v {
        map.insert("REQUEST".into(), parse(row.get(11)?));
        map.insert("REPLY".into(), parse(row.get(12)?));
    }
    Ok(v)
}

/// One entry with its request and reply JSON, or `None` when it no longer exists.
///
/// Fails on a database error.
pub fn entry(c: &Connection, id: u64) -> rusqlite::Result<Option<Value>> {
    let sql = format!("SELECT {SUMMARY_COLUMNS}, request, reply FROM command_log WHERE id = ?1");
    match c.query_row(&sql, [id as i64], full) {
        Ok(v) => Ok(Some(v)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The filtered range as JSON lines (one full entry per line, oldest first), the number of lines
/// and whether it was cut at [`MAX_EXPORT`].
///
/// Fails on a database error.
pub fn export(c: &Connection, filter: &Filter) -> rusqlite::Result<(String, usize, bool)> {
    let (clause, params) = filter.sql();
    let sql = format!(
        "SELECT * FROM (SELECT {SUMMARY_COLUMNS}, request, reply FROM command_log {clause} ORDER BY id DESC LIMIT {}) ORDER BY id",
        MAX_EXPORT + 1
    );
    let mut stmt = c.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = String::new();
    let mut n = 0;
    let mut truncated = false;
    while let Some(row) = rows.next()? {
        if n == 0 && count_over(c, filter)? {
            // The oldest row is the one past the limit: skip it and say so.
            truncated = true;
            continue;
        }
        out.push_str(&full(row)?.to_string());
        out.push('\n');
        n += 1;
    }
    Ok((out, n, truncated))
}

fn count_over(c: &Connection, filter: &Filter) -> rusqlite::Result<bool> {
    let (clause, params) = filter.sql();
    let sql = format!("SELECT COUNT(*) > {MAX_EXPORT} FROM command_log {clause}");
    c.query_row(&sql, rusqlite::params_from_iter(params), |r| r.get(0))
}

/// How big the log is: entries, bytes, the oldest entry's time.
///
/// Fails on a database error.
pub fn stats(c: &Connection) -> rusqlite::Result<Value> {
    c.query_row(
        "SELECT COUNT(*), COALESCE(SUM(bytes), 0), MIN(at_ms) FROM command_log",
        [],
        |r| {
            let mut m = Map::new();
            m.insert("ENTRIES".into(), json!(r.get::<_, i64>(0)?));
            m.insert("BYTES".into(), json!(r.get::<_, i64>(1)?));
            m.insert("OLDEST_MS".into(), json!(r.get::<_, Option<i64>>(2)?));
            Ok(Value::Object(m))
        },
    )
}

//! The payment journal: one row per payment request, keyed by its UUIDV4 (UNIQUE), written to the
//! engine's SQLite store **before anything is sent to a terminal**, and every state change after
//! it. Shared by PAYTEF, MYPOS and CASHGUARD. It follows the print queue: the UUIDV4 is the
//! idempotency key, inserts share one commit through `store::group_commit`, and every write the
//! caller waits for is committed (WAL, synchronous=FULL) before it returns.
//!
//! It keeps the masked PAN, brand, auth code, RRN, entry mode and receipt lines — never a full
//! PAN (masked again here, whatever a driver hands in), track data, CVV or PIN block. It does
//! not decide anything: the runner (`runner.rs`) owns the state machine.

use super::model::{mask_card_field, mask_pan, CardData, Operation, Outcome, PaymentState};
use crate::clock::now_ms_i64;
use crate::protocol::ErrorCode;
use crate::store::group_commit::GroupCommit;
use crate::store::{Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const SCHEMA: &str = "
CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    terminal TEXT NOT NULL,
    operation TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT,
    terminal_ref TEXT NOT NULL,
    original TEXT,
    state TEXT NOT NULL,
    code TEXT,
    message TEXT,
    card TEXT,
    brand TEXT,
    auth_code TEXT,
    rrn TEXT,
    entry_mode TEXT,
    receipt TEXT,
    resolution TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    detail TEXT
);
CREATE INDEX payments_open ON payments (target, terminal, state);
CREATE INDEX payments_time ON payments (created_at);
";

/// The states a payment is open in (the terminal may still be working on it).
const OPEN: &str = "('RECEIVED','SENT','IN_PROGRESS')";

/// A payment to journal.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub uuid: String,
    /// The TARGET (`MYPOS`, `PAYTEF`, `CASHGUARD`).
    pub target: &'static str,
    pub terminal: String,
    pub operation: Operation,
    pub amount: u64,
    pub currency: String,
    /// The POS's own reference (ticket number).
    pub reference: Option<String>,
    /// What the terminal is told (derived from the UUIDV4).
    pub terminal_ref: String,
    /// The sale a refund or reversal is about.
    pub original: Option<String>,
}

/// A payment as journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRow {
    pub id: i64,
    pub uuid: String,
    pub target: String,
    pub terminal: String,
    pub operation: Operation,
    pub amount: u64,
    pub currency: String,
    pub reference: Option<String>,
    pub terminal_ref: String,
    pub original: Option<String>,
    pub state: PaymentState,
    pub code: Option<ErrorCode>,
    pub message: Option<String>,
    pub card: CardData,
    pub resolution: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A kind's own outcome fields (cash: INSERTED, CHANGE, REST), merged into replies.
    pub detail: Option<Value>,
}

impl PaymentRow {
    /// The FAILURE code for this payment (None: a SUCCESS).
    pub fn failure_code(&self) -> Option<ErrorCode> {
        self.state.failure_code().map(|c| self.code.unwrap_or(c))
    }

    /// The fields every reply, event and JOURNAL entry carries.
    pub fn to_json(&self, replayed: bool) -> Value {
        let mut data = json!({
            "PAYMENT": self.uuid,
            "STATE": self.state.as_str(),
            "OPERATION": self.operation.as_str(),
            "AMOUNT": self.amount,
            "CURRENCY": self.currency,
            "TERMINAL": self.terminal,
            "REFERENCE": self.reference,
            "TERMINAL_REFERENCE": self.terminal_ref,
            "ORIGINAL": self.original,
            "AUTH_CODE": self.card.auth_code,
            "CARD": self.card.card,
            "BRAND": self.card.brand,
            "RRN": self.card.rrn,
            "ENTRY_MODE": self.card.entry_mode,
            "RECEIPT": self.card.receipt,
            "MESSAGE": self.message,
            "CODE": self.failure_code().map(ErrorCode::as_str),
            "RESOLUTION": self.resolution,
            "CREATED_AT": self.created_at,
            "UPDATED_AT": self.updated_at,
            "REPLAYED": replayed,
        });
        if let (Some(Value::Object(extra)), Some(map)) = (&self.detail, data.as_object_mut()) {
            for (k, v) in extra {
                map.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        data
    }
}

const COLUMNS: &str = "id, uuid, target, terminal, operation, amount, currency, reference, terminal_ref, original, state, code, message, card, brand, auth_code, rrn, entry_mode, receipt, resolution, created_at, updated_at, detail";

fn unreadable(index: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, what.into())
}

fn row(r: &Row) -> rusqlite::Result<PaymentRow> {
    let operation: String = r.get(4)?;
    let operation = Operation::parse(&operation)
        .ok_or_else(|| unreadable(4, format!("operation {operation:?}")))?;
    let state: String = r.get(10)?;
    let state =
        PaymentState::parse(&state).ok_or_else(|| unreadable(10, format!("state {state:?}")))?;
    let code: Option<String> = r.get(11)?;
    let receipt: Option<String> = r.get(18)?;
    let amount: i64 = r.get(5)?;
    Ok(PaymentRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        target: r.get(2)?,
        terminal: r.get(3)?,
        operation,
        amount: amount.max(0) as u64,
        currency: r.get(6)?,
        reference: r.get(7)?,
        terminal_ref: r.get(8)?,
        original: r.get(9)?,
        state,
        code: code.as_deref().and_then(ErrorCode::from_wire),
        message: r.get(12)?,
        card: CardData {
            card: r.get(13)?,
            brand: r.get(14)?,
            auth_code: r.get(15)?,
            rrn: r.get(16)?,
            entry_mode: r.get(17)?,
            receipt: receipt
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
        },
        resolution: r.get(19)?,
        created_at: r.get(20)?,
        updated_at: r.get(21)?,
        detail: r
            .get::<_, Option<String>>(22)?
            .and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// Whether an insert created the payment or found one under its UUIDV4.
#[derive(Debug)]
pub enum Inserted {
    New(PaymentRow),
    Existing(PaymentRow),
}

/// JOURNAL's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub terminal: Option<String>,
    pub state: Option<PaymentState>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: u32,
}

/// The journal; a cheap clone.
#[derive(Clone)]
pub struct Journal {
    store: Store,
    inserter: GroupCommit<NewPayment, Inserted>,
}

impl Journal {
    /// Creates the table if needed and starts the group commit.
    ///
    /// Fails when the database cannot be written.
    pub fn open(
        store: Store,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<Journal, StoreError> {
        store.ensure_schema("payment_v1", SCHEMA)?;
        let s = store.clone();
        let inserter = GroupCommit::start(
            "payments",
            Arc::new(move |batch: &[NewPayment]| insert_batch(&s, batch)),
            tracker,
            shutdown,
        );
        Ok(Journal { store, inserter })
    }

    /// Journals a new payment as RECEIVED; committed when this returns. A payment already
    /// journaled under the UUIDV4 is returned as it is, untouched.
    ///
    /// Fails when the database cannot be written.
    pub async fn insert(&self, payment: NewPayment) -> Result<Inserted, StoreError> {
        self.inserter.enqueue(payment).committed().await
    }

    /// Moves an open payment to SENT or IN_PROGRESS (never backwards, never out of a final
    /// state); committed when this returns. Returns whether it changed.
    pub async fn advance(&self, uuid: &str, state: PaymentState) -> Result<bool, StoreError> {
        let uuid = uuid.to_string();
        let from = match state {
            PaymentState::Sent => "('RECEIVED')",
            _ => "('RECEIVED','SENT')",
        };
        self.store
            .call(move |c| {
                c.execute(
                    &format!("UPDATE payments SET state = ?2, updated_at = ?3 WHERE uuid = ?1 AND state IN {from}"),
                    params![uuid, state.as_str(), now_ms_i64()],
                )
                .map(|n| n == 1)
            })
            .await
    }

    /// Records an open payment's outcome (a settled one is never overwritten: a late duplicate
    /// cannot change what the POS was told); returns the row as it is now.
    pub async fn finish(
        &self,
        uuid: &str,
        outcome: &Outcome,
    ) -> Result<Option<PaymentRow>, StoreError> {
        let uuid = uuid.to_string();
        let o = outcome.clone();
        self.store
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute(
                    &format!("UPDATE payments SET state = ?2, code = ?3, message = ?4, card = ?5, brand = ?6, auth_code = ?7, rrn = ?8, entry_mode = ?9, receipt = ?10, updated_at = ?11, detail = ?12 WHERE uuid = ?1 AND state IN {OPEN}"),
                    params![
                        uuid,
                        o.state.as_str(),
                        o.code.map(ErrorCode::as_str),
                        o.message,
                        o.card.card.as_deref().map(mask_card_field),
                        o.card.brand,
                        o.card.auth_code,
                        o.card.rrn,
                        o.card.entry_mode,
                        serde_json::to_string(&o.card.receipt.iter().map(|l| mask_pan(l)).collect::<Vec<_>>()).unwrap_or_default(),
                        now_ms_i64(),
                        o.detail.as_ref().map(Value::to_string),
                    ],
                )?;
                let found = tx.query_row(&format!("SELECT {COLUMNS} FROM payments WHERE uuid = ?1"), [&uuid], row).optional()?;
                tx.commit()?;
                Ok(found)
            })
            .await
    }

    /// Marks the approved sale `uuid` (or the one whose terminal reference is `terminal_ref`
    /// on `target`) as REFUNDED or REVERSED. Returns whether one changed.
    pub async fn follow_up(
        &self,
        target: &'static str,
        key: FollowUpKey,
        state: PaymentState,
    ) -> Result<bool, StoreError> {
        self.store
            .call(move |c| {
                let (column, value) = match key {
                    FollowUpKey::Uuid(u) => ("uuid", u),
                    FollowUpKey::TerminalRef(r) => ("terminal_ref", r),
                };
                c.execute(
                    &format!("UPDATE payments SET state = ?3, updated_at = ?4 WHERE {column} = ?1 AND target = ?2 AND state IN ('APPROVED','REFUNDED')"),
                    params![value, target, state.as_str(), now_ms_i64()],
                )
                .map(|n| n == 1)
            })
            .await
    }

    /// An UNKNOWN_OUTCOME payment resolved by a person: the outcome they read on the terminal.
    /// Returns the row as it is now (None: no such payment).
    pub async fn resolve(
        &self,
        uuid: &str,
        state: PaymentState,
        note: String,
    ) -> Result<Option<PaymentRow>, StoreError> {
        let uuid = uuid.to_string();
        self.store
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute(
                    "UPDATE payments SET state = ?2, code = NULL, resolution = ?3, updated_at = ?4 WHERE uuid = ?1 AND state = 'UNKNOWN_OUTCOME'",
                    params![uuid, state.as_str(), note, now_ms_i64()],
                )?;
                let found = tx.query_row(&format!("SELECT {COLUMNS} FROM payments WHERE uuid = ?1"), [&uuid], row).optional()?;
                tx.commit()?;
                Ok(found)
            })
            .await
    }

    pub async fn by_uuid(&self, uuid: &str) -> Result<Option<PaymentRow>, StoreError> {
        let uuid = uuid.to_string();
        self.store
            .call(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM payments WHERE uuid = ?1"),
                    [uuid],
                    row,
                )
                .optional()
            })
            .await
    }

    /// The payments of `target` on `terminal` still open (oldest first). Blocking: called once
    /// when a terminal starts, before it takes a request.
    pub fn open_blocking(
        &self,
        target: &str,
        terminal: &str,
    ) -> Result<Vec<PaymentRow>, StoreError> {
        let (target, terminal) = (target.to_string(), terminal.to_string());
        self.store.call_blocking(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM payments WHERE target = ?1 AND terminal = ?2 AND state IN {OPEN} ORDER BY id"
            ))?;
            let rows = stmt.query_map(params![target, terminal], row)?;
            rows.collect()
        })
    }

    /// UUIDV4s of `target`'s payments on `terminal` waiting for PAYMENT_RESOLVE.
    pub async fn unresolved(
        &self,
        target: &'static str,
        terminal: &str,
    ) -> Result<Vec<String>, StoreError> {
        let terminal = terminal.to_string();
        self.store
            .call(move |c| {
                let mut stmt = c.prepare(
                    "SELECT uuid FROM payments WHERE target = ?1 AND terminal = ?2 AND state = 'UNKNOWN_OUTCOME' ORDER BY id",
                )?;
                let rows = stmt.query_map(params![target, terminal], |r| r.get(0))?;
                rows.collect()
            })
            .await
    }

    /// The newest payments of `target` first, filtered.
    pub async fn list(
        &self,
        target: &'static str,
        filter: Filter,
    ) -> Result<Vec<PaymentRow>, StoreError> {
        self.store
            .call(move |c| {
                let mut stmt = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM payments WHERE target = ?1 AND (?2 IS NULL OR terminal = ?2) AND (?3 IS NULL OR state = ?3) AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at <= ?5) ORDER BY id DESC LIMIT ?6"
                ))?;
                let rows = stmt.query_map(
                    params![target, filter.terminal, filter.state.map(PaymentState::as_str), filter.from_ms, filter.to_ms, filter.limit],
                    row,
                )?;
                rows.collect()
            })
            .await
    }
}

/// How a follow-up names the sale it is about.
#[derive(Debug, Clone)]
pub enum FollowUpKey {
    Uuid(String),
    TerminalRef(String),
}

fn insert_batch(store: &Store, batch: &[NewPayment]) -> Result<Vec<Inserted>, StoreError> {
    store.call_blocking(|c| {
        let tx = c.transaction()?;
        let mut out = Vec::with_capacity(batch.len());
        for p in batch {
            let existing = tx
                .query_row(&format!("SELECT {COLUMNS} FROM payments WHERE uuid = ?1"), [&p.uuid], row)
                .optional()?;
            if let Some(e) = existing {
                out.push(Inserted::Existing(e));
                continue;
            }
            let now = now_ms_i64();
            tx.execute(
                "INSERT INTO payments (uuid, target, terminal, operation, amount, currency, reference, terminal_ref, original, state, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'RECEIVED', ?10, ?10)",
                params![p.uuid, p.target, p.terminal, p.operation.as_str(), i64::try_from(p.amount).unwrap_or(i64::MAX), p.currency, p.reference.as_deref().map(mask_pan), p.terminal_ref, p.original, now],
            )?;
            let id = tx.last_insert_rowid();
            out.push(Inserted::New(tx.query_row(&format!("SELECT {COLUMNS} FROM payments WHERE id = ?1"), [id], row)?));
        }
        tx.commit()?;
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(name: &str) -> Journal {
        let dir =
            std::env::temp_dir().join(format!("pispas-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Journal::open(
            Store::open(&dir).unwrap(),
            &TaskTracker::new(),
            CancellationToken::new(),
        )
        .unwrap()
    }

    fn sale(uuid: &str) -> NewPayment {
        NewPayment {
            uuid: uuid.into(),
            target: "MYPOS",
            terminal: "DEFAULT".into(),
            operation: Operation::Sale,
            amount: 1234,
            currency: "EUR".into(),
            reference: Some("T-1".into()),
            terminal_ref: "ref".into(),
            original: None,
        }
    }

    #[tokio::test]
    async fn the_same_uuid_is_journaled_once_and_a_settled_outcome_is_never_overwritten() {
        let j = journal("once");
        assert!(matches!(
            j.insert(sale("u1")).await.unwrap(),
            Inserted::New(_)
        ));
        assert!(matches!(
            j.insert(sale("u1")).await.unwrap(),
            Inserted::Existing(_)
        ));
        assert!(j.advance("u1", PaymentState::Sent).await.unwrap());
        let approved = Outcome::new(PaymentState::Approved, "ok").with_card(
            CardData {
                receipt: vec!["VISA 4761739001010010".into()],
                ..CardData::default()
            }
            .with_card(Some("4761739001010010")),
        );
        let row = j.finish("u1", &approved).await.unwrap().unwrap();
        assert_eq!(row.state, PaymentState::Approved);
        assert_eq!(row.card.card.as_deref(), Some("************0010"));
        assert_eq!(row.card.receipt, ["VISA ************0010"]);
        let late = Outcome::new(PaymentState::Declined, "late");
        let row = j.finish("u1", &late).await.unwrap().unwrap();
        assert_eq!(
            row.state,
            PaymentState::Approved,
            "a settled payment stays settled"
        );
        assert!(!j.advance("u1", PaymentState::InProgress).await.unwrap());
    }

    #[tokio::test]
    async fn only_unknown_outcomes_can_be_resolved_and_open_ones_are_listed_for_reconciliation() {
        let j = journal("resolve");
        j.insert(sale("u2")).await.unwrap();
        j.advance("u2", PaymentState::Sent).await.unwrap();
        assert_eq!(j.open_blocking("MYPOS", "DEFAULT").unwrap().len(), 1);
        let row = j
            .resolve("u2", PaymentState::Approved, "x".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.state, PaymentState::Sent, "not unknown: untouched");
        j.finish("u2", &Outcome::new(PaymentState::UnknownOutcome, "?"))
            .await
            .unwrap();
        assert_eq!(j.unresolved("MYPOS", "DEFAULT").await.unwrap(), ["u2"]);
        let row = j
            .resolve("u2", PaymentState::Declined, "read on the terminal".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.state, PaymentState::Declined);
        assert!(j.open_blocking("MYPOS", "DEFAULT").unwrap().is_empty());
    }
}

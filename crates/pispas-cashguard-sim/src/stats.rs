//! What the simulator saw, for tests to assert on ("paid out once", "regret returned 1200"):
//! every library call with its arguments and result, every payout, insert and regret, and the
//! current state. The library fills it; the control channel's `stats` command sends it as one
//! JSON line; [`crate::control::CgSimControl::stats`] parses it back into this type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The call log keeps the newest entries only, so a simulator left running for days stays small.
pub const MAX_CALLS: usize = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Library calls, oldest first (at most [`MAX_CALLS`]; `calls_dropped` counts the rest).
    pub calls: Vec<CallRecord>,
    pub calls_dropped: u64,
    /// Cash the customer put in and the machine accepted.
    pub inserted_total: i64,
    pub inserts: Vec<InsertRecord>,
    /// Notes/coins refused (unknown denomination, full cassette, jammed).
    pub rejected: Vec<u32>,
    /// Sales settled: what the machine kept (`amountDueCG` due, `payout2CG` deposit).
    pub kept_total: i64,
    /// Everything dispensed: change, withdrawals, the part paid before a jam.
    pub paid_out_total: i64,
    pub payouts: Vec<PayoutRecord>,
    /// Cash handed back uncounted: `regretCG` and the customer's cancel at the machine.
    pub regretted_total: i64,
    pub regrets: Vec<RegretRecord>,
    /// Callbacks queued, by name (`status`, `error`, `level_warning`, `cash_session`).
    pub events: BTreeMap<String, u64>,
    /// The machine now.
    pub state: StateSnapshot,
}

impl Stats {
    /// The calls made to one entry point, e.g. `"amountDueCG"`.
    pub fn calls_to<'a>(&'a self, function: &'a str) -> impl Iterator<Item = &'a CallRecord> + 'a {
        self.calls.iter().filter(move |c| c.function == function)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The exported name, e.g. `amountDueCG`.
    pub function: String,
    /// The input arguments by their C names, e.g. `{"amountDue":1250,"transId":"T1"}`.
    pub args: serde_json::Value,
    /// The returned status code and its name.
    pub code: i16,
    pub code_name: String,
    /// `*amountRest` where the call has one.
    pub rest: Option<i64>,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsertRecord {
    pub pieces: Vec<u32>,
    pub total_after: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayoutRecord {
    /// `amountDueCG` (change) or `payout2CG`.
    pub function: String,
    pub trans_id: String,
    pub requested: i64,
    pub paid: i64,
    pub rest: i64,
    /// One entry per note/coin, largest first.
    pub pieces: Vec<u32>,
    /// The machine jammed during this payout (the `jam-mid-payment` scenario).
    pub jammed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegretRecord {
    /// `regretCG` or `machine` (the customer's cancel, control command `cancel`).
    pub source: String,
    /// `last` or `all`.
    pub kind: String,
    pub amount: i64,
    pub pieces: Vec<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StateSnapshot {
    pub session_open: bool,
    pub cash_reg_id: Option<String>,
    pub cashier_id: Option<String>,
    /// Inserted and not yet settled or returned.
    pub inserted_now: i64,
    /// `None`, `"jam"` (cleared by resetCG) or `"jam-hard"` (needs the `clear` command first).
    pub fault: Option<String>,
    /// Calls that will still answer BUSY.
    pub busy_calls: u32,
    pub limit: Option<i64>,
    pub limit_used: i64,
    /// Armed by the `jam-mid-payment` scenario.
    pub jam_on_next_payout: bool,
    /// denomination (cents, as a string key) → count.
    pub stock: BTreeMap<String, u32>,
    pub stock_total: i64,
}

//! The simulated CashGuard: stock, session, inserted cash, faults. Pure state: every library
//! call and control command is a method that returns a [`Reply`] and leaves the callbacks it
//! raises in a queue the caller drains ([`Machine::take_events`]), so this file has no threads,
//! no locks and no I/O, and unit tests drive it directly.
//!
//! Order of checks in every call (the README documents it): input values, then a fault (ERROR),
//! then a BUSY counter, then the session (CLOSED). Sales and payouts live in `payout.rs`.

mod payout;
pub mod stock;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::abi::{CashSessionInfo, Code, LevelKind, MachineStatus, Mode};
use crate::event::Event;
use crate::stats::{CallRecord, InsertRecord, RegretRecord, StateSnapshot, Stats, MAX_CALLS};
use stock::{format_cents, Stock};

/// What a call returns besides its out-parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: Code,
    pub message: String,
    /// `*amountRest` for the calls that have it.
    pub rest: Option<i64>,
}

impl Reply {
    pub fn new(code: Code, message: impl Into<String>) -> Reply {
        Reply {
            code,
            message: message.into(),
            rest: None,
        }
    }
    pub fn with_rest(mut self, rest: i64) -> Reply {
        self.rest = Some(rest);
        self
    }
}

/// A jam. `hard` ones survive `resetCG` until the control command `clear`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jam {
    pub code: i32,
    pub hard: bool,
}

/// Error codes the simulator raises through the Error callback (its own numbering; the
/// vendor's is not public).
pub const JAM_CODE: i32 = 101;
pub const JAM_HARD_CODE: i32 = 102;
pub const JAM_PAYOUT_CODE: i32 = 103;

#[derive(Debug, Clone)]
struct Session {
    cash_reg_id: String,
    cashier_id: String,
}

/// What an `insert` control command did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsertOutcome {
    pub accepted: Vec<u32>,
    /// (piece, reason)
    pub rejected: Vec<(u32, &'static str)>,
    pub total: i64,
}

#[derive(Debug, Default)]
pub struct Machine {
    stock: Stock,
    session: Option<Session>,
    /// Inserted and not yet settled: one entry per insert (the unit `regretCG(0)` returns).
    inserted: Vec<Vec<u32>>,
    jam: Option<Jam>,
    busy_calls: u32,
    limit: Option<i64>,
    limit_used: i64,
    jam_on_next_payout: bool,
    panic_next: bool,
    stats: Stats,
    events: Vec<Event>,
}

impl Machine {
    pub fn new(stock: Stock) -> Machine {
        Machine {
            stock,
            ..Machine::default()
        }
    }

    /// The callbacks raised since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn stock(&self) -> &Stock {
        &self.stock
    }

    pub fn inserted_total(&self) -> i64 {
        self.inserted.iter().flatten().map(|&p| i64::from(p)).sum()
    }

    fn mode(&self) -> Mode {
        if self.session.is_some() {
            Mode::OpenFromRegister
        } else {
            Mode::Closed
        }
    }

    fn raise(&mut self, event: Event) {
        *self
            .stats
            .events
            .entry(event.name().to_owned())
            .or_default() += 1;
        self.events.push(event);
    }

    fn raise_status(&mut self) {
        let status = if self.jam.is_some() {
            MachineStatus::Error
        } else {
            MachineStatus::Ok
        };
        self.raise(Event::Status {
            total_inserted: clamp_i32(self.inserted_total()),
            status: status as i32,
            mode: self.mode() as i32,
        });
    }

    /// LevelWarning for every threshold crossed since `before`.
    fn raise_levels(&mut self, before: &BTreeMap<u32, u32>) {
        for c in self.stock.crossings(before) {
            let denom_str = format_cents(i64::from(c.denomination));
            let msg = match c.kind {
                LevelKind::Empty => format!("{denom_str} is empty"),
                LevelKind::Low => format!("{denom_str} is low ({} left)", c.count),
                LevelKind::High => format!("{denom_str} is nearly full ({} pieces)", c.count),
                LevelKind::Blocked => format!(
                    "{denom_str} is full ({} pieces): further pieces are refused",
                    c.count
                ),
            };
            self.raise(Event::LevelWarning {
                kind: c.kind,
                denomination: c.denomination as i32,
                count: c.count as i32,
                denom_str,
                msg,
                ext: String::new(),
            });
        }
    }

    fn jam_now(&mut self, jam: Jam, ext: String) {
        self.jam = Some(jam);
        let text = match jam.code {
            JAM_HARD_CODE => "Note jam: open the machine and remove the note, then reset",
            JAM_PAYOUT_CODE => "Jam while paying out",
            _ => "Note jam in the recycler",
        };
        self.raise(Event::Error {
            code: jam.code,
            text: text.into(),
            ext,
        });
        self.raise_status();
    }

    /// The state checks shared by the calls. `Err` is the reply to give instead.
    fn gate(&mut self, needs_session: bool) -> Result<(), Reply> {
        if self.panic_next {
            self.panic_next = false;
            panic!("simulated panic inside the library (control command `panic`)");
        }
        if let Some(jam) = self.jam {
            return Err(Reply::new(
                Code::Error,
                format!(
                    "machine error {}: jam{}; call resetCG",
                    jam.code,
                    if jam.hard {
                        " (hard: clear it first)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if self.busy_calls > 0 {
            self.busy_calls -= 1;
            return Err(Reply::new(
                Code::Busy,
                "machine busy (used by another register)",
            ));
        }
        if needs_session && self.session.is_none() {
            return Err(Reply::new(
                Code::Closed,
                "no session: call loginStrCG first",
            ));
        }
        Ok(())
    }

    /// Logs the call in the stats and hands the reply back.
    fn finish(&mut self, function: &str, args: Value, reply: Reply) -> Reply {
        if self.stats.calls.len() >= MAX_CALLS {
            self.stats.calls.remove(0);
            self.stats.calls_dropped += 1;
        }
        self.stats.calls.push(CallRecord {
            function: function.to_owned(),
            args,
            code: reply.code.as_i16(),
            code_name: reply.code.name().to_owned(),
            rest: reply.rest,
            answer: reply.message.clone(),
        });
        reply
    }

    /// Logs a call answered outside the machine's own methods (initCG, registerEvents3CG).
    pub fn note_call(&mut self, function: &str, args: Value, reply: Reply) -> Reply {
        self.finish(function, args, reply)
    }

    /// A call refused before it reached the machine (a NULL pointer): still logged.
    pub fn reject(&mut self, function: &str, message: &str) -> Reply {
        self.finish(
            function,
            json!({}),
            Reply::new(Code::InputParamError, message),
        )
    }

    /// A call made when no machine is open (before initCG / after exitCG) is answered by the
    /// FFI layer; this is the same answer for consistency.
    pub fn not_open() -> Reply {
        Reply::new(Code::Closed, "not initialised: call initCG first")
    }

    // ------------------------------------------------------------------ session

    pub fn login(&mut self, cash_reg_id: &str, cashier_id: &str) -> Reply {
        let args = json!({"cashRegId": cash_reg_id, "cashierId": cashier_id});
        let reply = match self.gate(false) {
            Err(r) => r,
            Ok(()) if self.session.is_some() => Reply::new(Code::Ok, "session already open"),
            Ok(()) => {
                self.session = Some(Session {
                    cash_reg_id: cash_reg_id.into(),
                    cashier_id: cashier_id.into(),
                });
                self.raise_status();
                Reply::new(
                    Code::Ok,
                    format!("session open for register {cash_reg_id}, cashier {cashier_id}"),
                )
            }
        };
        self.finish("loginStrCG", args, reply)
    }

    pub fn logout(&mut self) -> Reply {
        let reply = match self.gate(false) {
            Err(r) => r,
            Ok(()) if self.session.is_none() => Reply::new(Code::Ok, "no session was open"),
            Ok(()) if self.inserted_total() > 0 => Reply::new(
                Code::Busy,
                format!(
                    "{} inserted and not settled: amountDueCG or regretCG first",
                    format_cents(self.inserted_total())
                ),
            ),
            Ok(()) => {
                self.session = None;
                self.raise_status();
                Reply::new(Code::Ok, "session closed")
            }
        };
        self.finish("logoutCG", json!({}), reply)
    }

    /// `isOpenCG`: never refused, even while jammed, so the adapter can always ask.
    pub fn is_open(&mut self) -> (Reply, bool) {
        let open = self.session.is_some();
        let reply = Reply::new(
            Code::Ok,
            if open {
                "session open"
            } else {
                "session closed"
            },
        );
        (self.finish("isOpenCG", json!({}), reply), open)
    }

    pub fn info(&mut self) -> (Reply, String) {
        let (reply, level) = match self.gate(false) {
            Err(r) => (r, String::new()),
            Ok(()) => (
                Reply::new(
                    Code::Ok,
                    format!(
                        "stock {} in {} denominations",
                        format_cents(self.stock.total()),
                        self.stock.denominations().count()
                    ),
                ),
                self.stock.level_string(),
            ),
        };
        (self.finish("infoCG", json!({}), reply), level)
    }

    pub fn reset(&mut self) -> Reply {
        let reply = match self.jam {
            Some(jam) if jam.hard => Reply::new(
                Code::Error,
                format!(
                    "jam {} not cleared: open the machine first (control: clear)",
                    jam.code
                ),
            ),
            Some(_) => {
                self.jam = None;
                self.raise_status();
                Reply::new(Code::Ok, "reset: error cleared")
            }
            None => Reply::new(Code::Ok, "reset: no error"),
        };
        self.finish("resetCG", json!({}), reply)
    }

    pub fn regret(&mut self, kind: i16) -> Reply {
        let args = json!({"type": kind});
        let reply = if kind != 0 && kind != 1 {
            Reply::new(
                Code::InputParamError,
                format!("type {kind}: expected 0 (last insert) or 1 (all)"),
            )
        } else if let Err(r) = self.gate(true) {
            r
        } else {
            let amount = self.give_back("regretCG", kind == 1);
            Reply::new(Code::Ok, format!("returned {}", format_cents(amount)))
        };
        self.finish("regretCG", args, reply)
    }

    /// Hands back the last insert (or all) and returns the amount.
    fn give_back(&mut self, source: &str, all: bool) -> i64 {
        let pieces: Vec<u32> = if all {
            std::mem::take(&mut self.inserted)
                .into_iter()
                .flatten()
                .collect()
        } else {
            self.inserted.pop().unwrap_or_default()
        };
        if pieces.is_empty() {
            return 0;
        }
        let before = self.stock.counts();
        for &p in &pieces {
            self.stock.remove(p, 1);
        }
        let amount: i64 = pieces.iter().map(|&p| i64::from(p)).sum();
        self.stats.regretted_total += amount;
        self.stats.regrets.push(RegretRecord {
            source: source.into(),
            kind: if all { "all" } else { "last" }.into(),
            amount,
            pieces,
        });
        self.raise_levels(&before);
        self.raise_status();
        amount
    }

    // ------------------------------------------------------------------ the control side

    /// The customer puts notes/coins in. Refused while no session is open or while jammed.
    ///
    /// Fails with a message for the control client in those two cases.
    pub fn insert(&mut self, pieces: &[u32]) -> Result<InsertOutcome, String> {
        if self.session.is_none() {
            return Err("machine closed: no session (loginStrCG)".into());
        }
        if let Some(jam) = self.jam {
            self.stats.rejected.extend_from_slice(pieces);
            return Err(format!("machine jammed ({}): pieces refused", jam.code));
        }
        let before = self.stock.counts();
        let mut out = InsertOutcome::default();
        let mut batch = Vec::new();
        for &p in pieces {
            match self.stock.accepts(p) {
                Some(true) => {
                    self.stock.add(p, 1);
                    batch.push(p);
                    out.accepted.push(p);
                    self.stats.inserted_total += i64::from(p);
                    // The running total, one Status per piece, like the machine's display.
                    let total =
                        self.inserted_total() + batch.iter().map(|&x| i64::from(x)).sum::<i64>();
                    self.raise(Event::Status {
                        total_inserted: clamp_i32(total),
                        status: MachineStatus::Ok as i32,
                        mode: self.mode() as i32,
                    });
                }
                Some(false) => out.rejected.push((p, "cassette full")),
                None => out.rejected.push((p, "denomination not accepted")),
            }
        }
        self.stats
            .rejected
            .extend(out.rejected.iter().map(|&(p, _)| p));
        if !batch.is_empty() {
            self.inserted.push(batch.clone());
            self.stats.inserts.push(InsertRecord {
                pieces: batch,
                total_after: self.inserted_total(),
            });
        }
        self.raise_levels(&before);
        out.total = self.inserted_total();
        Ok(out)
    }

    /// The customer cancels at the machine: everything inserted comes back.
    pub fn cancel(&mut self) -> i64 {
        self.give_back("machine", true)
    }

    /// Sets counts (clamped to capacity). Fails naming the first unknown denomination.
    pub fn set_stock(&mut self, levels: &[(u32, u32)]) -> Result<(), String> {
        if let Some(&(d, _)) = levels.iter().find(|&&(d, _)| self.stock.get(d).is_none()) {
            return Err(format!("unknown denomination {d}"));
        }
        let before = self.stock.counts();
        for &(d, n) in levels {
            self.stock.set(d, n);
        }
        self.raise_levels(&before);
        Ok(())
    }

    /// A back-office refill: adds pieces and raises CashSession(BO refill).
    pub fn refill(&mut self, levels: &[(u32, u32)]) -> Result<i64, String> {
        let mut target = Vec::new();
        for &(d, n) in levels {
            let c = self
                .stock
                .get(d)
                .ok_or_else(|| format!("unknown denomination {d}"))?;
            target.push((d, c.count.saturating_add(n)));
        }
        let before_total = self.stock.total();
        self.set_stock(&target)?;
        let amount = self.stock.total() - before_total;
        self.raise(Event::CashSession {
            info_type: CashSessionInfo::BackOfficeRefill as i32,
            amount: clamp_i32(amount),
            ext: "back office refill".into(),
        });
        Ok(amount)
    }

    /// Fills one cassette to capacity (BLOCKED). Fails for an unknown denomination.
    pub fn fill(&mut self, denomination: u32) -> Result<(), String> {
        let cap = self
            .stock
            .get(denomination)
            .map(|c| c.capacity)
            .ok_or_else(|| format!("unknown denomination {denomination}"))?;
        self.set_stock(&[(denomination, cap)])
    }

    pub fn jam(&mut self, hard: bool) {
        let code = if hard { JAM_HARD_CODE } else { JAM_CODE };
        self.jam_now(Jam { code, hard }, String::new());
    }

    /// The technician removed the note: a hard jam becomes one `resetCG` clears.
    pub fn clear(&mut self) -> &'static str {
        match &mut self.jam {
            Some(j) if j.hard => {
                j.hard = false;
                "cause removed: resetCG now clears the error"
            }
            Some(_) => "nothing to remove: resetCG clears the error",
            None => "no error",
        }
    }

    pub fn set_limit(&mut self, limit: Option<i64>) {
        self.limit = limit;
        self.limit_used = 0;
    }

    pub fn set_busy(&mut self, calls: u32) {
        self.busy_calls = calls;
    }

    /// Another register took the machine: CashSession(4) and `calls` BUSY answers.
    pub fn busy_by_other_register(&mut self, calls: u32) {
        self.busy_calls = calls;
        self.raise(Event::CashSession {
            info_type: CashSessionInfo::BusyByOtherRegister as i32,
            amount: 0,
            ext: "register 2".into(),
        });
    }

    pub fn arm_jam_on_next_payout(&mut self) {
        self.jam_on_next_payout = true;
    }

    pub fn arm_panic(&mut self) {
        self.panic_next = true;
    }

    /// Back to the default stock with no fault, no limit, nothing armed; the session, the
    /// inserted cash and the stats stay.
    pub fn restore_defaults(&mut self) {
        let before = self.stock.counts();
        self.stock = Stock::default();
        self.jam = None;
        self.busy_calls = 0;
        self.limit = None;
        self.limit_used = 0;
        self.jam_on_next_payout = false;
        self.panic_next = false;
        self.raise_levels(&before);
    }

    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
    }

    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.state = StateSnapshot {
            session_open: self.session.is_some(),
            cash_reg_id: self.session.as_ref().map(|s| s.cash_reg_id.clone()),
            cashier_id: self.session.as_ref().map(|s| s.cashier_id.clone()),
            inserted_now: self.inserted_total(),
            fault: self
                .jam
                .map(|j| if j.hard { "jam-hard" } else { "jam" }.to_owned()),
            busy_calls: self.busy_calls,
            limit: self.limit,
            limit_used: self.limit_used,
            jam_on_next_payout: self.jam_on_next_payout,
            stock: self
                .stock
                .counts()
                .into_iter()
                .map(|(d, n)| (d.to_string(), n))
                .collect(),
            stock_total: self.stock.total(),
        };
        s
    }
}

pub(crate) fn clamp_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

#[cfg(test)]
mod tests;

//! Money out: settling a sale (`amountDueCG`), paying out (`payout2CG`) and the dry run
//! (`askPayout2CG`). One rule for all three: change is planned greedily from the stock, what
//! cannot be paid is the `rest` and the answer is PAYOUT_REST; the `jam-mid-payment` scenario
//! makes the next real payout stop after its first piece.

use serde_json::json;

use super::stock::{format_cents, PayoutPlan};
use super::{clamp_i32, Jam, Machine, Reply, JAM_PAYOUT_CODE};
use crate::abi::{CashSessionInfo, Code};
use crate::event::Event;
use crate::stats::PayoutRecord;

/// What a real payout did.
struct Paid {
    paid: i64,
    rest: i64,
    jammed: bool,
    pieces: Vec<u32>,
}

impl Machine {
    pub fn amount_due(&mut self, due: i32, trans_id: &str) -> Reply {
        let args = json!({"amountDue": due, "transId": trans_id});
        let reply = self.settle(due, trans_id);
        self.finish("amountDueCG", args, reply)
    }

    fn settle(&mut self, due: i32, trans_id: &str) -> Reply {
        if due <= 0 {
            return Reply::new(
                Code::InputParamError,
                format!("amountDue {due}: must be > 0"),
            )
            .with_rest(0);
        }
        if let Err(r) = self.gate(true) {
            return r.with_rest(i64::from(due));
        }
        let due = i64::from(due);
        let total = self.inserted_total();
        if total < due {
            return Reply::new(
                Code::Busy,
                format!(
                    "{} of {} inserted: waiting for the customer",
                    format_cents(total),
                    format_cents(due)
                ),
            )
            .with_rest(due - total);
        }
        self.inserted.clear();
        self.stats.kept_total += due;
        let change = total - due;
        let paid = self.pay("amountDueCG", trans_id, change);
        self.raise_status();
        let what = format!(
            "trans {trans_id}: kept {}, change {}",
            format_cents(due),
            format_cents(change)
        );
        outcome(what, &paid)
    }

    pub fn payout2(&mut self, dispense: i32, deposit: i32, trans_id: &str) -> Reply {
        let args =
            json!({"amountDispense": dispense, "amountDeposit": deposit, "transId": trans_id});
        let reply = self.payout2_inner(dispense, deposit, trans_id);
        self.finish("payout2CG", args, reply)
    }

    fn payout2_inner(&mut self, dispense: i32, deposit: i32, trans_id: &str) -> Reply {
        if dispense < 0 || deposit < 0 {
            return Reply::new(
                Code::InputParamError,
                format!("amountDispense {dispense}, amountDeposit {deposit}: must be >= 0"),
            )
            .with_rest(0);
        }
        let (dispense, deposit) = (i64::from(dispense), i64::from(deposit));
        if let Err(r) = self.gate(true) {
            return r.with_rest(dispense);
        }
        let total = self.inserted_total();
        if deposit > total {
            return Reply::new(
                Code::PayclearError,
                format!(
                    "deposit {} > inserted {}",
                    format_cents(deposit),
                    format_cents(total)
                ),
            )
            .with_rest(dispense);
        }
        if let Some(limit) = self.limit {
            if self.limit_used + dispense > limit {
                return Reply::new(
                    Code::PayoutLimit,
                    format!(
                        "payout {} over the limit ({} of {} used)",
                        format_cents(dispense),
                        format_cents(self.limit_used),
                        format_cents(limit)
                    ),
                )
                .with_rest(dispense);
            }
        }
        // Credit left after the transaction: what was inserted beyond deposit + dispense.
        let credit_after = (total - deposit - dispense).max(0);
        self.inserted.clear();
        self.stats.kept_total += deposit;
        let paid = self.pay("payout2CG", trans_id, dispense);
        self.limit_used += paid.paid;
        if credit_after > 0 {
            // Stays insertable-back by regretCG, as pieces the stock can give.
            let pieces = self.stock.plan(credit_after).flat();
            if !pieces.is_empty() {
                self.inserted.push(pieces);
            }
        }
        if paid.paid > 0 && total == 0 {
            self.raise(Event::CashSession {
                info_type: CashSessionInfo::RegisterWithdrawal as i32,
                amount: clamp_i32(paid.paid),
                ext: trans_id.to_owned(),
            });
        }
        self.raise_status();
        let what = format!("trans {trans_id}: kept {}, paid out", format_cents(deposit));
        outcome(what, &paid)
    }

    pub fn ask_payout(&mut self, amount: i32) -> Reply {
        let args = json!({"amount": amount});
        let reply = if amount < 0 {
            Reply::new(
                Code::InputParamError,
                format!("amount {amount}: must be >= 0"),
            )
            .with_rest(0)
        } else if let Err(r) = self.gate(true) {
            r.with_rest(i64::from(amount))
        } else {
            let plan = self.stock.plan(i64::from(amount));
            if plan.rest == 0 {
                Reply::new(
                    Code::Ok,
                    format!("{} can be paid", format_cents(i64::from(amount))),
                )
                .with_rest(0)
            } else {
                Reply::new(
                    Code::PayoutRest,
                    format!(
                        "{} short of {}",
                        format_cents(plan.rest),
                        format_cents(i64::from(amount))
                    ),
                )
                .with_rest(plan.rest)
            }
        };
        self.finish("askPayout2CG", args, reply)
    }

    /// Dispenses `amount` from the stock (or its first piece, then jams, when armed).
    fn pay(&mut self, function: &str, trans_id: &str, amount: i64) -> Paid {
        if amount <= 0 {
            return Paid {
                paid: 0,
                rest: 0,
                jammed: false,
                pieces: Vec::new(),
            };
        }
        let mut plan = self.stock.plan(amount);
        let jammed = self.jam_on_next_payout && !plan.pieces.is_empty();
        if jammed {
            self.jam_on_next_payout = false;
            let first = plan.pieces[0].0;
            plan = PayoutPlan {
                pieces: vec![(first, 1)],
                rest: amount - i64::from(first),
            };
        }
        let before = self.stock.counts();
        self.stock.take(&plan);
        let paid = Paid {
            paid: plan.paid(),
            rest: plan.rest,
            jammed,
            pieces: plan.flat(),
        };
        self.stats.paid_out_total += paid.paid;
        self.stats.payouts.push(PayoutRecord {
            function: function.into(),
            trans_id: trans_id.into(),
            requested: amount,
            paid: paid.paid,
            rest: paid.rest,
            pieces: paid.pieces.clone(),
            jammed,
        });
        self.raise_levels(&before);
        if jammed {
            let ext = format!("trans={trans_id} paid={} rest={}", paid.paid, paid.rest);
            self.jam_now(
                Jam {
                    code: JAM_PAYOUT_CODE,
                    hard: false,
                },
                ext,
            );
        }
        paid
    }
}

fn outcome(what: String, paid: &Paid) -> Reply {
    let pieces = if paid.pieces.is_empty() {
        String::new()
    } else {
        format!(
            " [{}]",
            paid.pieces
                .iter()
                .map(std::string::ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    if paid.jammed {
        Reply::new(
            Code::Error,
            format!(
                "{what} {} then jammed, {} not paid; call resetCG{pieces}",
                format_cents(paid.paid),
                format_cents(paid.rest)
            ),
        )
        .with_rest(paid.rest)
    } else if paid.rest > 0 {
        Reply::new(
            Code::PayoutRest,
            format!(
                "{what} {}, {} could not be paid{pieces}",
                format_cents(paid.paid),
                format_cents(paid.rest)
            ),
        )
        .with_rest(paid.rest)
    } else {
        Reply::new(
            Code::Ok,
            format!("{what} {}{pieces}", format_cents(paid.paid)),
        )
        .with_rest(0)
    }
}

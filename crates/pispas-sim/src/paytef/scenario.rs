//! What the simulated Paytef terminal does with the next transaction: the named scenarios, and
//! for each the steps it walks through (card statuses, the result, a restart) and the faults it
//! injects on the HTTP side (replies lost, cancel ignored, token expiry). Pure data; the
//! terminal (terminal.rs) follows the plan and the server (http.rs) applies the faults.

use super::terminal::{CardStatus, Outcome};

/// A scenario, chosen at start (`--scenario`) or at run time (`scenario NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaytefScenario {
    #[default]
    Approved,
    Declined,
    CancelledByCustomer,
    SlowCard,
    Timeout,
    Busy,
    ReplyLost,
    StartReplyLost,
    Restarted,
    CancelIgnored,
    DeclinedThenApproved,
    TokenExpired,
    NoSession,
}

impl PaytefScenario {
    pub const ALL: [PaytefScenario; 13] = [
        PaytefScenario::Approved,
        PaytefScenario::Declined,
        PaytefScenario::CancelledByCustomer,
        PaytefScenario::SlowCard,
        PaytefScenario::Timeout,
        PaytefScenario::Busy,
        PaytefScenario::ReplyLost,
        PaytefScenario::StartReplyLost,
        PaytefScenario::Restarted,
        PaytefScenario::CancelIgnored,
        PaytefScenario::DeclinedThenApproved,
        PaytefScenario::TokenExpired,
        PaytefScenario::NoSession,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PaytefScenario::Approved => "approved",
            PaytefScenario::Declined => "declined",
            PaytefScenario::CancelledByCustomer => "cancelled",
            PaytefScenario::SlowCard => "slow-card",
            PaytefScenario::Timeout => "timeout",
            PaytefScenario::Busy => "busy",
            PaytefScenario::ReplyLost => "reply-lost",
            PaytefScenario::StartReplyLost => "start-reply-lost",
            PaytefScenario::Restarted => "restarted",
            PaytefScenario::CancelIgnored => "cancel-ignored",
            PaytefScenario::DeclinedThenApproved => "declined-then-approved",
            PaytefScenario::TokenExpired => "token-expired",
            PaytefScenario::NoSession => "no-session",
        }
    }

    /// One line for `help` and the README.
    pub fn description(self) -> &'static str {
        match self {
            PaytefScenario::Approved => "card read, PIN (chip), approved",
            PaytefScenario::Declined => "card read, PIN, declined by the bank",
            PaytefScenario::CancelledByCustomer => {
                "the customer presses cancel while asked for the card"
            }
            PaytefScenario::SlowCard => "the card read takes the slow time, then approved",
            PaytefScenario::Timeout => "waits for a card forever (only a cancel ends it)",
            PaytefScenario::Busy => {
                "a foreign transaction starts now and waits forever: every start gets HTTP 500 until it is cancelled"
            }
            PaytefScenario::ReplyLost => {
                "approved, but every poll/result reply carrying the approval is dropped (getLastResult answers)"
            }
            PaytefScenario::StartReplyLost => {
                "the start reply is dropped, yet the transaction runs and is approved"
            }
            PaytefScenario::Restarted => {
                "the terminal restarts while reading the card and forgets the transaction"
            }
            PaytefScenario::CancelIgnored => {
                "cancel answers success, but the transaction goes on and is approved"
            }
            PaytefScenario::DeclinedThenApproved => {
                "polls show finished/declined (wrong PIN), then the customer retries and it is approved"
            }
            PaytefScenario::TokenExpired => {
                "cloud: tokens expire now and right after each start (403 until re-authorised); approved"
            }
            PaytefScenario::NoSession => {
                "cloud: the start reply has no sessionID (poll by pinpad); approved"
            }
        }
    }

    /// The scenario called `name` (as `name()`, case-insensitive, `_` accepted for `-`).
    pub fn by_name(name: &str) -> Option<PaytefScenario> {
        let wanted = name.to_ascii_lowercase().replace('_', "-");
        Self::ALL.into_iter().find(|s| s.name() == wanted)
    }

    /// The steps a transaction started under this scenario walks through. `pin` says whether
    /// the card asks for a PIN (chip) or not (contactless).
    pub(crate) fn plan(self, pin: bool) -> Vec<Step> {
        use CardStatus::*;
        let card = |status, wait| Step::Card(status, wait);
        let mut read = vec![
            card(WaitingCard, Wait::Steps(1)),
            card(ReadingCard, Wait::Steps(1)),
        ];
        if pin {
            read.push(card(WaitingPin, Wait::Steps(1)));
        }
        let finish = |mut steps: Vec<Step>, outcome| {
            steps.push(card(Processing, Wait::Steps(1)));
            steps.push(Step::Result(outcome, Wait::Forever));
            steps
        };
        match self {
            PaytefScenario::Declined => finish(read, Outcome::Declined),
            PaytefScenario::CancelledByCustomer => vec![
                card(WaitingCard, Wait::Steps(2)),
                Step::Result(Outcome::Cancelled, Wait::Forever),
            ],
            PaytefScenario::SlowCard => {
                read[1] = card(ReadingCard, Wait::Slow);
                finish(read, Outcome::Approved)
            }
            PaytefScenario::Timeout => vec![card(WaitingCard, Wait::Forever)],
            PaytefScenario::Restarted => vec![
                card(WaitingCard, Wait::Steps(1)),
                card(ReadingCard, Wait::Steps(1)),
                Step::Restart,
            ],
            PaytefScenario::CancelIgnored => {
                read[0] = card(WaitingCard, Wait::Slow);
                finish(read, Outcome::Approved)
            }
            PaytefScenario::DeclinedThenApproved => {
                let mut steps = vec![
                    card(WaitingCard, Wait::Steps(1)),
                    card(ReadingCard, Wait::Steps(1)),
                    card(WaitingPin, Wait::Steps(1)),
                    Step::Result(Outcome::WrongPin, Wait::Steps(3)),
                    card(WaitingPin, Wait::Steps(1)),
                ];
                steps = finish(steps, Outcome::Approved);
                steps
            }
            PaytefScenario::Approved
            | PaytefScenario::Busy
            | PaytefScenario::ReplyLost
            | PaytefScenario::StartReplyLost
            | PaytefScenario::TokenExpired
            | PaytefScenario::NoSession => finish(read, Outcome::Approved),
        }
    }

    /// The HTTP-side faults of a transaction started under this scenario.
    pub(crate) fn faults(self) -> Faults {
        Faults {
            lose_start_reply: self == PaytefScenario::StartReplyLost,
            lose_approval_replies: self == PaytefScenario::ReplyLost,
            cancel_ignored: self == PaytefScenario::CancelIgnored,
            expire_token_after_start: self == PaytefScenario::TokenExpired,
            no_session: self == PaytefScenario::NoSession,
        }
    }
}

/// How long a step lasts before the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// This many pace steps (`PaytefOptions::step`).
    Steps(u32),
    /// `PaytefOptions::slow`.
    Slow,
    /// Until something outside (a cancel, a restart) ends it.
    Forever,
}

/// One step of a transaction plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Running, showing this card status.
    Card(CardStatus, Wait),
    /// Finished with this outcome (visible to polls and getLastResult); a plan may go on after
    /// a result (declined-then-approved).
    Result(Outcome, Wait),
    /// The terminal restarts: the transaction is forgotten.
    Restart,
}

/// HTTP-side misbehaviour attached to one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Faults {
    pub lose_start_reply: bool,
    pub lose_approval_replies: bool,
    pub cancel_ignored: bool,
    pub expire_token_after_start: bool,
    pub no_session: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_is_found_by_its_name() {
        for s in PaytefScenario::ALL {
            assert_eq!(PaytefScenario::by_name(s.name()), Some(s));
        }
        assert_eq!(
            PaytefScenario::by_name("REPLY_LOST"),
            Some(PaytefScenario::ReplyLost)
        );
        assert_eq!(PaytefScenario::by_name("nope"), None);
    }

    #[test]
    fn a_contactless_card_skips_the_pin_step() {
        let with_pin = PaytefScenario::Approved.plan(true);
        let without = PaytefScenario::Approved.plan(false);
        assert_eq!(with_pin.len(), without.len() + 1);
        assert!(!without.contains(&Step::Card(CardStatus::WaitingPin, Wait::Steps(1))));
    }

    #[test]
    fn every_plan_ends_in_a_result_a_restart_or_a_wait_forever() {
        for s in PaytefScenario::ALL {
            for pin in [true, false] {
                let last = s.plan(pin).last().copied();
                assert!(
                    matches!(
                        last,
                        Some(Step::Result(_, Wait::Forever))
                            | Some(Step::Restart)
                            | Some(Step::Card(_, Wait::Forever))
                    ),
                    "{s:?}: {last:?}"
                );
            }
        }
    }
}

//! What the simulated myPOS terminal does with the next PURCHASE or REFUND: the named
//! scenarios and, for each, the frames it sends, the pauses between them and how it ends.
//! Stages go 1 → 11 → 2 → 3 → 5, not monotonic, as real Ultras do (stage 11's meaning is not
//! documented; it is sent between 1 and 2). Pure data; session.rs walks the plan.

use super::status::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MyposScenario {
    #[default]
    Approved,
    Declined,
    CancelledByCustomer,
    SlowCard,
    Timeout,
    Busy,
    ReplyLost,
    Restarted,
    Stuck,
    HostError,
    CommError,
    Slave,
    DeclinedThenApproved,
    CancelFails,
}

impl MyposScenario {
    pub const ALL: [MyposScenario; 14] = [
        MyposScenario::Approved,
        MyposScenario::Declined,
        MyposScenario::CancelledByCustomer,
        MyposScenario::SlowCard,
        MyposScenario::Timeout,
        MyposScenario::Busy,
        MyposScenario::ReplyLost,
        MyposScenario::Restarted,
        MyposScenario::Stuck,
        MyposScenario::HostError,
        MyposScenario::CommError,
        MyposScenario::Slave,
        MyposScenario::DeclinedThenApproved,
        MyposScenario::CancelFails,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MyposScenario::Approved => "approved",
            MyposScenario::Declined => "declined",
            MyposScenario::CancelledByCustomer => "cancelled",
            MyposScenario::SlowCard => "slow-card",
            MyposScenario::Timeout => "timeout",
            MyposScenario::Busy => "busy",
            MyposScenario::ReplyLost => "reply-lost",
            MyposScenario::Restarted => "restarted",
            MyposScenario::Stuck => "stuck",
            MyposScenario::HostError => "host-error",
            MyposScenario::CommError => "comm-error",
            MyposScenario::Slave => "slave",
            MyposScenario::DeclinedThenApproved => "declined-then-approved",
            MyposScenario::CancelFails => "cancel-fails",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            MyposScenario::Approved => "stages 1, 11, 2, 3 (chip), 5 approved",
            MyposScenario::Declined => "stages 1, 11, 2, 3, 5 with TX_STATUS=1, APPROVAL=05",
            MyposScenario::CancelledByCustomer => {
                "the customer cancels at the card prompt: STAGE=2 STATUS=13"
            }
            MyposScenario::SlowCard => "the card read (before stage 2) takes the slow time, then approved",
            MyposScenario::Timeout => "stage 1, then silence forever (busy until a customer cancel or restart)",
            MyposScenario::Busy => {
                "a transaction started on the keypad runs now: every request gets STATUS=1 until it is cancelled"
            }
            MyposScenario::ReplyLost => {
                "approved, then the socket closes before the final frame; GET_STATUS shows the approval"
            }
            MyposScenario::Restarted => {
                "the terminal restarts after reading the card: connection closed, transaction forgotten"
            }
            MyposScenario::Stuck => {
                "an approved transaction (SID STUCK-n) waits for COMPLETE_TX now: PURCHASE gets STATUS=20"
            }
            MyposScenario::HostError => {
                "final STAGE=5 STATUS=12 (host receive error); not charged (GET_STATUS TX_STATUS=4)"
            }
            MyposScenario::CommError => {
                "final STAGE=5 STATUS=15 (communication error) though the bank approved: charged"
            }
            MyposScenario::Slave => {
                "after the PIN the terminal sends METHOD=PROCESS STAGE=4 and waits for the caller to relay"
            }
            MyposScenario::DeclinedThenApproved => {
                "STAGE=3 STATUS=9 (wrong PIN), then STAGE=3 STATUS=0 and STAGE=5 approved"
            }
            MyposScenario::CancelFails => {
                "purchases approve; CANCEL_TX and REVERSAL answer STATUS=15 and reverse nothing"
            }
        }
    }

    pub fn by_name(name: &str) -> Option<MyposScenario> {
        let wanted = name.to_ascii_lowercase().replace('_', "-");
        Self::ALL.into_iter().find(|s| s.name() == wanted)
    }

    /// The steps of a PURCHASE or REFUND under this scenario; `pin`: the card asks for a PIN.
    pub(crate) fn plan(self, pin: bool) -> Vec<Step> {
        use Cancel::{Allowed, Refused};
        use Step::{End, Pause, Send};
        let ok = Status::Ok;
        let one = Wait::Steps(1);
        let mut steps = vec![Send(1, ok), Pause(one, Allowed), Send(11, ok)];
        let card_wait = match self {
            MyposScenario::SlowCard => Wait::Slow,
            _ => one,
        };
        match self {
            MyposScenario::Timeout => {
                return vec![Send(1, ok), Pause(Wait::Forever, Allowed)];
            }
            MyposScenario::CancelledByCustomer => {
                steps.extend([Pause(one, Allowed), Send(2, ok), Pause(one, Allowed)]);
                steps.push(End(Ending::UserCancel));
                return steps;
            }
            _ => {}
        }
        steps.extend([Pause(card_wait, Allowed), Send(2, ok)]);
        if self == MyposScenario::Restarted {
            steps.extend([Pause(one, Allowed), Step::Restart]);
            return steps;
        }
        if pin {
            steps.extend([Pause(one, Allowed), Send(3, ok)]);
            if self == MyposScenario::DeclinedThenApproved {
                steps.extend([
                    Pause(one, Allowed),
                    Send(3, Status::InvalidPin),
                    Pause(Wait::Steps(3), Allowed),
                    Send(3, ok),
                ]);
            }
        }
        // From here the bank is processing: a customer cancel no longer works.
        steps.push(Pause(one, Refused));
        steps.push(match self {
            MyposScenario::Declined => End(Ending::Declined),
            MyposScenario::ReplyLost => Step::LoseReply(Ending::Approved),
            MyposScenario::HostError => End(Ending::HostError),
            MyposScenario::CommError => End(Ending::CommError),
            MyposScenario::Slave => Step::Relay,
            _ => End(Ending::Approved),
        });
        steps
    }
}

/// How long a pause lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    Steps(u32),
    Slow,
    Forever,
}

/// Whether the customer's cancel key works during a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancel {
    Allowed,
    Refused,
}

/// One step of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// An in-progress frame: this STAGE with this STATUS.
    Send(u8, Status),
    Pause(Wait, Cancel),
    /// Decide the outcome and send the final frame.
    End(Ending),
    /// Decide the outcome and close the connection before the final frame.
    LoseReply(Ending),
    /// The terminal restarts: forget the transaction, close the connection.
    Restart,
    /// Slave mode: send METHOD=PROCESS STAGE=4, wait for the caller's PROCESS, then approve
    /// (or fail with STATUS=15 when nothing is relayed in time).
    Relay,
}

/// How a transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Approved,
    Declined,
    UserCancel,
    /// STATUS=12; the bank never answered, nothing charged.
    HostError,
    /// STATUS=15 though the bank approved: charged.
    CommError,
    /// Slave mode and the caller relayed nothing: STATUS=15, nothing charged.
    RelayFailed,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(plan: &[Step]) -> Vec<u8> {
        plan.iter()
            .filter_map(|s| match s {
                Step::Send(stage, _) => Some(*stage),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn names_round_trip() {
        for s in MyposScenario::ALL {
            assert_eq!(MyposScenario::by_name(s.name()), Some(s));
        }
    }

    #[test]
    fn an_approved_chip_purchase_goes_1_11_2_3_then_ends() {
        let plan = MyposScenario::Approved.plan(true);
        assert_eq!(stages(&plan), [1, 11, 2, 3]);
        assert_eq!(plan.last(), Some(&Step::End(Ending::Approved)));
    }

    #[test]
    fn contactless_has_no_pin_stage() {
        assert_eq!(stages(&MyposScenario::Approved.plan(false)), [1, 11, 2]);
    }

    #[test]
    fn every_plan_starts_with_stage_1_ok() {
        for s in MyposScenario::ALL {
            assert_eq!(
                s.plan(true).first(),
                Some(&Step::Send(1, Status::Ok)),
                "{s:?}"
            );
        }
    }

    #[test]
    fn the_last_pause_before_the_bank_answers_refuses_a_cancel() {
        let plan = MyposScenario::Approved.plan(true);
        assert_eq!(
            plan[plan.len() - 2],
            Step::Pause(Wait::Steps(1), Cancel::Refused)
        );
    }
}

//! Named situations from real shops, each one control command (`scenario <name>`) or option
//! (`scenario=<name>`). Every scenario first restores the default stock with no fault, no limit
//! and nothing armed (the session, inserted cash and stats stay), then sets its situation up.

use std::fmt;
use std::str::FromStr;

use crate::machine::Machine;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Default stock: a 20.00 note for 12.50 gets 7.50 back.
    PaysWithChange,
    /// Coins and the 5 and 10 notes are empty: change below 20.00 comes back as PAYOUT_REST.
    NotEnoughChange,
    /// The customer has put in 7.00 and then wants it back: the POS should call regretCG.
    CustomerCancels,
    /// The next payout stops after its first piece with a jam: ERROR with the rest owed.
    JamMidPayment,
    /// The 20.00 cassette is full (BLOCKED): further 20.00 notes are refused.
    RecyclerFull,
    /// Another register holds the machine: CashSession(4), then 3 calls answer BUSY.
    Busy,
}

impl Scenario {
    pub const ALL: [Scenario; 6] = [
        Scenario::PaysWithChange,
        Scenario::NotEnoughChange,
        Scenario::CustomerCancels,
        Scenario::JamMidPayment,
        Scenario::RecyclerFull,
        Scenario::Busy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::PaysWithChange => "pays-with-change",
            Scenario::NotEnoughChange => "not-enough-change",
            Scenario::CustomerCancels => "customer-cancels",
            Scenario::JamMidPayment => "jam-mid-payment",
            Scenario::RecyclerFull => "recycler-full",
            Scenario::Busy => "busy",
        }
    }

    /// Sets the situation up. Fails only if the customer-cancels insert is refused (no session).
    pub fn apply(self, m: &mut Machine) -> Result<String, String> {
        m.restore_defaults();
        match self {
            Scenario::PaysWithChange => {}
            Scenario::NotEnoughChange => {
                let small: Vec<(u32, u32)> = m
                    .stock()
                    .denominations()
                    .filter(|&d| d < 2000)
                    .map(|d| (d, 0))
                    .collect();
                m.set_stock(&small)?;
            }
            Scenario::CustomerCancels => {
                m.insert(&[500, 200])?;
            }
            Scenario::JamMidPayment => m.arm_jam_on_next_payout(),
            Scenario::RecyclerFull => m.fill(2000)?,
            Scenario::Busy => m.busy_by_other_register(3),
        }
        Ok(self.name().to_owned())
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown scenario {s}; known: {}",
                    Scenario::ALL.map(Scenario::name).join(", ")
                )
            })
    }
}

//! The cassettes: one per denomination, with a count, a capacity and the LOW/HIGH thresholds.
//! Pure arithmetic: planning a payout (greedy by denomination, only what is there) and finding
//! which thresholds a change crossed. No events are sent from here; the machine turns the
//! crossings into LevelWarning events.

use std::collections::BTreeMap;

use crate::abi::LevelKind;

/// One denomination's cassette (a note recycler drum or a coin hopper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cassette {
    pub count: u32,
    pub capacity: u32,
    /// LOW is raised when the count falls to this or below (and EMPTY at zero).
    pub low: u32,
    /// HIGH is raised when the count rises to this or above (and BLOCKED at capacity).
    pub high: u32,
}

/// Euro coins (1 cent to 2 euro) and the recycled notes (5 to 100 euro), in cents.
const DEFAULT_TABLE: &[(u32, Cassette)] = &[
    (1, coin(50)),
    (2, coin(50)),
    (5, coin(50)),
    (10, coin(50)),
    (20, coin(50)),
    (50, coin(40)),
    (100, coin(30)),
    (200, coin(30)),
    (500, note(20)),
    (1000, note(15)),
    (2000, note(10)),
    (5000, note(4)),
    (10000, note(0)),
];

// CashGuard's published sizes: 200–380 coins per hopper, about 800 notes over 5 denominations.
const fn coin(count: u32) -> Cassette {
    Cassette {
        count,
        capacity: 300,
        low: 10,
        high: 270,
    }
}
const fn note(count: u32) -> Cassette {
    Cassette {
        count,
        capacity: 160,
        low: 5,
        high: 150,
    }
}

/// A threshold crossed by a change of count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crossing {
    pub kind: LevelKind,
    pub denomination: u32,
    pub count: u32,
}

/// What a payout of some amount would take from the cassettes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayoutPlan {
    /// (denomination, pieces), largest denomination first.
    pub pieces: Vec<(u32, u32)>,
    /// What the stock cannot pay.
    pub rest: i64,
}

impl PayoutPlan {
    pub fn paid(&self) -> i64 {
        self.pieces
            .iter()
            .map(|&(d, n)| i64::from(d) * i64::from(n))
            .sum()
    }

    /// Every piece, one entry per note/coin, largest first.
    pub fn flat(&self) -> Vec<u32> {
        self.pieces
            .iter()
            .flat_map(|&(d, n)| std::iter::repeat_n(d, n as usize))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stock {
    cassettes: BTreeMap<u32, Cassette>,
}

impl Default for Stock {
    fn default() -> Self {
        Stock {
            cassettes: DEFAULT_TABLE.iter().copied().collect(),
        }
    }
}

impl Stock {
    pub fn get(&self, denomination: u32) -> Option<&Cassette> {
        self.cassettes.get(&denomination)
    }

    pub fn denominations(&self) -> impl Iterator<Item = u32> + '_ {
        self.cassettes.keys().copied()
    }

    /// denomination → count, ascending.
    pub fn counts(&self) -> BTreeMap<u32, u32> {
        self.cassettes.iter().map(|(&d, c)| (d, c.count)).collect()
    }

    pub fn total(&self) -> i64 {
        self.cassettes
            .iter()
            .map(|(&d, c)| i64::from(d) * i64::from(c.count))
            .sum()
    }

    /// Sets a count, clamped to the capacity. Fails (returns false) for an unknown denomination.
    pub fn set(&mut self, denomination: u32, count: u32) -> bool {
        match self.cassettes.get_mut(&denomination) {
            Some(c) => {
                c.count = count.min(c.capacity);
                true
            }
            None => false,
        }
    }

    /// Whether one more piece of `denomination` fits; None for a denomination the machine
    /// does not take.
    pub fn accepts(&self, denomination: u32) -> Option<bool> {
        self.cassettes
            .get(&denomination)
            .map(|c| c.count < c.capacity)
    }

    pub fn add(&mut self, denomination: u32, n: u32) {
        if let Some(c) = self.cassettes.get_mut(&denomination) {
            c.count = c.count.saturating_add(n).min(c.capacity);
        }
    }

    /// Removes up to `n` pieces; returns how many were there to remove.
    pub fn remove(&mut self, denomination: u32, n: u32) -> u32 {
        match self.cassettes.get_mut(&denomination) {
            Some(c) => {
                let taken = n.min(c.count);
                c.count -= taken;
                taken
            }
            None => 0,
        }
    }

    /// Greedy change-making: for each denomination from the largest, as many pieces as fit in
    /// what is still owed and are in the cassette. Like the real machine this can leave a rest
    /// that a cleverer combination would have avoided (60 from {50×1, 20×3}); that is the
    /// contract, not a bug to fix here.
    pub fn plan(&self, amount: i64) -> PayoutPlan {
        let mut rest = amount.max(0);
        let mut pieces = Vec::new();
        for (&d, c) in self.cassettes.iter().rev() {
            let want = rest / i64::from(d);
            let n = want.min(i64::from(c.count));
            if n > 0 {
                pieces.push((d, n as u32));
                rest -= n * i64::from(d);
            }
        }
        PayoutPlan { pieces, rest }
    }

    /// Takes the planned pieces out.
    pub fn take(&mut self, plan: &PayoutPlan) {
        for &(d, n) in &plan.pieces {
            self.remove(d, n);
        }
    }

    /// The thresholds crossed going from `before` (counts) to the current counts: EMPTY/LOW on
    /// the way down, HIGH/BLOCKED on the way up. At most one per denomination, the strongest.
    pub fn crossings(&self, before: &BTreeMap<u32, u32>) -> Vec<Crossing> {
        let mut out = Vec::new();
        for (&d, c) in &self.cassettes {
            let old = before.get(&d).copied().unwrap_or(c.count);
            let new = c.count;
            let kind = if new < old {
                if new == 0 {
                    Some(LevelKind::Empty)
                } else if new <= c.low && old > c.low {
                    Some(LevelKind::Low)
                } else {
                    None
                }
            } else if new > old {
                if new >= c.capacity {
                    Some(LevelKind::Blocked)
                } else if new >= c.high && old < c.high {
                    Some(LevelKind::High)
                } else {
                    None
                }
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push(Crossing {
                    kind,
                    denomination: d,
                    count: new,
                });
            }
        }
        out
    }

    /// The `infoCG` level string: `denomination:count;…`, ascending.
    pub fn level_string(&self) -> String {
        self.cassettes
            .iter()
            .map(|(d, c)| format!("{d}:{}", c.count))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// `1250` → `"12.50"`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stock(levels: &[(u32, u32)]) -> Stock {
        let mut s = Stock::default();
        for d in s.denominations().collect::<Vec<_>>() {
            s.set(d, 0);
        }
        for &(d, n) in levels {
            assert!(s.set(d, n));
        }
        s
    }

    #[test]
    fn greedy_plan_takes_largest_first_and_reports_the_rest() {
        let s = stock(&[(500, 1), (200, 1), (50, 0), (20, 1)]);
        let plan = s.plan(750);
        assert_eq!(plan.pieces, vec![(500, 1), (200, 1), (20, 1)]);
        assert_eq!(plan.paid(), 720);
        assert_eq!(plan.rest, 30);
    }

    #[test]
    fn greedy_plan_can_miss_a_combination_like_the_machine() {
        let s = stock(&[(50, 1), (20, 3)]);
        assert_eq!(s.plan(60).rest, 10);
    }

    #[test]
    fn a_payout_to_zero_is_empty_and_to_the_low_threshold_is_low() {
        let mut s = stock(&[(500, 6), (200, 1)]);
        let before = s.counts();
        s.remove(500, 1);
        s.remove(200, 1);
        let c = s.crossings(&before);
        assert_eq!(c.len(), 2);
        assert!(c.contains(&Crossing {
            kind: LevelKind::Low,
            denomination: 500,
            count: 5
        }));
        assert!(c.contains(&Crossing {
            kind: LevelKind::Empty,
            denomination: 200,
            count: 0
        }));
        // Already low: going lower raises nothing new until empty.
        let before = s.counts();
        s.remove(500, 1);
        assert!(s.crossings(&before).is_empty());
    }

    #[test]
    fn filling_raises_high_then_blocked() {
        let mut s = stock(&[(2000, 149)]);
        let before = s.counts();
        s.add(2000, 1);
        assert_eq!(s.crossings(&before)[0].kind, LevelKind::High);
        let before = s.counts();
        s.add(2000, 10);
        assert_eq!(s.crossings(&before)[0].kind, LevelKind::Blocked);
        assert_eq!(s.accepts(2000), Some(false));
        assert_eq!(s.accepts(20000), None);
    }

    #[test]
    fn level_string_lists_every_denomination_ascending() {
        let s = stock(&[(500, 10), (1000, 8)]);
        let text = s.level_string();
        assert!(text.starts_with("1:0;2:0;"), "{text}");
        assert!(text.contains(";500:10;1000:8;"), "{text}");
    }

    #[test]
    fn cents_format_with_two_decimals() {
        assert_eq!(format_cents(1250), "12.50");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-30), "-0.30");
    }
}

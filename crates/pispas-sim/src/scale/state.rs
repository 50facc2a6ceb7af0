//! What a simulated scale knows: the load on the platform, zero offset, tare, stability,
//! forced overload/under-zero, the unit price an ECR sent (Dialog, Dibal), and what it shows.
//! No protocol framing here.

/// Capacity of the simulated scale (a typical 6/15 kg retail scale).
pub const CAPACITY_G: i64 = 15_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleState {
    /// What lies on the platform, in grams (what `set_weight` sets).
    pub load_g: i64,
    /// The load that `zero` declared to be zero.
    pub zero_offset_g: i64,
    /// Tare in grams, when in net mode.
    pub tare_g: Option<i64>,
    pub stable: bool,
    /// Forced conditions (overload also follows from the load exceeding capacity, under zero
    /// from a negative display).
    pub force_overload: bool,
    pub force_under_zero: bool,
    /// Unit price in cents, as the ECR last sent it (Dialog record 01, Dibal 98 line).
    pub unit_price_cents: u32,
    /// How many times the display went back to zero (some scales re-arm on it).
    pub zero_visits: u64,
    /// Damage the next frame the scale sends (`corrupt`).
    pub corrupt_next: bool,
}

impl Default for ScaleState {
    fn default() -> Self {
        ScaleState {
            load_g: 0,
            zero_offset_g: 0,
            tare_g: None,
            stable: true,
            force_overload: false,
            force_under_zero: false,
            unit_price_cents: 0,
            zero_visits: 0,
            corrupt_next: false,
        }
    }
}

impl ScaleState {
    pub fn gross_g(&self) -> i64 {
        self.load_g - self.zero_offset_g
    }

    /// What the display shows: net when tared, else gross.
    pub fn shown_g(&self) -> i64 {
        self.gross_g() - self.tare_g.unwrap_or(0)
    }

    pub fn is_net(&self) -> bool {
        self.tare_g.is_some()
    }

    pub fn overload(&self) -> bool {
        self.force_overload || self.gross_g() > CAPACITY_G
    }

    pub fn under_zero(&self) -> bool {
        self.force_under_zero || self.shown_g() < 0
    }

    /// A weight a scale may hand out for sale: stable, in range.
    pub fn valid(&self) -> bool {
        self.stable && !self.overload() && !self.under_zero()
    }

    pub fn set_load(&mut self, grams: i64) {
        let was_zero = self.shown_g() == 0;
        self.load_g = grams;
        if !was_zero && self.shown_g() == 0 {
            self.zero_visits += 1;
        }
    }

    /// Zero key / command: the current load becomes zero (tare is kept).
    pub fn zero(&mut self) {
        self.zero_offset_g = self.load_g;
        self.zero_visits += 1;
    }

    /// Tare key / command: the gross on the platform becomes the tare; with an empty (or
    /// negative) platform it clears the tare instead, as scales without a clear command do.
    pub fn tare(&mut self) {
        let gross = self.gross_g();
        self.tare_g = (gross > 0).then_some(gross);
    }

    pub fn clear_tare(&mut self) {
        self.tare_g = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tare_subtracts_and_a_tare_on_an_empty_platform_clears_it() {
        let mut s = ScaleState::default();
        s.set_load(200);
        s.tare();
        s.set_load(1_200);
        assert_eq!((s.shown_g(), s.is_net()), (1_000, true));
        s.set_load(0);
        assert!(s.under_zero());
        s.tare();
        assert!(!s.is_net());
    }

    #[test]
    fn zero_takes_the_current_load_as_zero() {
        let mut s = ScaleState::default();
        s.set_load(15);
        s.zero();
        s.set_load(515);
        assert_eq!(s.shown_g(), 500);
    }

    #[test]
    fn more_than_capacity_is_overload() {
        let mut s = ScaleState::default();
        s.set_load(CAPACITY_G + 1);
        assert!(s.overload() && !s.valid());
    }
}

//! Turns a reader's continuous repeats into one event per tag presentation.
//!
//! Serial EM4100 readers resend the frame for as long as the tag stays in the field (research
//! notes §5: "de-duplicate, e.g. same UID within 1–2 s"). A presentation ends when the tag has
//! not been seen for longer than the window. Pure state machine: the caller passes the time,
//! so tests need no clock and no sleeps. It does not read, validate or normalise UIDs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Remembers when each UID was last seen.
#[derive(Debug, Clone)]
pub struct Dedup {
    window: Duration,
    last_seen: HashMap<String, Instant>,
}

impl Dedup {
    pub fn new(window: Duration) -> Self {
        Dedup {
            window,
            last_seen: HashMap::new(),
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Records a sighting of `uid` at `now`. Returns true when it starts a new presentation
    /// (the tag was not seen during the last `window`), false for a repeat. A tag held on the
    /// reader keeps extending its presentation. UIDs compare exactly, so callers pass them in
    /// one case (the decoders report upper case).
    pub fn observe(&mut self, uid: &str, now: Instant) -> bool {
        let window = self.window;
        // Forget tags whose presentation has ended, so the map stays as small as the set of
        // tags currently on readers.
        self.last_seen
            .retain(|_, seen| now.saturating_duration_since(*seen) <= window);
        match self.last_seen.get_mut(uid) {
            Some(seen) => {
                *seen = (*seen).max(now);
                false
            }
            None => {
                self.last_seen.insert(uid.to_owned(), now);
                true
            }
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.last_seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(1500);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_first_sighting_of_a_tag_is_reported() {
        let mut dedup = Dedup::new(WINDOW);
        assert!(dedup.observe("0A00B1C2D3", Instant::now()));
    }

    #[test]
    fn a_tag_held_on_the_reader_is_reported_once() {
        let mut dedup = Dedup::new(WINDOW);
        let t0 = Instant::now();
        let reports = (0..100)
            .filter(|i| dedup.observe("0A00B1C2D3", t0 + ms(100 * i)))
            .count();
        assert_eq!(reports, 1, "ten seconds of repeats every 100 ms");
    }

    #[test]
    fn a_tag_presented_again_after_the_window_is_reported_again() {
        let mut dedup = Dedup::new(WINDOW);
        let t0 = Instant::now();
        assert!(dedup.observe("0A00B1C2D3", t0));
        assert!(!dedup.observe("0A00B1C2D3", t0 + ms(500)));
        assert!(dedup.observe("0A00B1C2D3", t0 + ms(500) + WINDOW + ms(1)));
    }

    #[test]
    fn a_gap_of_exactly_the_window_is_still_the_same_presentation() {
        let mut dedup = Dedup::new(WINDOW);
        let t0 = Instant::now();
        assert!(dedup.observe("0A00B1C2D3", t0));
        assert!(!dedup.observe("0A00B1C2D3", t0 + WINDOW));
    }

    #[test]
    fn different_tags_are_reported_independently() {
        let mut dedup = Dedup::new(WINDOW);
        let t0 = Instant::now();
        assert!(dedup.observe("AAAAAAAAAA", t0));
        assert!(dedup.observe("BBBBBBBBBB", t0 + ms(10)));
        assert!(!dedup.observe("AAAAAAAAAA", t0 + ms(20)));
        assert!(!dedup.observe("BBBBBBBBBB", t0 + ms(30)));
    }

    #[test]
    fn an_earlier_instant_than_the_last_sighting_counts_as_a_repeat() {
        let mut dedup = Dedup::new(WINDOW);
        let t0 = Instant::now();
        assert!(dedup.observe("0A00B1C2D3", t0 + ms(1000)));
        assert!(!dedup.observe("0A00B1C2D3", t0));
    }

    #[test]
    fn tags_whose_presentation_ended_are_forgotten() {
        let mut dedup = Dedup::new(WINDOW);
        let t0 = Instant::now();
        for i in 0..50u32 {
            dedup.observe(&format!("{i:010X}"), t0);
        }
        assert_eq!(dedup.tracked(), 50);
        dedup.observe("0A00B1C2D3", t0 + WINDOW + ms(1));
        assert_eq!(dedup.tracked(), 1);
    }
}

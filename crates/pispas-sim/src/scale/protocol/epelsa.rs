//! Epelsa in auto/stream mode: unsolicited `STX <st> <7-char weight> CR ETX` every 100 ms.
//! `st` is `I` for the first frames after power-on (plug-in), then `A` when stable and `!`
//! while moving or overloaded. Under zero is a negative weight. Input is ignored.

use super::{kg, Protocol, CR, ETX, STX};
use crate::scale::state::ScaleState;
use std::time::Duration;

/// Frames sent with `I` (initial) after plug-in: half a second.
const INITIAL_FRAMES: u32 = 5;

pub(crate) struct Epelsa {
    initial_left: u32,
}

impl Default for Epelsa {
    fn default() -> Self {
        Epelsa {
            initial_left: INITIAL_FRAMES,
        }
    }
}

impl Protocol for Epelsa {
    fn receive(&mut self, _input: &[u8], _scale: &mut ScaleState, _out: &mut Vec<u8>) {}

    fn period(&self) -> Option<Duration> {
        Some(Duration::from_millis(100))
    }

    fn frame(&mut self, scale: &ScaleState, out: &mut Vec<u8>) {
        let st = if self.initial_left > 0 {
            self.initial_left -= 1;
            b'I'
        } else if scale.stable && !scale.overload() {
            b'A'
        } else {
            b'!'
        };
        out.extend_from_slice(&[STX, st]);
        out.extend_from_slice(kg(scale.shown_g(), 7).as_bytes());
        out.extend_from_slice(&[CR, ETX]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_start_initial_then_stable_then_moving() {
        let mut p = Epelsa::default();
        let mut s = ScaleState::default();
        s.set_load(1234);
        let mut out = Vec::new();
        for _ in 0..INITIAL_FRAMES {
            out.clear();
            p.frame(&s, &mut out);
            assert_eq!(out[1], b'I');
        }
        out.clear();
        p.frame(&s, &mut out);
        assert_eq!(out, b"\x02A  1.234\r\x03");
        s.stable = false;
        out.clear();
        p.frame(&s, &mut out);
        assert_eq!(out, b"\x02!  1.234\r\x03");
    }
}

//! Adam Equipment (AZExtra, CBD): commands end with CR LF. `P` answers `  1.234kg CR LF` — but
//! only with a stable, in-range weight that is not zero and differs from the last one it
//! answered (it stays silent otherwise; a return to zero re-arms the same weight). `Z` zeroes,
//! `T` tares (a tare on an empty platform clears it: there is no clear command).

use super::{kg, Protocol};
use crate::scale::state::ScaleState;

#[derive(Default)]
pub(crate) struct Adam {
    line: Vec<u8>,
    last: Option<(i64, u64)>,
}

impl Protocol for Adam {
    fn receive(&mut self, input: &[u8], scale: &mut ScaleState, out: &mut Vec<u8>) {
        for &byte in input {
            if byte != b'\r' && byte != b'\n' {
                self.line.push(byte);
                if self.line.len() > 64 {
                    self.line.clear();
                }
                continue;
            }
            let command = std::mem::take(&mut self.line);
            match command.as_slice() {
                b"P" => {
                    let shown = scale.shown_g();
                    let now = (shown, scale.zero_visits);
                    let fresh = self.last != Some(now);
                    if scale.stable && !scale.overload() && shown != 0 && fresh {
                        out.extend_from_slice(format!("{}kg\r\n", kg(shown, 7)).as_bytes());
                        self.last = Some(now);
                    }
                }
                b"Z" => scale.zero(),
                b"T" => scale.tare(),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(p: &mut Adam, s: &mut ScaleState) -> Vec<u8> {
        let mut out = Vec::new();
        p.receive(b"P\r\n", s, &mut out);
        out
    }

    #[test]
    fn p_answers_once_then_stays_silent_while_unchanged() {
        let (mut p, mut s) = (Adam::default(), ScaleState::default());
        s.set_load(1234);
        assert_eq!(ask(&mut p, &mut s), b"  1.234kg\r\n");
        assert_eq!(ask(&mut p, &mut s), b"");
        s.set_load(1300);
        assert_eq!(ask(&mut p, &mut s), b"  1.300kg\r\n");
    }

    #[test]
    fn zero_is_silent_and_a_return_to_zero_re_arms_the_same_weight() {
        let (mut p, mut s) = (Adam::default(), ScaleState::default());
        assert_eq!(ask(&mut p, &mut s), b"");
        s.set_load(500);
        assert_eq!(ask(&mut p, &mut s), b"  0.500kg\r\n");
        s.set_load(0);
        assert_eq!(ask(&mut p, &mut s), b"");
        s.set_load(500);
        assert_eq!(ask(&mut p, &mut s), b"  0.500kg\r\n");
    }

    #[test]
    fn unstable_is_silent_and_tare_is_a_command() {
        let (mut p, mut s) = (Adam::default(), ScaleState::default());
        s.set_load(200);
        s.stable = false;
        assert_eq!(ask(&mut p, &mut s), b"");
        s.stable = true;
        p.receive(b"T\r\n", &mut s, &mut Vec::new());
        s.set_load(450);
        assert_eq!(ask(&mut p, &mut s), b"  0.250kg\r\n");
    }
}

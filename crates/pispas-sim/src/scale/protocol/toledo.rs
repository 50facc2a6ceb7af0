//! Mettler-Toledo 8217 and CAS PD-II (ECR type 2): one-byte commands, no terminator.
//! `W` → `STX <weight> CR` (8217: kg, 6 characters, `N` when net; CAS: 5 digits of grams), or
//! `STX ? <status> CR` while moving, overloaded or under zero. `Z` zero, `T` tare, `C` clear
//! tare (no reply). 8217 only: `E` answers `STX E CR` and echoes until `F`. Anything else
//! answers `?` with the bad-command bit.

use super::{kg, Protocol, CR, STX};
use crate::scale::state::ScaleState;

pub(crate) struct Toledo {
    cas: bool,
    echo: bool,
}

impl Toledo {
    pub(super) fn mettler() -> Toledo {
        Toledo {
            cas: false,
            echo: false,
        }
    }

    pub(super) fn cas_pd2() -> Toledo {
        Toledo {
            cas: true,
            echo: false,
        }
    }
}

/// The status character: bit 0 motion, 1 over capacity, 2 under zero, 4 centre of zero,
/// 5 net, 6 bad command (bit 3, outside zero capture, is never set by the sim).
pub(crate) fn status_char(scale: &ScaleState, bad_command: bool) -> u8 {
    let bit = |on: bool, mask: u8| if on { mask } else { 0 };
    bit(!scale.stable, 0x01)
        | bit(scale.overload(), 0x02)
        | bit(scale.under_zero(), 0x04)
        | bit(scale.gross_g() == 0, 0x10)
        | bit(scale.is_net(), 0x20)
        | bit(bad_command, 0x40)
}

impl Protocol for Toledo {
    fn receive(&mut self, input: &[u8], scale: &mut ScaleState, out: &mut Vec<u8>) {
        for &byte in input {
            if self.echo {
                if byte == b'F' {
                    self.echo = false;
                } else {
                    out.push(byte);
                }
                continue;
            }
            match byte {
                b'W' if scale.valid() => {
                    out.push(STX);
                    if self.cas {
                        out.extend_from_slice(
                            format!("{:05}", scale.shown_g().clamp(0, 99_999)).as_bytes(),
                        );
                    } else {
                        out.extend_from_slice(kg(scale.shown_g(), 6).as_bytes());
                        if scale.is_net() {
                            out.push(b'N');
                        }
                    }
                    out.push(CR);
                }
                b'W' => out.extend_from_slice(&[STX, b'?', status_char(scale, false), CR]),
                b'Z' => scale.zero(),
                b'T' => scale.tare(),
                b'C' => scale.clear_tare(),
                b'E' if !self.cas => {
                    self.echo = true;
                    out.extend_from_slice(&[STX, b'E', CR]);
                }
                b'\r' | b'\n' => {}
                _ => out.extend_from_slice(&[STX, b'?', status_char(scale, true), CR]),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(p: &mut Toledo, s: &mut ScaleState, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        p.receive(input, s, &mut out);
        out
    }

    #[test]
    fn w_answers_kilograms_and_n_when_net() {
        let (mut p, mut s) = (Toledo::mettler(), ScaleState::default());
        s.set_load(1234);
        assert_eq!(ask(&mut p, &mut s, b"W"), b"\x02 1.234\r");
        s.tare();
        s.set_load(1500);
        assert_eq!(ask(&mut p, &mut s, b"W"), b"\x02 0.266N\r");
    }

    #[test]
    fn motion_overload_and_under_zero_answer_a_status() {
        let (mut p, mut s) = (Toledo::mettler(), ScaleState::default());
        s.set_load(100);
        s.stable = false;
        assert_eq!(ask(&mut p, &mut s, b"W"), [STX, b'?', 0x01, CR]);
        s.stable = true;
        s.force_overload = true;
        assert_eq!(ask(&mut p, &mut s, b"W"), [STX, b'?', 0x02, CR]);
        s.force_overload = false;
        s.set_load(-5);
        assert_eq!(ask(&mut p, &mut s, b"W"), [STX, b'?', 0x04, CR]);
    }

    #[test]
    fn the_echo_probe_answers_stx_e_cr_then_echoes_until_f() {
        let (mut p, mut s) = (Toledo::mettler(), ScaleState::default());
        assert_eq!(ask(&mut p, &mut s, b"Ehello"), b"\x02E\rhello");
        assert_eq!(ask(&mut p, &mut s, b"F"), b"");
        assert_eq!(ask(&mut p, &mut s, b"W"), b"\x02 0.000\r");
    }

    #[test]
    fn an_unknown_command_sets_the_bad_command_bit() {
        let (mut p, mut s) = (Toledo::mettler(), ScaleState::default());
        assert_eq!(ask(&mut p, &mut s, b"Q"), [STX, b'?', 0x50, CR]);
    }

    #[test]
    fn cas_pd2_answers_five_digits_of_grams_in_seven_bytes() {
        let (mut p, mut s) = (Toledo::cas_pd2(), ScaleState::default());
        s.set_load(1500);
        assert_eq!(ask(&mut p, &mut s, b"W"), b"\x0201500\r");
        s.stable = false;
        assert_eq!(ask(&mut p, &mut s, b"W"), [STX, b'?', 0x01, CR]);
    }
}

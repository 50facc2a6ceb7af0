//! CAS "ST/US" text protocol, streamed (many CAS indicators send continuously):
//! `ST,GS,+  1.500 kg CR` — `ST` stable / `US` unstable / `OL` overload, `GS` gross / `NT`
//! net, sign and the weight right-aligned in 7 characters: 18 bytes. Input is ignored.

use super::{kg, Protocol};
use crate::scale::state::ScaleState;
use std::time::Duration;

pub(crate) struct CasText;

impl Protocol for CasText {
    fn receive(&mut self, _input: &[u8], _scale: &mut ScaleState, _out: &mut Vec<u8>) {}

    fn period(&self) -> Option<Duration> {
        Some(Duration::from_millis(100))
    }

    fn frame(&mut self, scale: &ScaleState, out: &mut Vec<u8>) {
        let status = if scale.overload() {
            "OL"
        } else if scale.stable {
            "ST"
        } else {
            "US"
        };
        let mode = if scale.is_net() { "NT" } else { "GS" };
        let shown = scale.shown_g();
        let sign = if shown < 0 || scale.force_under_zero {
            '-'
        } else {
            '+'
        };
        let weight = kg(shown.abs(), 7);
        out.extend_from_slice(format!("{status},{mode},{sign}{weight} kg\r").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stable_gross_frame_is_18_bytes() {
        let mut s = ScaleState::default();
        s.set_load(1500);
        let mut out = Vec::new();
        CasText.frame(&s, &mut out);
        assert_eq!(out, b"ST,GS,+  1.500 kg\r");
        assert_eq!(out.len(), 18);
    }

    #[test]
    fn unstable_net_negative_and_overload() {
        let mut s = ScaleState::default();
        s.set_load(300);
        s.tare();
        s.set_load(200);
        s.stable = false;
        let mut out = Vec::new();
        CasText.frame(&s, &mut out);
        assert_eq!(out, b"US,NT,-  0.100 kg\r");
        s.force_overload = true;
        out.clear();
        CasText.frame(&s, &mut out);
        assert!(out.starts_with(b"OL,NT,"));
    }
}

//! Retail serial scales: the protocol catalogue and the frame types every scale codec returns.
//!
//! `ScaleProtocol` says, per protocol, how to open the line, what to send to ask for a weight
//! or to tare/zero, and how to cut the bytes that come back into frames (`decode`). Weights are
//! exact integer grams, never floats. This module does no I/O, keeps no state between calls and
//! does not decide whether a weight may be sold: drivers own timing, retries and that policy
//! (research notes §4: "only accept stable weights for sale").

#![forbid(unsafe_code)]

mod adam;
mod cas_pd2;
mod cas_text;
mod dialog;
mod dibal;
mod epelsa;
mod framing;
mod probe;
mod protocol;
mod toledo8217;
mod weight;

pub use probe::{probe_sequence, ProbeReply, ProbeStep};
pub use protocol::{DataBits, LineSettings, Parity, ScaleCommand, ScaleProtocol, StopBits};

/// What one call to [`ScaleProtocol::decode`] found at the start of the buffer.
///
/// `consumed` is always at least 1 and never more than the buffer length, so a caller that
/// drops `consumed` bytes and calls again always makes progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decode {
    /// The buffer holds the beginning of a frame (or nothing): read more bytes and call again.
    Incomplete,
    /// A whole frame was recognised in the first `consumed` bytes.
    Frame { consumed: usize, frame: ScaleFrame },
    /// The first `consumed` bytes are noise, a corrupt frame or a frame this codec does not
    /// interpret; drop them to resynchronise.
    Skip { consumed: usize },
}

/// One message from a scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaleFrame {
    /// A weight reading.
    Weight(Reading),
    /// The scale answered with a status instead of a weight (8217 and CAS `?` replies, the
    /// Dialog `09` record, a Dibal reply whose status field is not `0`). Not necessarily an
    /// error: an 8217 may send a status with no flag set when the weight has not changed.
    Status(ScaleStatus),
    /// Positive acknowledgement (Dialog, Dibal).
    Ack,
    /// Negative acknowledgement. Dialog scales send it when there is no load, the weight is
    /// moving, under zero or overloaded; the driver may ask for a `09` status to learn which.
    Nak,
    /// The bytes a scale echoed back to a probe (8217 `E` command), without framing.
    Echo(Vec<u8>),
}

/// A weight as the scale reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Signed, exact grams.
    pub grams: i64,
    /// Always `"kg"`: the unit the bridge reports (`grams / 1000`); frames in other units are
    /// not decoded.
    pub unit: &'static str,
    /// The scale says the weight has settled.
    pub stable: bool,
    /// Net weight (a tare is active).
    pub net: bool,
    pub overload: bool,
    pub under_zero: bool,
    /// Unit price in cents, for protocols that carry it (Dialog, Dibal `9B`).
    pub price_cents: Option<i64>,
    /// Amount to pay in cents, for protocols that carry it (Dialog, Dibal `9B`).
    pub total_cents: Option<i64>,
}

impl Reading {
    /// A stable, gross, in-range reading with no prices; codecs adjust the flags they know.
    pub(crate) fn stable(grams: i64) -> Self {
        Reading {
            grams,
            unit: "kg",
            stable: true,
            net: false,
            overload: false,
            under_zero: grams < 0,
            price_cents: None,
            total_cents: None,
        }
    }
}

/// Scale condition reported instead of a weight. Flags a protocol cannot express stay false.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScaleStatus {
    pub motion: bool,
    pub overload: bool,
    pub under_zero: bool,
    pub net: bool,
    /// The scale did not understand the last command.
    pub bad_command: bool,
    pub outside_zero_range: bool,
    pub centre_of_zero: bool,
    /// The device's raw status text, escaped (`"D"`, Dialog `"20"`, `"\\x01"`), for logs and
    /// for codes this crate does not interpret.
    pub code: Option<String>,
}

impl ScaleStatus {
    /// True when a flag forbids using the current weight (motion, overload, under zero, or a
    /// rejected command).
    pub fn is_fault(&self) -> bool {
        self.motion || self.overload || self.under_zero || self.bad_command
    }
}

/// The raw status text as a printable string: ASCII stays, anything else becomes `\xNN`.
pub(crate) fn status_code(raw: &[u8]) -> Option<String> {
    Some(raw.escape_ascii().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random bytes (no `rand` dependency), biased towards the bytes the
    /// codecs look for so that the walk reaches their frame paths.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"\x02\x03\x04\x05\x06\x15\x1b\r\n?.-+ 0123456789ABEINSTUGLkg,!9";
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = (state >> 33) as usize;
                if pick.is_multiple_of(4) {
                    (pick >> 8) as u8
                } else {
                    ALPHABET[pick % ALPHABET.len()]
                }
            })
            .collect()
    }

    #[test]
    fn every_decoder_always_makes_progress_on_arbitrary_bytes() {
        for protocol in ScaleProtocol::ALL {
            for seed in 0..300 {
                let bytes = noise(seed, 200);
                let mut rest: &[u8] = &bytes;
                while !rest.is_empty() {
                    match protocol.decode(rest) {
                        Decode::Incomplete => break,
                        Decode::Frame { consumed, .. } | Decode::Skip { consumed } => {
                            assert!(consumed >= 1, "{protocol:?} consumed nothing");
                            assert!(consumed <= rest.len(), "{protocol:?} consumed too much");
                            rest = &rest[consumed..];
                        }
                    }
                }
                assert!(
                    rest.len() < 64,
                    "{protocol:?} waits on {} bytes",
                    rest.len()
                );
            }
        }
    }

    #[test]
    fn a_status_with_only_net_or_centre_flags_is_not_a_fault() {
        let status = ScaleStatus {
            net: true,
            centre_of_zero: true,
            ..ScaleStatus::default()
        };
        assert!(!status.is_fault());
        assert!(ScaleStatus {
            motion: true,
            ..status
        }
        .is_fault());
    }

    #[test]
    fn status_codes_escape_non_printable_bytes() {
        assert_eq!(status_code(b"D"), Some("D".to_string()));
        assert_eq!(status_code(&[0x01]), Some("\\x01".to_string()));
    }
}

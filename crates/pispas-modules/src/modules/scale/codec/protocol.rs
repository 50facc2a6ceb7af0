//! The catalogue of scale protocols: names, serial line settings, request bytes and decoders.
//!
//! One place that answers "for protocol X, how do I open the port, what do I send, how do I
//! read the answer". Pure data and dispatch: it opens nothing and does not choose a protocol
//! (see `probe.rs` for the order an auto-detecting driver should try them in).

use super::{adam, cas_pd2, cas_text, dialog, dibal, epelsa, toledo8217, Decode};

/// A retail scale protocol the bridge can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScaleProtocol {
    Toledo8217,
    CasPd2,
    CasText,
    Dialog02,
    Dialog04,
    Dibal,
    Epelsa,
    Adam,
}

/// A host-initiated scale operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScaleCommand {
    Tare,
    Zero,
    ClearTare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataBits {
    Seven,
    Eight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parity {
    None,
    Even,
    Odd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopBits {
    One,
    Two,
}

/// How to open the serial line for a protocol (the scale's factory default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineSettings {
    pub baud: u32,
    pub data_bits: DataBits,
    pub parity: Parity,
    pub stop_bits: StopBits,
}

impl LineSettings {
    const fn new(baud: u32, data_bits: DataBits, parity: Parity) -> Self {
        LineSettings {
            baud,
            data_bits,
            parity,
            stop_bits: StopBits::One,
        }
    }
}

const LINE_9600_7E1: LineSettings = LineSettings::new(9600, DataBits::Seven, Parity::Even);
const LINE_9600_8N1: LineSettings = LineSettings::new(9600, DataBits::Eight, Parity::None);

impl ScaleProtocol {
    pub const ALL: [ScaleProtocol; 8] = [
        ScaleProtocol::Toledo8217,
        ScaleProtocol::CasPd2,
        ScaleProtocol::CasText,
        ScaleProtocol::Dialog02,
        ScaleProtocol::Dialog04,
        ScaleProtocol::Dibal,
        ScaleProtocol::Epelsa,
        ScaleProtocol::Adam,
    ];

    /// Looks a protocol up by its configuration name, ignoring case, spaces, `-` and `_`.
    /// Returns `None` for unknown names (and for `auto`, which is a driver mode, not a protocol).
    pub fn from_name(name: &str) -> Option<Self> {
        let key: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "toledo8217" | "toledo" | "8217" | "mettler" | "mettlertoledo"
            | "mettlertoledo8217" => ScaleProtocol::Toledo8217,
            "caspd2" | "caspdii" | "pd2" | "pdii" | "cas" | "casecr2" => ScaleProtocol::CasPd2,
            "castext" | "casst" | "casstus" => ScaleProtocol::CasText,
            // The notes route Bizerba to Dialog (`[INFERRED]` there: no Bizerba spec was found).
            "dialog02" | "dialog2" | "dialog" | "bizerba" => ScaleProtocol::Dialog02,
            "dialog04" | "dialog4" => ScaleProtocol::Dialog04,
            "dibal" | "dibalterminal" => ScaleProtocol::Dibal,
            "epelsa" | "epelsaauto" => ScaleProtocol::Epelsa,
            "adam" | "adamequipment" | "azextra" => ScaleProtocol::Adam,
            _ => return None,
        })
    }

    /// The canonical configuration name; `from_name(p.name()) == Some(p)`.
    pub fn name(&self) -> &'static str {
        match self {
            ScaleProtocol::Toledo8217 => "toledo8217",
            ScaleProtocol::CasPd2 => "caspd2",
            ScaleProtocol::CasText => "castext",
            ScaleProtocol::Dialog02 => "dialog02",
            ScaleProtocol::Dialog04 => "dialog04",
            ScaleProtocol::Dibal => "dibal",
            ScaleProtocol::Epelsa => "epelsa",
            ScaleProtocol::Adam => "adam",
        }
    }

    /// Factory serial settings (research notes §4). CAS text's 9600 8N1 is inferred there;
    /// Dialog 04's odd parity is assumed to match Dialog 02, the notes give only its speed.
    pub fn line(&self) -> LineSettings {
        match self {
            ScaleProtocol::Toledo8217 | ScaleProtocol::CasPd2 => LINE_9600_7E1,
            ScaleProtocol::CasText | ScaleProtocol::Dibal | ScaleProtocol::Epelsa => LINE_9600_8N1,
            ScaleProtocol::Dialog02 => LineSettings::new(2400, DataBits::Seven, Parity::Odd),
            ScaleProtocol::Dialog04 => LineSettings::new(4800, DataBits::Seven, Parity::Odd),
            ScaleProtocol::Adam => LineSettings::new(4800, DataBits::Eight, Parity::None),
        }
    }

    /// True when the scale sends weights unasked (Epelsa auto mode); the driver only listens.
    pub fn is_streaming(&self) -> bool {
        matches!(self, ScaleProtocol::Epelsa)
    }

    /// The bytes that ask for a weight; `None` for streaming protocols. Polled drivers should
    /// still decode everything they read: CAS text indicators are often set to stream too.
    pub fn weight_request(&self) -> Option<Vec<u8>> {
        let bytes: &[u8] = match self {
            ScaleProtocol::Toledo8217 => toledo8217::WEIGHT_REQUEST,
            ScaleProtocol::CasPd2 => cas_pd2::WEIGHT_REQUEST,
            ScaleProtocol::CasText => cas_text::WEIGHT_REQUEST,
            ScaleProtocol::Dialog02 | ScaleProtocol::Dialog04 => dialog::WEIGHT_REQUEST,
            ScaleProtocol::Dibal => dibal::WEIGHT_REQUEST,
            ScaleProtocol::Adam => adam::WEIGHT_REQUEST,
            ScaleProtocol::Epelsa => return None,
        };
        Some(bytes.to_vec())
    }

    /// The bytes for a tare/zero command; `None` where the protocol has no such command.
    /// CAS PD-II reuses the 8217 letters (`[INFERRED]` from "same style as 8217"); Dialog's zero
    /// is the CAS ECR 12 record; Adam has no clear-tare (tare again with an empty pan).
    pub fn command(&self, cmd: ScaleCommand) -> Option<Vec<u8>> {
        let bytes: &[u8] = match (self, cmd) {
            (ScaleProtocol::Toledo8217 | ScaleProtocol::CasPd2, ScaleCommand::Tare) => {
                toledo8217::TARE
            }
            (ScaleProtocol::Toledo8217 | ScaleProtocol::CasPd2, ScaleCommand::Zero) => {
                toledo8217::ZERO
            }
            (ScaleProtocol::Toledo8217 | ScaleProtocol::CasPd2, ScaleCommand::ClearTare) => {
                toledo8217::CLEAR_TARE
            }
            (ScaleProtocol::Dialog02 | ScaleProtocol::Dialog04, ScaleCommand::Zero) => dialog::ZERO,
            (ScaleProtocol::Adam, ScaleCommand::Tare) => adam::TARE,
            (ScaleProtocol::Adam, ScaleCommand::Zero) => adam::ZERO,
            _ => return None,
        };
        Some(bytes.to_vec())
    }

    /// The record that sets the unit price before a weighing, where the protocol has one
    /// (Dialog `01`; the scale ACKs it). `None` for other protocols or a price over 999 999.
    pub fn unit_price(&self, cents: u32) -> Option<Vec<u8>> {
        match self {
            ScaleProtocol::Dialog02 | ScaleProtocol::Dialog04 => dialog::unit_price_record(cents),
            _ => None,
        }
    }

    /// The bytes that ask a Dialog scale why it answered NAK (`09` status record).
    pub fn status_request(&self) -> Option<Vec<u8>> {
        match self {
            ScaleProtocol::Dialog02 | ScaleProtocol::Dialog04 => {
                Some(dialog::STATUS_REQUEST.to_vec())
            }
            _ => None,
        }
    }

    /// Cuts the next frame off the front of `buf`. Pure: same bytes, same answer.
    pub fn decode(&self, buf: &[u8]) -> Decode {
        match self {
            ScaleProtocol::Toledo8217 => toledo8217::decode(buf),
            ScaleProtocol::CasPd2 => cas_pd2::decode(buf),
            ScaleProtocol::CasText => cas_text::decode(buf),
            ScaleProtocol::Dialog02 | ScaleProtocol::Dialog04 => dialog::decode(buf),
            ScaleProtocol::Dibal => dibal::decode(buf),
            ScaleProtocol::Epelsa => epelsa::decode(buf),
            ScaleProtocol::Adam => adam::decode(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_canonical_name_round_trips() {
        for protocol in ScaleProtocol::ALL {
            assert_eq!(ScaleProtocol::from_name(protocol.name()), Some(protocol));
        }
    }

    #[test]
    fn names_ignore_case_separators_and_accept_obvious_aliases() {
        let find = ScaleProtocol::from_name;
        assert_eq!(find("Mettler-Toledo"), Some(ScaleProtocol::Toledo8217));
        assert_eq!(find(" CAS_PD2 "), Some(ScaleProtocol::CasPd2));
        assert_eq!(find("cas-text"), Some(ScaleProtocol::CasText));
        assert_eq!(find("Dialog 04"), Some(ScaleProtocol::Dialog04));
        assert_eq!(find("ADAM"), Some(ScaleProtocol::Adam));
        assert_eq!(find("auto"), None);
        assert_eq!(find(""), None);
    }

    #[test]
    fn line_settings_match_the_research_notes() {
        let line = |p: ScaleProtocol| {
            let l = p.line();
            (l.baud, l.data_bits, l.parity, l.stop_bits)
        };
        let (seven, eight, one) = (DataBits::Seven, DataBits::Eight, StopBits::One);
        let (none, even, odd) = (Parity::None, Parity::Even, Parity::Odd);
        assert_eq!(line(ScaleProtocol::Toledo8217), (9600, seven, even, one));
        assert_eq!(line(ScaleProtocol::CasPd2), (9600, seven, even, one));
        assert_eq!(line(ScaleProtocol::CasText), (9600, eight, none, one));
        assert_eq!(line(ScaleProtocol::Dialog02), (2400, seven, odd, one));
        assert_eq!(line(ScaleProtocol::Dialog04), (4800, seven, odd, one));
        assert_eq!(line(ScaleProtocol::Dibal), (9600, eight, none, one));
        assert_eq!(line(ScaleProtocol::Epelsa), (9600, eight, none, one));
        assert_eq!(line(ScaleProtocol::Adam), (4800, eight, none, one));
    }

    #[test]
    fn only_epelsa_streams_and_it_alone_has_no_weight_request() {
        for protocol in ScaleProtocol::ALL {
            assert_eq!(protocol.is_streaming(), protocol == ScaleProtocol::Epelsa);
            assert_eq!(protocol.weight_request().is_none(), protocol.is_streaming());
        }
    }

    #[test]
    fn weight_requests_are_the_documented_bytes() {
        let req = |p: ScaleProtocol| p.weight_request().unwrap_or_default();
        assert_eq!(req(ScaleProtocol::Toledo8217), b"W");
        assert_eq!(req(ScaleProtocol::Dialog02), b"\x04\x05");
        assert_eq!(req(ScaleProtocol::Dibal), b"98000001\r\n");
        assert_eq!(req(ScaleProtocol::Adam), b"P\r\n");
    }

    #[test]
    fn commands_exist_only_where_the_protocol_has_them() {
        let cmd = ScaleProtocol::command;
        assert_eq!(
            cmd(&ScaleProtocol::Toledo8217, ScaleCommand::ClearTare),
            Some(b"C".to_vec())
        );
        assert_eq!(
            cmd(&ScaleProtocol::Adam, ScaleCommand::Tare),
            Some(b"T\r\n".to_vec())
        );
        assert_eq!(cmd(&ScaleProtocol::Adam, ScaleCommand::ClearTare), None);
        assert_eq!(
            cmd(&ScaleProtocol::Dialog04, ScaleCommand::Zero),
            Some(b"\x04\x0231\x03".to_vec())
        );
        assert_eq!(cmd(&ScaleProtocol::Dialog02, ScaleCommand::Tare), None);
        assert_eq!(cmd(&ScaleProtocol::Epelsa, ScaleCommand::Zero), None);
        assert_eq!(cmd(&ScaleProtocol::Dibal, ScaleCommand::Tare), None);
    }

    #[test]
    fn only_dialog_has_price_and_status_records() {
        assert_eq!(
            ScaleProtocol::Dialog02.status_request(),
            Some(b"\x04\x0208\x03".to_vec())
        );
        assert!(ScaleProtocol::Dialog04.unit_price(100).is_some());
        assert_eq!(ScaleProtocol::Toledo8217.unit_price(100), None);
        assert_eq!(ScaleProtocol::Adam.status_request(), None);
    }
}

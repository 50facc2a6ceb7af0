//! An IPP message: the body's `NAME=VALUE\r\n` lines, `PROTOCOL=IPP` first and `METHOD=`
//! second (device-protocols.md §2). Parsing is strict, since a terminal answers a malformed
//! request with STATUS=2: ASCII only, every line ends in CR LF, names upper case letters,
//! digits and `_` with no whitespace, no name twice. Pure; framing is codec.rs.

use super::codec::{self, TooLong};

/// Why a body is not a valid IPP message (the terminal answers STATUS=2 SYNTAX ERROR).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("the body is empty")]
    Empty,
    #[error("byte 0x{0:02X} is not ASCII text")]
    NotAscii(u8),
    #[error("line {0} does not end with CR LF")]
    NoCrLf(usize),
    #[error("line {0} has no '='")]
    NoEquals(usize),
    #[error("bad property name {0:?} (upper case, digits, '_')")]
    BadName(String),
    #[error("{0} appears twice")]
    Duplicate(String),
    #[error("the first line must be PROTOCOL=IPP")]
    ProtocolNotFirst,
    #[error("the second line must be METHOD=")]
    MethodNotSecond,
}

/// A parsed message, properties in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    fields: Vec<(String, String)>,
}

impl Message {
    /// A message for `method`: `PROTOCOL=IPP`, `METHOD=<method>`; add the rest with `with`.
    pub fn new(method: &str) -> Message {
        Message {
            fields: vec![
                ("PROTOCOL".into(), "IPP".into()),
                ("METHOD".into(), method.into()),
            ],
        }
    }

    /// Adds `NAME=value` (replacing an earlier one of the same name).
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Message {
        self.set(name, value);
        self
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => self.fields.push((name.into(), value)),
        }
    }

    /// Parses a frame body. Fails as `SyntaxError` says.
    pub fn parse(body: &[u8]) -> Result<Message, SyntaxError> {
        if body.is_empty() {
            return Err(SyntaxError::Empty);
        }
        if let Some(&b) = body.iter().find(|b| !b.is_ascii()) {
            return Err(SyntaxError::NotAscii(b));
        }
        let text = std::str::from_utf8(body).map_err(|_| SyntaxError::NotAscii(0))?;
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut rest = text;
        let mut line_no = 0;
        while !rest.is_empty() {
            line_no += 1;
            let Some((line, after)) = rest.split_once("\r\n") else {
                return Err(SyntaxError::NoCrLf(line_no));
            };
            rest = after;
            if line.contains('\r') || line.contains('\n') {
                return Err(SyntaxError::NoCrLf(line_no));
            }
            let Some((name, value)) = line.split_once('=') else {
                return Err(SyntaxError::NoEquals(line_no));
            };
            let name_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !name_ok {
                return Err(SyntaxError::BadName(name.into()));
            }
            if fields.iter().any(|(n, _)| n == name) {
                return Err(SyntaxError::Duplicate(name.into()));
            }
            fields.push((name.into(), value.into()));
        }
        match fields.first() {
            Some((n, v)) if n == "PROTOCOL" && v == "IPP" => {}
            _ => return Err(SyntaxError::ProtocolNotFirst),
        }
        match fields.get(1) {
            Some((n, _)) if n == "METHOD" => {}
            _ => return Err(SyntaxError::MethodNotSecond),
        }
        Ok(Message { fields })
    }

    /// The METHOD and SID a malformed body seems to carry, to echo in the STATUS=2 answer.
    pub fn salvage(body: &[u8]) -> (Option<String>, Option<String>) {
        let text = String::from_utf8_lossy(body);
        let find = |name: &str| {
            text.split(['\r', '\n'])
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .map(|v| v.chars().filter(|c| !c.is_control()).take(127).collect())
        };
        (find("METHOD"), find("SID"))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn method(&self) -> &str {
        self.get("METHOD").unwrap_or("")
    }

    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The body: every property as `NAME=VALUE\r\n`, in order.
    pub fn to_body(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, value) in &self.fields {
            body.extend_from_slice(name.as_bytes());
            body.push(b'=');
            body.extend_from_slice(value.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        body
    }

    /// The whole frame. Fails when the body does not fit a 2-byte length.
    pub fn to_frame(&self) -> Result<Vec<u8>, TooLong> {
        codec::encode(&self.to_body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_request_parses_in_order() {
        let body = b"PROTOCOL=IPP\r\nMETHOD=PURCHASE\r\nSID=42\r\nAMOUNT=0.01\r\n";
        let m = Message::parse(body).expect("valid");
        assert_eq!(m.method(), "PURCHASE");
        assert_eq!(m.get("AMOUNT"), Some("0.01"));
        assert_eq!(m.to_body(), body);
    }

    #[test]
    fn protocol_must_come_first_and_method_second() {
        assert_eq!(
            Message::parse(b"METHOD=PING\r\nPROTOCOL=IPP\r\n"),
            Err(SyntaxError::ProtocolNotFirst)
        );
        assert_eq!(
            Message::parse(b"PROTOCOL=IPP\r\nSID=1\r\nMETHOD=PING\r\n"),
            Err(SyntaxError::MethodNotSecond)
        );
        assert_eq!(
            Message::parse(b"PROTOCOL=XML\r\nMETHOD=PING\r\n"),
            Err(SyntaxError::ProtocolNotFirst)
        );
    }

    #[test]
    fn lines_must_end_in_cr_lf() {
        assert_eq!(
            Message::parse(b"PROTOCOL=IPP\nMETHOD=PING\n"),
            Err(SyntaxError::NoCrLf(1))
        );
        assert_eq!(
            Message::parse(b"PROTOCOL=IPP\r\nMETHOD=PING"),
            Err(SyntaxError::NoCrLf(2))
        );
    }

    #[test]
    fn names_are_upper_case_without_whitespace_and_unique() {
        assert!(matches!(
            Message::parse(b"PROTOCOL=IPP\r\nMETHOD=PING\r\nsid=1\r\n"),
            Err(SyntaxError::BadName(_))
        ));
        assert!(matches!(
            Message::parse(b"PROTOCOL=IPP\r\nMETHOD=PING\r\nS ID=1\r\n"),
            Err(SyntaxError::BadName(_))
        ));
        assert!(matches!(
            Message::parse(b"PROTOCOL=IPP\r\nMETHOD=PING\r\nSID=1\r\nSID=2\r\n"),
            Err(SyntaxError::Duplicate(_))
        ));
        assert_eq!(
            Message::parse(b"PROTOCOL=IPP\r\nMETHOD=PING\r\nSID\r\n"),
            Err(SyntaxError::NoEquals(3))
        );
    }

    #[test]
    fn non_ascii_and_empty_bodies_are_refused() {
        assert_eq!(Message::parse(b""), Err(SyntaxError::Empty));
        assert_eq!(
            Message::parse("PROTOCOL=IPP\r\nMETHOD=PING\r\nREFERENCE=ñ\r\n".as_bytes()),
            Err(SyntaxError::NotAscii(0xC3))
        );
    }

    #[test]
    fn salvage_finds_method_and_sid_in_a_broken_body() {
        let (method, sid) = Message::salvage(b"METHOD=PURCHASE\nSID=77\n");
        assert_eq!(
            (method.as_deref(), sid.as_deref()),
            (Some("PURCHASE"), Some("77"))
        );
    }
}

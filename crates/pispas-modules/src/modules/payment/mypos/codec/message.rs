//! An IPP message: `NAME=VALUE\r\n` lines, `PROTOCOL=IPP` first and `METHOD=` second, pure.
//! Requests are built strictly (a terminal answers a malformed one with STATUS=2); replies are
//! read leniently (a bare LF or a missing last CR LF is accepted, unknown names are kept), but a
//! reply that is not IPP at all is an error, never a guess.

use super::frame::{self, FrameError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the body is not ASCII text")]
    NotAscii,
    #[error("line {0} has no '='")]
    NoEquals(usize),
    #[error("the first line is not PROTOCOL=IPP")]
    NotIpp,
    #[error("a value holds a line break")]
    LineBreak,
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Properties in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    fields: Vec<(String, String)>,
}

impl Message {
    /// `PROTOCOL=IPP`, `METHOD=<method>` (second, as the protocol requires), `VERSION=202`,
    /// `SID=<sid>`; add the rest with [`Message::with`].
    pub fn request(method: &str, sid: &str) -> Message {
        Message {
            fields: vec![
                ("PROTOCOL".into(), "IPP".into()),
                ("METHOD".into(), method.into()),
                ("VERSION".into(), "202".into()),
                ("SID".into(), sid.into()),
            ],
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Message {
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(f) => f.1 = value,
            None => self.fields.push((name.into(), value)),
        }
        self
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

    /// A number field (`STAGE`, `STATUS`, `TIMEOUT`, `TX_STATUS`).
    pub fn number(&self, name: &str) -> Option<u32> {
        self.get(name).and_then(|v| v.trim().parse().ok())
    }

    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The framed bytes. Fails when a value holds a line break or the body is too long.
    pub fn to_frame(&self) -> Result<Vec<u8>, MessageError> {
        let mut body = Vec::new();
        for (n, v) in &self.fields {
            if v.contains(['\r', '\n']) || n.contains(['\r', '\n', '=']) {
                return Err(MessageError::LineBreak);
            }
            body.extend_from_slice(n.as_bytes());
            body.push(b'=');
            body.extend_from_slice(v.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        Ok(frame::encode(&body)?)
    }

    /// Reads a reply body. Never panics.
    pub fn parse(body: &[u8]) -> Result<Message, MessageError> {
        if !body.is_ascii() {
            return Err(MessageError::NotAscii);
        }
        let text = std::str::from_utf8(body).map_err(|_| MessageError::NotAscii)?;
        let mut fields = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let (n, v) = line.split_once('=').ok_or(MessageError::NoEquals(i + 1))?;
            fields.push((n.trim().to_string(), v.to_string()));
        }
        if fields.first().map(|(n, v)| (n.as_str(), v.as_str())) != Some(("PROTOCOL", "IPP")) {
            return Err(MessageError::NotIpp);
        }
        Ok(Message { fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_put_protocol_first_and_method_second() {
        let frame = Message::request("PING", "S1").to_frame().unwrap();
        let body = std::str::from_utf8(&frame[2..]).unwrap();
        assert!(
            body.starts_with("PROTOCOL=IPP\r\nMETHOD=PING\r\n"),
            "{body}"
        );
        assert_eq!(
            usize::from(u16::from_be_bytes([frame[0], frame[1]])),
            frame.len()
        );
    }

    #[test]
    fn replies_are_read_leniently_but_must_be_ipp() {
        let m = Message::parse(b"PROTOCOL=IPP\nMETHOD=PING\r\nSTAGE=5\r\nSTATUS=0").unwrap();
        assert_eq!((m.number("STAGE"), m.number("STATUS")), (Some(5), Some(0)));
        assert_eq!(Message::parse(b"HELLO=1\r\n"), Err(MessageError::NotIpp));
        assert_eq!(
            Message::parse(b"PROTOCOL=IPP\r\nbroken\r\n"),
            Err(MessageError::NoEquals(2))
        );
        assert_eq!(Message::parse(&[0xff]), Err(MessageError::NotAscii));
    }

    #[test]
    fn a_value_with_a_line_break_is_never_sent() {
        let m = Message::request("PURCHASE", "S").with("REFERENCE", "a\r\nAMOUNT=999");
        assert_eq!(m.to_frame(), Err(MessageError::LineBreak));
    }
}

//! What a test (or the CLI) can see of the myPOS simulator: each request as it arrived, each
//! frame sent, and events for both.

use super::message::Message;

/// One request frame the terminal received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IppRequest {
    /// `tcp 127.0.0.1:50122` or `serial /tmp/pispas-mypos`.
    pub transport: String,
    pub method: String,
    pub sid: Option<String>,
    /// Every property, in order (empty for a frame that did not parse).
    pub fields: Vec<(String, String)>,
    /// Why the frame was refused with STATUS=2, if it was.
    pub syntax_error: Option<String>,
}

impl IppRequest {
    pub(crate) fn from_message(transport: &str, message: &Message) -> IppRequest {
        IppRequest {
            transport: transport.into(),
            method: message.method().into(),
            sid: message.get("SID").map(String::from),
            fields: message.fields().to_vec(),
            syntax_error: None,
        }
    }

    pub(crate) fn broken(
        transport: &str,
        method: Option<String>,
        sid: Option<String>,
        error: String,
    ) -> IppRequest {
        IppRequest {
            transport: transport.into(),
            method: method.unwrap_or_default(),
            sid,
            fields: Vec::new(),
            syntax_error: Some(error),
        }
    }

    /// The value of property `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One frame the terminal sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IppReply {
    pub transport: String,
    pub message: Message,
}

/// Something happened; the CLI prints these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MyposEvent {
    Received(IppRequest),
    Sent(IppReply),
    Closed { transport: String },
}

impl std::fmt::Display for MyposEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |fields: &[(String, String)]| {
            fields
                .iter()
                .filter(|(n, _)| n != "PROTOCOL" && n != "RECEIPT_DATA")
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        match self {
            MyposEvent::Received(r) => match &r.syntax_error {
                Some(e) => write!(f, "<- {} [syntax error: {e}]", r.transport),
                None => write!(f, "<- {} {}", r.transport, show(&r.fields)),
            },
            MyposEvent::Sent(r) => write!(f, "-> {} {}", r.transport, show(r.message.fields())),
            MyposEvent::Closed { transport } => write!(f, "-- {transport} closed"),
        }
    }
}

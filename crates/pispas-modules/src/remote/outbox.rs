//! What the till owes the cloud: replies and events numbered with `SEQ` in the order they were
//! produced, kept while the link is down (at most REMOTE_REPLY_BUFFER; the oldest go first) and
//! sent when it is back. `last_sent` is the `LAST_SEQ` of the next HELLO: the highest SEQ written
//! to a socket, so the cloud can tell whether it missed any.
//!
//! Pure: no socket, no clock.

use std::collections::VecDeque;

/// The numbered messages not yet written to the cloud.
#[derive(Debug)]
pub(super) struct Outbox {
    next_seq: u64,
    last_sent: u64,
    queue: VecDeque<(u64, String)>,
    capacity: usize,
    dropped: u64,
}

impl Outbox {
    pub(super) fn new(capacity: usize) -> Self {
        Outbox {
            next_seq: 1,
            last_sent: 0,
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    /// Numbers `envelope` (a JSON object's text) and queues it; drops the oldest message when
    /// full. Returns its SEQ.
    pub(super) fn push(&mut self, envelope: &str) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push_back((seq, with_seq(envelope, seq)));
        while self.queue.len() > self.capacity {
            self.queue.pop_front();
            self.dropped += 1;
        }
        seq
    }

    /// The next message to write.
    pub(super) fn front(&self) -> Option<(u64, String)> {
        self.queue.front().cloned()
    }

    /// `seq` was written to the socket.
    pub(super) fn sent(&mut self, seq: u64) {
        if self.queue.front().is_some_and(|(s, _)| *s == seq) {
            self.queue.pop_front();
        }
        self.last_sent = self.last_sent.max(seq);
    }

    pub(super) fn last_sent(&self) -> u64 {
        self.last_sent
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Messages lost because the buffer was full.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// `{"SEQ":n,…}`: the envelope with its number first.
fn with_seq(envelope: &str, seq: u64) -> String {
    match envelope.trim_start().strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"SEQ\":{seq}}}"),
        Some(rest) => format!("{{\"SEQ\":{seq},{rest}"),
        None => envelope.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_numbered_in_order_and_stay_valid_json() {
        let mut o = Outbox::new(10);
        assert_eq!(o.push(r#"{"MESSAGE_TYPE":"RESPONSE"}"#), 1);
        assert_eq!(o.push("{}"), 2);
        let (seq, text) = o.front().unwrap();
        assert_eq!(seq, 1);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["SEQ"], 1);
        assert_eq!(v["MESSAGE_TYPE"], "RESPONSE");
        o.sent(1);
        let (_, text) = o.front().unwrap();
        assert_eq!(text, r#"{"SEQ":2}"#);
        assert_eq!(o.last_sent(), 1);
    }

    #[test]
    fn a_full_outbox_drops_the_oldest_and_counts_them() {
        let mut o = Outbox::new(2);
        for _ in 0..5 {
            o.push("{}");
        }
        assert_eq!(o.len(), 2);
        assert_eq!(o.dropped(), 3);
        assert_eq!(o.front().unwrap().0, 4);
    }
}

//! A plain IPP client for the simulator tests, over any byte stream (TCP or a pty). It builds
//! frames by hand (length + `NAME=VALUE\r\n` lines) rather than with the simulator's codec, so
//! a codec mistake cannot hide itself. Not an engine driver.

#![allow(dead_code)]

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How long a test waits for a frame it expects (a hang guard, not a measurement).
pub(crate) const FRAME_WAIT: Duration = Duration::from_secs(10);

/// One reply: its properties in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame(pub Vec<(String, String)>);

impl Frame {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn stage(&self) -> u8 {
        self.get("STAGE").and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    pub(crate) fn status(&self) -> u16 {
        self.get("STATUS")
            .and_then(|s| s.parse().ok())
            .unwrap_or(u16::MAX)
    }

    /// The flow ends here: STAGE=5, or a STATUS other than 0.
    pub(crate) fn is_last(&self) -> bool {
        self.stage() == 5 || self.status() != 0
    }
}

/// The bytes of a request: `PROTOCOL=IPP`, `METHOD=`, then `fields`.
pub(crate) fn request(method: &str, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut body = format!("PROTOCOL=IPP\r\nMETHOD={method}\r\n");
    for (name, value) in fields {
        body.push_str(&format!("{name}={value}\r\n"));
    }
    frame(body.as_bytes())
}

/// A frame around any body: the 2-byte big-endian length counts itself.
pub(crate) fn frame(body: &[u8]) -> Vec<u8> {
    let total = u16::try_from(body.len() + 2).expect("a short body");
    let mut out = total.to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

pub(crate) struct Client<S> {
    pub stream: S,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub(crate) async fn send(&mut self, method: &str, fields: &[(&str, &str)]) {
        self.write(&request(method, fields)).await;
    }

    pub(crate) async fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
        self.stream.flush().await.expect("flush");
    }

    /// The next frame, None when the peer closed. Panics after FRAME_WAIT.
    pub(crate) async fn read(&mut self) -> Option<Frame> {
        self.read_within(FRAME_WAIT)
            .await
            .unwrap_or_else(|| panic!("no frame within {FRAME_WAIT:?}"))
    }

    /// The next frame within `wait`: Some(None) the peer closed, None nothing came.
    pub(crate) async fn read_within(&mut self, wait: Duration) -> Option<Option<Frame>> {
        tokio::time::timeout(wait, self.read_frame()).await.ok()
    }

    async fn read_frame(&mut self) -> Option<Frame> {
        let mut header = [0u8; 2];
        self.stream.read_exact(&mut header).await.ok()?;
        let total = usize::from(u16::from_be_bytes(header));
        assert!(total >= 2, "the terminal sent a bad length {total}");
        let mut body = vec![0u8; total - 2];
        self.stream.read_exact(&mut body).await.ok()?;
        let text = String::from_utf8(body).expect("ASCII");
        assert!(text.ends_with("\r\n") || text.is_empty(), "{text:?}");
        let fields = text
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once('=').expect("NAME=VALUE");
                (n.to_string(), v.to_string())
            })
            .collect();
        Some(Frame(fields))
    }

    /// Frames until the flow ends (STAGE=5 or STATUS≠0) or the peer closes.
    pub(crate) async fn read_flow(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(frame) = self.read().await {
            let last = frame.is_last();
            frames.push(frame);
            if last {
                break;
            }
        }
        frames
    }

    /// Sends a request and reads its whole flow.
    pub(crate) async fn call(&mut self, method: &str, fields: &[(&str, &str)]) -> Vec<Frame> {
        self.send(method, fields).await;
        self.read_flow().await
    }
}

pub(crate) fn stages(frames: &[Frame]) -> Vec<u8> {
    frames.iter().map(Frame::stage).collect()
}

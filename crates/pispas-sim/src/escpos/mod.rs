//! ESC/POS as the sim understands it: `parse` splits bytes into commands by their documented
//! lengths, `interpret` applies them to mode state and yields document elements, `codepage`
//! decodes text. `Splitter` buffers one connection's bytes across reads. Nothing here does I/O.

pub mod codepage;
pub mod command;
pub mod interpret;
pub mod parse;
mod parse_gs;

pub use command::{Command, Parsed};
pub use interpret::Interpreter;
pub use parse::parse_command;

/// Buffers a byte stream and hands out complete commands; a command split across reads waits
/// for its remaining bytes.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
}

impl Splitter {
    /// Adds bytes and returns every command now complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Command> {
        self.buf.extend_from_slice(bytes);
        let mut at = 0;
        let mut out = Vec::new();
        while at < self.buf.len() {
            match parse_command(&self.buf[at..]) {
                Parsed::Complete(command, len) => {
                    out.push(command);
                    at += len.max(1);
                }
                Parsed::Incomplete => break,
            }
        }
        self.buf.drain(..at);
        out
    }

    /// Bytes of a command still waiting for the rest of it.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Ends the stream: a command cut short becomes a malformed command.
    pub fn finish(&mut self) -> Option<Command> {
        if self.buf.is_empty() {
            return None;
        }
        let bytes = std::mem::take(&mut self.buf);
        Some(Command::Malformed {
            reason: format!(
                "stream ended inside a command ({} of its bytes received)",
                bytes.len()
            ),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests;

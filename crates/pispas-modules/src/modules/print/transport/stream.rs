//! Sending a job over any two-way byte stream (TCP socket, serial port, USB printer node):
//! ask `DLE EOT` status first, write the job, then ask again so "delivered" means the printer
//! took every byte. Generic over `AsyncRead + AsyncWrite`, so tests plug in a duplex pipe.
//!
//! It does not open or close anything and never retries; the worker decides that.

use crate::modules::print::escpos::status::{self, NotReady, PrinterStatus};
use std::future::Future;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes written per call, so a slow serial line shows progress and timeouts stay meaningful.
const CHUNK: usize = 16 * 1024;

/// What happened to a job on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOutcome {
    /// Every byte was written; `confirmed` when the printer answered status afterwards.
    Sent {
        confirmed: bool,
        status: Option<PrinterStatus>,
    },
    /// The printer said it cannot print now; nothing was sent.
    NotReady(NotReady, PrinterStatus),
}

/// Asks the four status bytes. `Ok(None)` when the printer does not answer in `wait` (some
/// clones and print servers never do).
///
/// Fails on an I/O error (the connection dropped).
pub async fn query_status<S>(
    stream: &mut S,
    wait: Duration,
    drawer_open_high: bool,
) -> io::Result<Option<PrinterStatus>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream.write_all(&status::request_all()).await?;
    stream.flush().await?;
    let mut got = [0u8; 4];
    let mut n = 0;
    let mut buf = [0u8; 64];
    let deadline = tokio::time::Instant::now() + wait;
    while n < 4 {
        let read = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Ok(None),
            Ok(r) => r?,
        };
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "printer closed the connection",
            ));
        }
        for &b in &buf[..read] {
            if n < 4 && status::is_status_byte(b) {
                got[n] = b;
                n += 1;
            }
        }
    }
    Ok(Some(status::parse(got, drawer_open_high)))
}

/// Sends `bytes`: status first when `check` (refusing when not ready), then the job, then
/// status again to confirm. A drawer kick may go out with paper out (`ignore_paper`).
/// `starting` is awaited once, after the printer said it is ready and before its first byte
/// (the queue records there that the job is going out).
///
/// Fails on an I/O error or when writing stalls for `wait`.
pub async fn send_job<S>(
    stream: &mut S,
    bytes: &[u8],
    check: bool,
    ignore_paper: bool,
    wait: Duration,
    drawer_open_high: bool,
    starting: impl Future<Output = ()>,
) -> io::Result<StreamOutcome>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut before = None;
    if check {
        before = query_status(stream, wait, drawer_open_high).await?;
        if let Some(s) = before {
            match s.readiness() {
                Ok(()) => {}
                Err(NotReady::PaperOut) if ignore_paper => {}
                Err(reason) => return Ok(StreamOutcome::NotReady(reason, s)),
            }
        }
    }
    starting.await;
    for chunk in bytes.chunks(CHUNK) {
        tokio::time::timeout(wait.max(Duration::from_secs(5)), stream.write_all(chunk))
            .await
            .map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, "the printer stopped taking data")
            })??;
    }
    stream.flush().await?;
    if check && before.is_some() {
        let after = query_status(stream, wait, drawer_open_high).await?;
        return Ok(StreamOutcome::Sent {
            confirmed: after.is_some(),
            status: after.or(before),
        });
    }
    Ok(StreamOutcome::Sent {
        confirmed: false,
        status: before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake printer: answers each DLE EOT n with `replies[n-1]`, records everything else.
    async fn fake_printer(mut io: tokio::io::DuplexStream, replies: [u8; 4]) -> Vec<u8> {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = match io.read(&mut buf).await {
                Ok(0) | Err(_) => return seen,
                Ok(n) => n,
            };
            seen.extend_from_slice(&buf[..n]);
            // Answer complete DLE EOT requests in what has arrived so far.
            let mut i = 0;
            let mut answers = Vec::new();
            while i + 2 < seen.len() {
                if seen[i] == 0x10 && seen[i + 1] == 4 && (1..=4).contains(&seen[i + 2]) {
                    answers.push(replies[seen[i + 2] as usize - 1]);
                    seen.drain(i..i + 3);
                } else {
                    i += 1;
                }
            }
            if !answers.is_empty() && io.write_all(&answers).await.is_err() {
                return seen;
            }
        }
    }

    #[tokio::test]
    async fn a_ready_printer_gets_the_job_and_confirms_it() {
        let (mut ours, theirs) = tokio::io::duplex(1 << 16);
        let printer = tokio::spawn(fake_printer(theirs, [0x12; 4]));
        let out = send_job(
            &mut ours,
            b"hello\n",
            true,
            false,
            Duration::from_secs(1),
            true,
            async {},
        )
        .await
        .unwrap();
        assert!(matches!(
            out,
            StreamOutcome::Sent {
                confirmed: true,
                ..
            }
        ));
        drop(ours);
        assert_eq!(printer.await.unwrap(), b"hello\n");
    }

    #[tokio::test]
    async fn paper_out_is_reported_before_any_byte_is_sent() {
        let (mut ours, theirs) = tokio::io::duplex(1 << 16);
        let printer = tokio::spawn(fake_printer(theirs, [0x1A, 0x32, 0x12, 0x72]));
        let out = send_job(
            &mut ours,
            b"receipt",
            true,
            false,
            Duration::from_secs(1),
            true,
            async {},
        )
        .await
        .unwrap();
        assert!(matches!(
            out,
            StreamOutcome::NotReady(NotReady::PaperOut, _)
        ));
        drop(ours);
        assert!(printer.await.unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_printer_is_unknown_not_an_error() {
        let (mut ours, _theirs) = tokio::io::duplex(1 << 16);
        let s = query_status(&mut ours, Duration::from_millis(500), true)
            .await
            .unwrap();
        assert_eq!(s, None);
    }
}

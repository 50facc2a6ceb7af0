//! One raw ESC/POS connection (a TCP socket or a pty): read bytes, split them into commands,
//! answer `DLE EOT` at once and push ASB blocks when `GS a` asked for them, print everything
//! else through the shared state. Fault injection (drop after N bytes, a slow printer) acts
//! here. It knows nothing about sockets or ptys.

use super::state::Shared;
use crate::escpos::{Command, Splitter};
use crate::port::SessionEnd;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// How jobs are cut out of the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobSplit {
    /// One job per connection (TCP).
    PerConnection,
    /// A job ends at each cut (a pty has no connections).
    AtCuts,
}

pub(crate) async fn serve<S>(
    shared: Arc<Shared>,
    stream: S,
    transport: String,
    split: JobSplit,
    cancel: CancellationToken,
) -> SessionEnd
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut job = shared.start_job(&transport);
    let mut splitter = Splitter::default();
    let mut asb_mask = 0u8;
    let mut status_rx = shared.watch_status();
    let mut buf = vec![0u8; 16 * 1024];
    let end = loop {
        let slow = shared.lock().slow_bytes_per_sec;
        let limit = slow.map_or(buf.len(), |rate| (rate as usize / 10).clamp(1, buf.len()));
        tokio::select! {
            () = cancel.cancelled() => break SessionEnd::Cancelled,
            changed = status_rx.changed(), if asb_mask != 0 => {
                if changed.is_err() { break SessionEnd::Cancelled; }
                let block = status_rx.borrow_and_update().asb();
                if wr.write_all(&block).await.is_err() { break SessionEnd::Closed; }
            }
            read = rd.read(&mut buf[..limit]) => {
                let n = match read {
                    Ok(0) | Err(_) => break SessionEnd::Closed,
                    Ok(n) => n,
                };
                let (take, drop_now) = shared.drop_budget(n);
                let bytes = &buf[..take];
                shared.received(job, bytes);
                let mut replies = Vec::new();
                for command in splitter.push(bytes) {
                    match command {
                        Command::StatusRequest(n) => replies.extend(shared.status_request(n)),
                        Command::AutoStatus(n) => {
                            asb_mask = n;
                            status_rx.mark_unchanged();
                            if n != 0 {
                                replies.extend_from_slice(&shared.status().asb());
                            }
                        }
                        _ => {}
                    }
                    if shared.apply(job, command) && split == JobSplit::AtCuts {
                        shared.finish_job(job, false);
                        job = shared.start_job(&transport);
                    }
                }
                shared.changes.bump();
                if !replies.is_empty() && wr.write_all(&replies).await.is_err() {
                    break SessionEnd::Closed;
                }
                if drop_now {
                    // The printer hangs up mid-job: what it had not yet parsed is lost.
                    shared.finish_job(job, true);
                    return SessionEnd::Dropped;
                }
                if let Some(rate) = slow {
                    let secs = take as f64 / f64::from(rate.max(1));
                    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                }
            }
        }
    };
    if let Some(rest) = splitter.finish() {
        shared.apply(job, rest);
    }
    shared.finish_job(job, false);
    end
}

//! pdfium out of the service's process: a worker process (this same program started with
//! `--pdf-worker`) renders PDFs sent over its stdin and answers on its stdout, so a hostile PDF
//! that crashes or hangs pdfium (C++) takes down only the worker — the service kills it after
//! the render timeout, answers RENDER_FAILED and starts a new one for the next document.
//!
//! One warm worker serves renders one at a time (pdfium is not thread-safe anyway). The binaries
//! opt in with [`enable`] and serve the worker side with [`serve`]; where neither happened (an
//! engine inside a test harness) PRINT renders in-process with the same timeout. The worker ends
//! when its stdin closes, so it never outlives the service.

use super::pdf;
use super::RenderError;
use crate::modules::print::raster::GrayImage;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The argument that makes a binary a PDF worker.
pub const WORKER_ARG: &str = "--pdf-worker";
/// The worker reads PDFIUM_PATH from here (the service's configured path, or unset).
const PDFIUM_ENV: &str = "PISPAS_WORKER_PDFIUM";
/// Request header.
const MAGIC: &[u8; 4] = b"PPW1";
/// Largest answer accepted from a worker (50 pages of a 2-metre receipt).
const MAX_ANSWER: usize = 512 * 1024 * 1024;

static EXE: Mutex<Option<PathBuf>> = Mutex::new(None);
/// Test hook (see [`serve`]): the worker aborts on a PDF containing these bytes.
const ABORT_ON_ENV: &str = "PISPAS_PDF_WORKER_ABORT_ON";

/// The program [`enable`] named, which also serves as the browser guard (`browser_guard.rs`).
#[cfg(unix)]
pub(super) fn helper_exe() -> Option<PathBuf> {
    EXE.lock().ok().and_then(|e| e.clone())
}

/// Makes PDF renders of engines started from now on run in worker processes started from `exe`
/// (a program whose `main` calls [`serve`] for [`WORKER_ARG`]). Called by a binary's `main`
/// before the engine starts.
pub fn enable(exe: PathBuf) {
    if let Ok(mut e) = EXE.lock() {
        *e = Some(exe);
    }
}

/// Engines started from now on render PDFs in-process (benchmarks compare both).
pub fn disable() {
    if let Ok(mut e) = EXE.lock() {
        *e = None;
    }
}

/// The worker program, when one is enabled.
pub fn worker_exe() -> Option<PathBuf> {
    EXE.lock().ok().and_then(|e| e.clone())
}

/// Serves renders on stdin/stdout until stdin closes (the worker side; for `main`).
pub fn serve() -> ExitCode {
    let candidates = super::locate::pdfium_candidates(
        std::env::var_os(PDFIUM_ENV).map(PathBuf::from).as_deref(),
    );
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (mut input, mut output) = (stdin.lock(), stdout.lock());
    loop {
        let mut head = [0u8; 20];
        if input.read_exact(&mut head).is_err() || &head[..4] != MAGIC {
            return ExitCode::SUCCESS;
        }
        let width = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let max_pages = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        let len = u64::from_le_bytes(head[12..20].try_into().unwrap_or([0; 8])) as usize;
        let mut pdf = vec![0u8; len];
        if input.read_exact(&mut pdf).is_err() {
            return ExitCode::FAILURE;
        }
        // For the isolation test only: stand in for a PDF that crashes pdfium.
        if let Some(marker) = std::env::var_os(ABORT_ON_ENV) {
            let m = marker.to_string_lossy();
            if !m.is_empty() && pdf.windows(m.len()).any(|w| w == m.as_bytes()) {
                std::process::abort();
            }
        }
        let answer = encode(&pdf::render_pdf(&pdf, width, max_pages, &candidates));
        if output
            .write_all(&answer)
            .and_then(|()| output.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
    }
}

fn encode(result: &Result<Vec<GrayImage>, RenderError>) -> Vec<u8> {
    let mut out = Vec::new();
    match result {
        Ok(pages) => {
            out.push(0);
            out.extend_from_slice(&(pages.len() as u32).to_le_bytes());
            for p in pages {
                out.extend_from_slice(&p.width.to_le_bytes());
                out.extend_from_slice(&p.height.to_le_bytes());
                out.extend_from_slice(&p.pixels);
            }
        }
        Err(e) => {
            let (kind, text) = match e {
                RenderError::PdfiumMissing(t) => (1, t.clone()),
                RenderError::TooLarge(t) => (2, t.clone()),
                other => (3, other.to_string()),
            };
            out.push(kind);
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

/// One running worker.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// The service's side: one warm worker, restarted after a crash or a timeout.
pub struct WorkerPool {
    exe: PathBuf,
    pdfium_path: Option<PathBuf>,
    worker: tokio::sync::Mutex<Option<Worker>>,
}

impl WorkerPool {
    pub fn new(exe: PathBuf, pdfium_path: Option<PathBuf>) -> Self {
        WorkerPool {
            exe,
            pdfium_path,
            worker: tokio::sync::Mutex::new(None),
        }
    }

    fn spawn(&self) -> Result<Worker, RenderError> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg(WORKER_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        match &self.pdfium_path {
            Some(p) => cmd.env(PDFIUM_ENV, p),
            None => cmd.env_remove(PDFIUM_ENV),
        };
        let mut child = cmd
            .spawn()
            .map_err(|e| RenderError::Pdf(format!("the PDF renderer did not start: {e}")))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(RenderError::Pdf("the PDF renderer has no pipes".into()));
        };
        Ok(Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    /// Renders in the worker within `timeout`; a worker that crashes or takes too long is killed
    /// (the next render starts a new one).
    ///
    /// Fails as [`pdf::render_pdf`] does, and when the worker dies or times out on this PDF.
    pub async fn render(
        &self,
        pdf: &[u8],
        width: u32,
        max_pages: u32,
        timeout: Duration,
    ) -> Result<Vec<GrayImage>, RenderError> {
        let mut slot = self.worker.lock().await;
        // A worker that died while idle is replaced before this document reaches it.
        if slot
            .as_mut()
            .is_some_and(|w| !matches!(w.child.try_wait(), Ok(None)))
        {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(self.spawn()?);
        }
        let Some(worker) = slot.as_mut() else {
            return Err(RenderError::Pdf("no PDF renderer".into()));
        };
        let exchange = exchange(worker, pdf, width, max_pages);
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => {
                if let Some(mut w) = slot.take() {
                    let _ = w.child.kill().await;
                }
                tracing::warn!(error = %e, "the PDF renderer stopped on a document; a new one starts for the next");
                Err(RenderError::Pdf(
                    "the document stopped the PDF renderer (it is damaged or hostile)".into(),
                ))
            }
            Err(_) => {
                if let Some(mut w) = slot.take() {
                    let _ = w.child.kill().await;
                }
                tracing::warn!(
                    ?timeout,
                    "a PDF took too long to render; the renderer was stopped"
                );
                Err(RenderError::Timeout(timeout))
            }
        }
    }

    /// The worker's process id, when one runs (for tests and memory reports).
    pub async fn pid(&self) -> Option<u32> {
        self.worker.lock().await.as_ref().and_then(|w| w.child.id())
    }
}

async fn exchange(
    worker: &mut Worker,
    pdf: &[u8],
    width: u32,
    max_pages: u32,
) -> std::io::Result<Result<Vec<GrayImage>, RenderError>> {
    let mut head = Vec::with_capacity(20);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&width.to_le_bytes());
    head.extend_from_slice(&max_pages.to_le_bytes());
    head.extend_from_slice(&(pdf.len() as u64).to_le_bytes());
    worker.stdin.write_all(&head).await?;
    worker.stdin.write_all(pdf).await?;
    worker.stdin.flush().await?;
    let r = &mut worker.stdout;
    let kind = r.read_u8().await?;
    let n = r.read_u32_le().await? as usize;
    if kind != 0 {
        let mut text = vec![0u8; n.min(64 * 1024)];
        r.read_exact(&mut text).await?;
        let text = String::from_utf8_lossy(&text).into_owned();
        return Ok(Err(match kind {
            1 => RenderError::PdfiumMissing(text),
            2 => RenderError::TooLarge(text),
            _ => RenderError::Pdf(text.trim_start_matches("PDF: ").to_string()),
        }));
    }
    let mut pages = Vec::with_capacity(n.min(1024));
    let mut total = 0usize;
    for _ in 0..n {
        let w = r.read_u32_le().await?;
        let h = r.read_u32_le().await?;
        let size = (w as usize).saturating_mul(h as usize);
        total = total.saturating_add(size);
        if total > MAX_ANSWER {
            return Err(std::io::Error::other("the renderer answered too much"));
        }
        let mut pixels = vec![0u8; size];
        r.read_exact(&mut pixels).await?;
        pages.push(GrayImage {
            width: w,
            height: h,
            pixels,
        });
    }
    Ok(Ok(pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answer_keeps_its_kind() {
        let bytes = encode(&Err(RenderError::TooLarge("51 pages".into())));
        assert_eq!(bytes[0], 2);
        assert_eq!(&bytes[5..], b"51 pages");
        let ok = encode(&Ok(vec![GrayImage::white(8, 2)]));
        assert_eq!(ok.len(), 1 + 4 + 8 + 16);
    }
}

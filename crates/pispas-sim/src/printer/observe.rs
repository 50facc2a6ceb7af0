//! What tests and the CLI read from a virtual printer: received bytes, the printed document,
//! jobs, held output, status requests, live events, and waiters that wake on every change
//! instead of sleeping. Nothing here changes what the printer does.

use super::{Job, PrinterEvent, VirtualPrinter};
use crate::bitmap::Bitmap;
use crate::document::{Cut, Document, DrawerKick, Element};
use crate::wait::WaitTimeout;
use std::time::Duration;
use tokio::sync::broadcast;

impl VirtualPrinter {
    /// Raw ESC/POS bytes received (TCP and pty) since start or `clear`.
    pub fn received_bytes(&self) -> Vec<u8> {
        self.shared().lock().received.clone()
    }

    /// What has been printed since start or `clear` (held output is not printed yet).
    pub fn document(&self) -> Document {
        self.shared().lock().document.clone()
    }

    /// Output waiting for the printer to be ready again.
    pub fn held(&self) -> Vec<Element> {
        self.shared()
            .lock()
            .held
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    pub fn jobs(&self) -> Vec<Job> {
        self.shared().lock().jobs.clone()
    }

    pub fn text(&self) -> String {
        self.document().text()
    }

    pub fn cuts(&self) -> Vec<Cut> {
        self.document().cuts()
    }

    pub fn drawer_kicks(&self) -> Vec<DrawerKick> {
        self.document().drawer_kicks()
    }

    pub fn images(&self) -> Vec<Bitmap> {
        self.document().images()
    }

    /// Every `DLE EOT n` received, in order (n values).
    pub fn status_requests(&self) -> Vec<u8> {
        self.shared().lock().status_requests.clone()
    }

    /// Forgets what was received and printed (the condition and ESC/POS mode stay).
    pub fn clear(&self) {
        let mut st = self.shared().lock();
        st.received.clear();
        st.document = Document::default();
        st.held.clear();
        st.jobs.retain(|j| !j.finished);
        for job in &mut st.jobs {
            job.bytes.clear();
            job.document = Document::default();
        }
        st.status_requests.clear();
        drop(st);
        self.shared().changes.bump();
    }

    /// Live events (jobs, printed elements, status requests).
    pub fn subscribe(&self) -> broadcast::Receiver<PrinterEvent> {
        self.shared().events.subscribe()
    }

    // ---- waiting ---------------------------------------------------------------------

    /// Waits until the printed document satisfies `check`; returns the document.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&Document) -> bool,
    ) -> Result<Document, WaitTimeout> {
        let shared = self.shared();
        shared
            .changes
            .wait_until(what, timeout, || {
                let st = shared.lock();
                check(&st.document).then(|| st.document.clone())
            })
            .await
    }

    pub async fn wait_for_cuts(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Cut>, WaitTimeout> {
        let what = format!("{n} cut(s)");
        Ok(self
            .wait_until(&what, timeout, |d| d.cuts().len() >= n)
            .await?
            .cuts())
    }

    pub async fn wait_for_kicks(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<DrawerKick>, WaitTimeout> {
        let what = format!("{n} drawer kick(s)");
        Ok(self
            .wait_until(&what, timeout, |d| d.drawer_kicks().len() >= n)
            .await?
            .drawer_kicks())
    }

    pub async fn wait_for_images(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Bitmap>, WaitTimeout> {
        let what = format!("{n} image(s)");
        Ok(self
            .wait_until(&what, timeout, |d| d.images().len() >= n)
            .await?
            .images())
    }

    /// Waits until the printed text contains `needle`; returns the whole text.
    pub async fn wait_for_text(
        &self,
        needle: &str,
        timeout: Duration,
    ) -> Result<String, WaitTimeout> {
        let what = format!("text {needle:?}");
        Ok(self
            .wait_until(&what, timeout, |d| d.text().contains(needle))
            .await?
            .text())
    }

    /// Waits until at least `n` bytes of raw ESC/POS were received.
    pub async fn wait_for_bytes(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, WaitTimeout> {
        let shared = self.shared();
        shared
            .changes
            .wait_until(format!("{n} byte(s)"), timeout, || {
                let st = shared.lock();
                (st.received.len() >= n).then(|| st.received.clone())
            })
            .await
    }

    /// Waits until `n` jobs have finished (connection closed, ePOS request done, pty cut).
    pub async fn wait_for_jobs(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Job>, WaitTimeout> {
        let shared = self.shared();
        shared
            .changes
            .wait_until(format!("{n} finished job(s)"), timeout, || {
                let st = shared.lock();
                let done: Vec<Job> = st.jobs.iter().filter(|j| j.finished).cloned().collect();
                (done.len() >= n).then_some(done)
            })
            .await
    }
}

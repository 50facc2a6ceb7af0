//! The virtual receipt printer: raw ESC/POS on TCP (9100 style) and on a pty, and Epson
//! ePOS-Print XML over HTTP, all feeding one document and one settable condition. This file is
//! the handle tests hold: start endpoints, set the condition, inject faults, observe, wait.

mod epos;
mod observe;
#[cfg(unix)]
mod pty;
mod session;
mod state;
pub mod status;
mod tcp;

pub use epos::{envelope as epos_envelope, read_epos, EposXmlError, SERVICE_PATH as EPOS_PATH};
pub use state::{Job, PrinterEvent};
pub use status::{Paper, PrinterFault, PrinterStatus};

use state::Shared;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// A cheap, cloneable handle; the printer's endpoints stop when the last handle is dropped.
#[derive(Clone)]
pub struct VirtualPrinter {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    endpoints: Mutex<Endpoints>,
}

#[derive(Default)]
struct Endpoints {
    first: Option<SocketAddr>,
    tcp: Option<SocketAddr>,
    epos: Option<SocketAddr>,
    #[cfg(unix)]
    pty: Option<Arc<crate::port::Plug>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Default for VirtualPrinter {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualPrinter {
    /// A printer with no endpoint yet (add them with `serve_*`).
    pub fn new() -> VirtualPrinter {
        VirtualPrinter {
            inner: Arc::new(Inner {
                shared: Arc::new(Shared::default()),
                cancel: CancellationToken::new(),
                endpoints: Mutex::new(Endpoints::default()),
            }),
        }
    }

    /// A printer listening for raw ESC/POS on `addr` ("127.0.0.1:0" picks a port).
    /// Fails when the address cannot be bound.
    pub async fn start_tcp(addr: &str) -> anyhow::Result<VirtualPrinter> {
        let printer = VirtualPrinter::new();
        printer.serve_tcp(addr).await?;
        Ok(printer)
    }

    /// A printer answering ePOS-Print XML over HTTP on `addr`. Fails when it cannot bind.
    pub async fn start_epos(addr: &str) -> anyhow::Result<VirtualPrinter> {
        let printer = VirtualPrinter::new();
        printer.serve_epos(addr).await?;
        Ok(printer)
    }

    /// A printer on a new pty whose slave is reachable at `link` (a symlink, like socat's
    /// `link=`). Fails when no pty can be made or `link` is a file that is not a symlink.
    #[cfg(unix)]
    pub async fn start_pty(link: &std::path::Path) -> anyhow::Result<VirtualPrinter> {
        let printer = VirtualPrinter::new();
        printer.serve_pty(link).await?;
        Ok(printer)
    }

    /// Adds a raw ESC/POS TCP endpoint. Fails when the address cannot be bound.
    pub async fn serve_tcp(&self, addr: &str) -> anyhow::Result<SocketAddr> {
        let local = tcp::listen(self.shared().clone(), addr, self.inner.cancel.clone()).await?;
        let mut ep = self.endpoints();
        ep.tcp = Some(local);
        ep.first.get_or_insert(local);
        Ok(local)
    }

    /// Adds an ePOS-Print HTTP endpoint. Fails when the address cannot be bound.
    pub async fn serve_epos(&self, addr: &str) -> anyhow::Result<SocketAddr> {
        let local = epos::listen(self.shared().clone(), addr, self.inner.cancel.clone()).await?;
        let mut ep = self.endpoints();
        ep.epos = Some(local);
        ep.first.get_or_insert(local);
        Ok(local)
    }

    /// Adds a pty endpoint behind `link`. Fails as `start_pty`.
    #[cfg(unix)]
    pub async fn serve_pty(&self, link: &std::path::Path) -> anyhow::Result<()> {
        let plug = pty::open(self.shared().clone(), link, self.inner.cancel.clone()).await?;
        self.endpoints().pty = Some(plug);
        Ok(())
    }

    /// The address the printer was started on (TCP, else ePOS); `0.0.0.0:0` for a pty-only
    /// printer.
    pub fn addr(&self) -> SocketAddr {
        self.endpoints()
            .first
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.endpoints().tcp
    }

    pub fn epos_addr(&self) -> Option<SocketAddr> {
        self.endpoints().epos
    }

    /// The ePOS-Print URL (`http://addr/cgi-bin/epos/service.cgi?devid=local_printer&timeout=10000`).
    pub fn epos_url(&self) -> Option<String> {
        self.epos_addr()
            .map(|a| format!("http://{a}{EPOS_PATH}?devid=local_printer&timeout=10000"))
    }

    // ---- condition -------------------------------------------------------------------

    pub fn status(&self) -> PrinterStatus {
        self.shared().status()
    }

    pub fn set_paper(&self, paper: Paper) {
        self.shared().update_status(|s| s.paper = paper);
    }

    pub fn set_cover_open(&self, open: bool) {
        self.shared().update_status(|s| s.cover_open = open);
    }

    /// Puts the printer offline by hand (or back online).
    pub fn set_offline(&self, offline: bool) {
        self.shared().update_status(|s| s.offline = offline);
    }

    /// Sets the drawer kick-out connector pin 3 level (DLE EOT 1 bit 2).
    pub fn set_drawer_pin3(&self, high: bool) {
        self.shared().update_status(|s| s.drawer_pin3_high = high);
    }

    /// The usual wiring: drawer open = pin 3 high (see README; drawers differ).
    pub fn set_drawer_open(&self, open: bool) {
        self.set_drawer_pin3(open);
    }

    pub fn set_fault(&self, fault: Option<PrinterFault>) {
        self.shared().update_status(|s| s.fault = fault);
    }

    // ---- faults ----------------------------------------------------------------------

    /// Drops the current (or next) connection once, after `bytes` more bytes; bytes past
    /// that point in the same read are lost. On a pty the line is closed and a new pty is
    /// made behind the same link.
    pub fn drop_after(&self, bytes: usize) {
        self.shared().lock().drop_after = Some(bytes);
    }

    /// Reads at most `bytes_per_sec` (None: full speed), so senders feel back-pressure.
    pub fn set_slow(&self, bytes_per_sec: Option<u32>) {
        self.shared().lock().slow_bytes_per_sec = bytes_per_sec;
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    fn endpoints(&self) -> std::sync::MutexGuard<'_, Endpoints> {
        self.inner
            .endpoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

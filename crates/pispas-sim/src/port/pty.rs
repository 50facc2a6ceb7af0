//! A pty pair whose slave is reachable through a symlink (Unix only): the device writes and
//! reads the master, the engine opens the link as if it were `/dev/ttyUSB0`. The slave is
//! set raw so no line discipline touches the bytes, and is kept open by us so that the master
//! never reads EIO while the engine has the port closed. Dropping it closes the master (the
//! engine's reads then fail, as when a USB adapter is pulled) and removes the link.
//!
//! nix wraps openpty, termios and fcntl safely; the one `unsafe` is registering the master
//! with tokio's reactor (`AsyncFd::register`), justified where it is done.

use super::Port;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::pty::{openpty, OpenptyResult};
use nix::sys::termios::{cfmakeraw, tcflush, tcgetattr, tcsetattr, FlushArg, SetArg};
use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct PtyStream {
    master: AsyncFd<OwnedFd>,
    slave: OwnedFd,
    link: PathBuf,
    slave_path: PathBuf,
}

impl PtyStream {
    /// Makes a pty pair and points `link` at its slave. Fails when no pty is available or
    /// `link` exists and is not a symlink (we never replace a real file).
    pub fn open(link: &Path) -> io::Result<PtyStream> {
        let OpenptyResult { master, slave } = openpty(None, None)?;
        let mut termios = tcgetattr(&slave)?;
        cfmakeraw(&mut termios);
        tcsetattr(&slave, SetArg::TCSANOW, &termios)?;
        let flags = OFlag::from_bits_truncate(fcntl(&master, FcntlArg::F_GETFL)?);
        fcntl(&master, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        let slave_path = nix::unistd::ttyname(&slave)?;
        place_link(link, &slave_path)?;
        // SAFETY: `master` is an OwnedFd we just got from openpty: a valid, open descriptor.
        // The AsyncFd takes ownership of it, so it stays open and `as_raw_fd` returns the same
        // descriptor until the AsyncFd is dropped; nothing else closes or reuses it.
        #[allow(unsafe_code)]
        let master = unsafe { AsyncFd::register(master) }.map_err(io::Error::from)?;
        Ok(PtyStream {
            master,
            slave,
            link: link.to_path_buf(),
            slave_path,
        })
    }

    /// The real slave device, e.g. `/dev/pts/7`.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }
}

/// Points `link` at `target`, replacing an old symlink atomically.
fn place_link(link: &Path, target: &Path) -> io::Result<()> {
    if let Ok(meta) = fs::symlink_metadata(link) {
        if !meta.file_type().is_symlink() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and is not a symlink; not replacing it",
                    link.display()
                ),
            ));
        }
    }
    let name = link
        .file_name()
        .map_or_else(|| "pty".into(), |n| n.to_string_lossy().into_owned());
    let tmp = link.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    fs::rename(&tmp, link)
}

impl Drop for PtyStream {
    fn drop(&mut self) {
        // Only remove the link if it is still ours (a replug may already have replaced it).
        if fs::read_link(&self.link).ok().as_deref() == Some(self.slave_path.as_path()) {
            let _ = fs::remove_file(&self.link);
        }
    }
}

impl Port for PtyStream {
    fn discard_unread(&self) {
        let _ = tcflush(&self.slave, FlushArg::TCIFLUSH);
    }
}

impl AsyncRead for PtyStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let mut guard = ready!(this.master.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard
                .try_io(|fd| nix::unistd::read(fd.get_ref(), unfilled).map_err(io::Error::from))
            {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for PtyStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            let mut guard = ready!(this.master.poll_write_ready(cx))?;
            match guard.try_io(|fd| nix::unistd::write(fd.get_ref(), data).map_err(io::Error::from))
            {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

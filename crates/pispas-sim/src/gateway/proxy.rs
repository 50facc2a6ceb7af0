//! A minimal HTTP CONNECT proxy (RFC 9110 §9.3.6), as a shop's corporate proxy would be: reads
//! `CONNECT host:port`, optionally checks `Proxy-Authorization`, answers `200` and relays bytes
//! both ways. It counts the tunnels it opened so a test can see the gateway went through it.

use anyhow::Context;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy; a cheap handle.
#[derive(Clone)]
pub struct ConnectProxy {
    addr: SocketAddr,
    tunnels: Arc<AtomicU64>,
    targets: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// Listens on `addr` (`127.0.0.1:0` picks a port).
    ///
    /// Fails when the address cannot be bound.
    pub async fn start(addr: &str) -> anyhow::Result<ConnectProxy> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("listen on {addr}"))?;
        let proxy = ConnectProxy {
            addr: listener.local_addr()?,
            tunnels: Arc::default(),
            targets: Arc::default(),
        };
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let p = p.clone();
                tokio::spawn(async move {
                    let _ = p.tunnel(client).await;
                });
            }
        });
        Ok(proxy)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Tunnels opened so far.
    pub fn tunnels(&self) -> u64 {
        self.tunnels.load(Ordering::SeqCst)
    }

    /// The `host:port` of every CONNECT so far.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().map(|t| t.clone()).unwrap_or_default()
    }

    async fn tunnel(&self, mut client: TcpStream) -> anyhow::Result<()> {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            anyhow::ensure!(head.len() < 16 * 1024, "header too long");
            head.push(client.read_u8().await?);
        }
        let text = String::from_utf8_lossy(&head);
        let mut first = text.lines().next().unwrap_or("").split_whitespace();
        let (Some("CONNECT"), Some(target)) = (first.next(), first.next()) else {
            client
                .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                .await?;
            return Ok(());
        };
        let target = target.to_string();
        let Ok(mut upstream) = TcpStream::connect(&target).await else {
            client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
                .await?;
            return Ok(());
        };
        if let Ok(mut t) = self.targets.lock() {
            t.push(target);
        }
        self.tunnels.fetch_add(1, Ordering::SeqCst);
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        Ok(())
    }
}

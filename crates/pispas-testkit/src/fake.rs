//! Network devices that are not what the configuration says: a web server, a socket that hung,
//! line noise. For the tests of what the engine does when an address reaches the wrong thing.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How a fake device treats a connection.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Answers any bytes like a web server that does not understand them, then closes.
    Http,
    /// Accepts and then neither reads nor writes (a device that hung).
    Silent,
    /// Answers every chunk it reads with 0xFF bytes (another protocol, line noise).
    Noise,
}

/// Starts a fake device on a free loopback port; it runs until the test's runtime ends.
pub async fn device(behaviour: Behaviour) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("local addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            match behaviour {
                Behaviour::Silent => held.push(s),
                Behaviour::Http => {
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        if s.read(&mut buf).await.unwrap_or(0) > 0 {
                            let _ = s
                                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                                .await;
                        }
                    });
                }
                Behaviour::Noise => {
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        while let Ok(n) = s.read(&mut buf).await {
                            if n == 0 || s.write_all(&vec![0xFF; n]).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            }
        }
    });
    addr
}

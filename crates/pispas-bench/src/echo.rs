//! The baseline: the smallest honest WebSocket server — tokio-tungstenite echoing each text
//! frame back — on a plain port and a TLS port (tokio-rustls, same certificate machinery and
//! provider as the engine). No parsing, no routing, no admission checks.

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use std::path::PathBuf;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

pub(crate) fn serve_from_args(args: &[String]) -> anyhow::Result<()> {
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let plain: u16 = get("--plain").context("--plain PORT")?.parse()?;
    let tls: u16 = get("--tls").context("--tls PORT")?.parse()?;
    let dir = PathBuf::from(get("--dir").context("--dir DIR")?);
    let material = pispas_modules::server::tls::load_or_generate(&dir.join("none"), &dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let plain_l = TcpListener::bind(("127.0.0.1", plain)).await?;
        let tls_l = TcpListener::bind(("127.0.0.1", tls)).await?;
        let acceptor = material.acceptor.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = tls_l.accept().await {
                let _ = s.set_nodelay(true);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(t) = acceptor.accept(s).await {
                        echo(t).await;
                    }
                });
            }
        });
        while let Ok((s, _)) = plain_l.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(echo(s));
        }
        anyhow::Ok(())
    })
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if msg.is_text() && ws.send(msg).await.is_err() {
            return;
        }
    }
}

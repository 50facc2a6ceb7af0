//! `pispas-sim gateway`: the Pispas cloud's side of the remote gateway on your machine. Tills
//! with `REMOTE_HOST` pointing here connect to it; the first stdout line is the `.env` lines to
//! use. What tills send (HELLO, replies, events) is printed on stdout, one line each; requests
//! are typed on stdin (`send <DEVICE_ID> {json}`).

use super::{say, Args};
use crate::gateway::{GatewayOptions, GatewaySim};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::AsyncBufReadExt;

const HELP: &str = "\
commands:
  devices                    the connected tills and their HELLO
  send DEVICE_ID {json}      a request to a till (UUIDV4 added when missing)
  ping DEVICE_ID             BASE PING
  print DEVICE_ID TEXT…      PRINT FORMAT TEXT on the till's default printer
  drop DEVICE_ID             close the link (the till reconnects by itself)
  help | quit
DEVICE_ID may be `-` for the only connected till.";

pub async fn run(mut args: Args) -> anyhow::Result<()> {
    let host = args.value("--host")?.unwrap_or_else(|| "127.0.0.1".into());
    let port: u16 = args.number("--port")?.unwrap_or(8765);
    let token = args.value("--token")?;
    let cert = args.value("--cert")?;
    let key = args.value("--key")?;
    args.finish()?;
    let tls = match (cert, key) {
        (Some(c), Some(k)) => Some((
            std::fs::read(&c).with_context(|| c.clone())?,
            std::fs::read(&k).with_context(|| k.clone())?,
        )),
        (None, None) => None,
        _ => bail!("--cert and --key go together"),
    };
    let tls_on = tls.is_some();
    let sim = GatewaySim::start(GatewayOptions {
        addr: format!("{host}:{port}"),
        token: token.clone(),
        tls,
    })
    .await?;
    let mut line = format!(
        "REMOTE_HOST={host} REMOTE_PORT={} REMOTE_TLS={}",
        sim.addr().port(),
        if tls_on { "on" } else { "off" }
    );
    if let Some(t) = &token {
        line.push_str(&format!(" REMOTE_TOKEN={t}"));
    }
    say(line);
    eprintln!(
        "gateway listening on {}; type `help` for commands",
        sim.addr()
    );
    let mut events = sim.subscribe();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            say(event);
        }
    });
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut open = true;
    loop {
        let line = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            l = lines.next_line(), if open => l,
        };
        let Some(line) = line.unwrap_or(None) else {
            open = false;
            continue;
        };
        match command(&sim, line.trim()) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
}

fn command(sim: &GatewaySim, line: &str) -> anyhow::Result<bool> {
    static N: AtomicU64 = AtomicU64::new(1);
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let (device, rest) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
    let device = if device == "-" {
        sim.devices()
            .keys()
            .next()
            .cloned()
            .context("no till is connected")?
    } else {
        device.to_string()
    };
    let uuid = || format!("sim-gateway-{}", N.fetch_add(1, Ordering::Relaxed));
    match word {
        "" => {}
        "quit" | "exit" => return Ok(false),
        "help" => eprintln!("{HELP}"),
        "devices" => {
            for (id, hello) in sim.devices() {
                say(format!("{id} {hello}"));
            }
        }
        "send" => {
            let mut request: Value = serde_json::from_str(rest).context("send DEVICE_ID {json}")?;
            if request.get("UUIDV4").is_none() {
                request["UUIDV4"] = json!(uuid());
            }
            sim.send(&device, &request)?;
        }
        "ping" => sim.send(&device, &json!({"UUIDV4": uuid(), "TARGET": "BASE", "ACTION": "PING"}))?,
        "print" => sim.send(
            &device,
            &json!({"UUIDV4": uuid(), "TARGET": "PRINT", "ACTION": "PRINT", "FORMAT": "TEXT", "DATA": rest}),
        )?,
        "drop" => sim.drop_device(&device),
        other => bail!("unknown command {other:?} (help lists them)"),
    }
    Ok(true)
}

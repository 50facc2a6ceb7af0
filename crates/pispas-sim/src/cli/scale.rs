//! `pispas-sim scale`: a scale on a pty (or a real port) for the engine, controlled from stdin.

use super::{command_loop, say, Args};
use crate::port::PortSpec;
use crate::scale::{ScaleSim, PROTOCOLS};
use anyhow::{bail, Context};

const HELP: &str = "\
commands:
  weight N          put N grams on the platform (negative allowed)
  stable | unstable the weight settles / is moving
  overload [off]    force over capacity
  underzero [off]   force under zero
  tare | zero | cleartare   the scale's keys
  corrupt           damage the next frame the scale sends
  garbage           send garbage bytes now
  unplug | replug   pull the cable / plug it back (same path)
  status            show the scale's state
  log               show the bytes exchanged so far
  help | quit";

pub async fn run(mut args: Args) -> anyhow::Result<()> {
    let protocol = args
        .value("--protocol")?
        .context("--protocol is required")?;
    if !PROTOCOLS.contains(&protocol.as_str()) {
        bail!(
            "unknown protocol {protocol:?}; one of {}",
            PROTOCOLS.join(", ")
        );
    }
    let spec = port_spec(&mut args, "/tmp/pispas-scale")?;
    let weight: Option<i64> = args.number("--weight")?;
    args.finish()?;
    let scale = ScaleSim::start(&protocol, spec).await?;
    if let Some(grams) = weight {
        scale.set_weight(grams);
    }
    say(scale.config_line());
    eprintln!("{protocol} scale ready; type `help` for commands");
    command_loop(|words| {
        let scale = scale.clone();
        async move { command(&scale, &words).await }
    })
    .await
}

/// `--port DEV [--baud N]`, else `--link PATH` (Unix: a pty; default `default_link`).
/// Fails on Windows without `--port`, since pty pairs are Unix-only.
pub fn port_spec(args: &mut Args, default_link: &str) -> anyhow::Result<PortSpec> {
    let baud: u32 = args.number("--baud")?.unwrap_or(9600);
    let link = args.value("--link")?;
    if let Some(name) = args.value("--port")? {
        return Ok(PortSpec::Serial { name, baud });
    }
    pty_spec(link.unwrap_or_else(|| default_link.to_string()))
}

#[cfg(unix)]
fn pty_spec(link: String) -> anyhow::Result<PortSpec> {
    Ok(PortSpec::Pty(link.into()))
}

#[cfg(not(unix))]
fn pty_spec(_link: String) -> anyhow::Result<PortSpec> {
    bail!("pty pairs are Unix-only; pass --port COMn (one end of a virtual COM pair)")
}

async fn command(scale: &ScaleSim, words: &[String]) -> anyhow::Result<bool> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["weight", n] => {
            scale.set_weight(n.trim_end_matches('g').parse().context("weight N: grams")?);
        }
        ["stable"] => scale.set_stable(true),
        ["unstable"] => scale.set_stable(false),
        ["overload"] => scale.set_overload(true),
        ["overload", "off"] => scale.set_overload(false),
        ["underzero"] => scale.set_under_zero(true),
        ["underzero", "off"] => scale.set_under_zero(false),
        ["tare"] => scale.tare(),
        ["zero"] => scale.zero(),
        ["cleartare"] => scale.clear_tare(),
        ["corrupt"] => scale.corrupt_next(),
        ["garbage"] => scale.send_garbage(),
        ["unplug"] => {
            scale.unplug().await;
            eprintln!("unplugged: {} is gone", scale.device_path());
            return Ok(true);
        }
        ["replug"] => {
            scale.replug().await?;
            eprintln!("plugged in again at {}", scale.device_path());
            return Ok(true);
        }
        ["log"] => {
            let log = scale.log();
            eprintln!(
                "host -> scale: {:?}",
                String::from_utf8_lossy(&log.received)
            );
            eprintln!("scale -> host: {:?}", String::from_utf8_lossy(&log.sent));
            return Ok(true);
        }
        ["status"] => {}
        ["help"] => {
            eprintln!("{HELP}");
            return Ok(true);
        }
        _ => bail!("unknown command {:?}; type `help`", words.join(" ")),
    }
    let s = scale.state();
    eprintln!(
        "shows {} g ({}), {}{}{}, tare {:?}, plugged {}",
        s.shown_g(),
        if s.is_net() { "net" } else { "gross" },
        if s.stable { "stable" } else { "moving" },
        if s.overload() { ", OVERLOAD" } else { "" },
        if s.under_zero() { ", UNDER ZERO" } else { "" },
        s.tare_g,
        scale.is_plugged().await
    );
    Ok(true)
}

//! `pispas-sim rfid`: an EM4100 reader on a pty (or a real port), controlled from stdin.

use super::scale::port_spec;
use super::{command_loop, say, Args};
use crate::rfid::{RfidProtocol, RfidSim, TagId};
use anyhow::{bail, Context};

const HELP: &str = "\
commands:
  present HEX10       hold a tag (10 hex chars) on the reader: its frame repeats every 100 ms
  remove              take the tag away
  bad-checksum HEX10  send one frame with a wrong checksum
  garbage             send garbage bytes now
  unplug | replug     pull the cable / plug it back (same path)
  help | quit";

pub async fn run(mut args: Args) -> anyhow::Result<()> {
    let name = args
        .value("--protocol")?
        .unwrap_or_else(|| "em4100-14".into());
    let protocol = RfidProtocol::from_name(&name)
        .with_context(|| format!("unknown protocol {name:?}; em4100-14 or em4100-16"))?;
    let spec = port_spec(&mut args, "/tmp/pispas-rfid")?;
    args.finish()?;
    let reader = RfidSim::start(protocol, spec).await?;
    say(reader.config_line());
    eprintln!("{} reader ready; type `help` for commands", protocol.name());
    command_loop(|words| {
        let reader = reader.clone();
        async move { command(&reader, &words).await }
    })
    .await
}

fn tag(hex: &str) -> anyhow::Result<TagId> {
    TagId::parse(hex).with_context(|| format!("{hex:?} is not 10 hex characters"))
}

async fn command(reader: &RfidSim, words: &[String]) -> anyhow::Result<bool> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["present", hex] => {
            let t = tag(hex)?;
            reader.present(t);
            eprintln!("holding {} on the reader", t.hex());
        }
        ["remove"] => {
            reader.remove();
            eprintln!("no tag");
        }
        ["bad-checksum", hex] => reader.send_bad_checksum(tag(hex)?),
        ["garbage"] => reader.send_garbage(),
        ["unplug"] => {
            reader.unplug().await;
            eprintln!("unplugged: {} is gone", reader.device_path());
        }
        ["replug"] => {
            reader.replug().await?;
            eprintln!("plugged in again at {}", reader.device_path());
        }
        ["help"] => eprintln!("{HELP}"),
        _ => bail!("unknown command {:?}; type `help`", words.join(" ")),
    }
    Ok(true)
}

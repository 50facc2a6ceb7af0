//! `pispas-sim mypos`: a myPOS terminal speaking IPP on TCP or a pty, steered from stdin. The
//! first stdout line is the engine's `MYPOS=` line; frames in and out are shown on stderr.

use super::paytef::card_named;
use super::{command_loop, say, Args};
use crate::mypos::{MyposOptions, MyposScenario, MyposSim, MyposTransport};
use crate::payment::TestCard;
use anyhow::{bail, Context};
use std::time::Duration;

const HELP: &str = "\
commands:
  scenario NAME     what the next PURCHASE/REFUND does (see `scenarios`)
  scenarios         list the scenarios
  card NAME         the card the next customer presents (visa: chip+PIN, mastercard: contactless)
  cancel            the customer presses cancel on the terminal
  restart           the terminal restarts (a running transaction is forgotten)
  status            show the terminal's state
  log               show the transactions so far
  help | quit";

/// The TCP port when none is given: myPOS documents none for ECR mode, so this is ours.
pub const DEFAULT_PORT: u16 = 8990;

pub async fn run(mut args: Args) -> anyhow::Result<()> {
    let host = args.value("--host")?.unwrap_or_else(|| "127.0.0.1".into());
    let port: Option<u16> = args.number("--port")?;
    let pty = args.value("--pty")?;
    let scenario = match args.value("--scenario")? {
        Some(name) => scenario_named(&name)?,
        None => MyposScenario::Approved,
    };
    let defaults = MyposOptions::default();
    let step = args.number::<u64>("--step-ms")?.map(Duration::from_millis);
    let slow = args.number::<u64>("--slow-ms")?.map(Duration::from_millis);
    let timeout_secs: Option<u32> = args.number("--timeout-secs")?;
    let card = match args.value("--card")? {
        Some(name) => card_named(&name)?,
        None => TestCard::default(),
    };
    args.finish()?;
    let transport = match (port, pty) {
        (Some(_), Some(_)) => bail!("give --port or --pty, not both"),
        (_, Some(path)) => MyposTransport::Pty(path.into()),
        (port, None) => MyposTransport::Tcp(format!("{host}:{}", port.unwrap_or(DEFAULT_PORT))),
    };
    let sim = MyposSim::start(MyposOptions {
        transport,
        scenario,
        step: step.unwrap_or(defaults.step),
        slow: slow.unwrap_or(defaults.slow),
        timeout_secs: timeout_secs.unwrap_or(defaults.timeout_secs),
        card,
    })
    .await?;
    say(sim.config_line());
    eprintln!(
        "myPOS terminal ready, scenario {}; type `help` for commands",
        scenario.name()
    );
    let mut events = sim.subscribe();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            eprintln!("{event}");
        }
    });
    command_loop(|words| {
        let sim = sim.clone();
        async move { command(&sim, &words) }
    })
    .await
}

fn scenario_named(name: &str) -> anyhow::Result<MyposScenario> {
    MyposScenario::by_name(name).with_context(|| {
        let names: Vec<&str> = MyposScenario::ALL.iter().map(|s| s.name()).collect();
        format!("unknown scenario {name:?}; one of {}", names.join(", "))
    })
}

fn command(sim: &MyposSim, words: &[String]) -> anyhow::Result<bool> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["scenario", name] => {
            let scenario = scenario_named(name)?;
            sim.set_scenario(scenario);
            eprintln!("scenario {}: {}", scenario.name(), scenario.description());
        }
        ["scenarios"] => {
            for s in MyposScenario::ALL {
                eprintln!("  {:<24}{}", s.name(), s.description());
            }
        }
        ["card", name] => sim.set_card(card_named(name)?),
        ["cancel"] => {
            let done = sim.customer_cancel();
            eprintln!(
                "{}",
                if done {
                    "cancelled"
                } else {
                    "nothing to cancel now"
                }
            );
        }
        ["restart"] => sim.restart(),
        ["status"] => eprintln!(
            "state {:?}, scenario {}, waiting for COMPLETE_TX: {:?}",
            sim.state(),
            sim.scenario().name(),
            sim.pending().map(|p| p.sid)
        ),
        ["log"] => {
            for t in sim.transactions() {
                eprintln!(
                    "{} {} {} {:?} {:?}{}",
                    t.kind.method(),
                    t.sid,
                    crate::mypos::frames::amount(t.amount_cents),
                    t.outcome,
                    t.completion,
                    if t.foreign { " (keypad)" } else { "" }
                );
            }
        }
        ["help"] => eprintln!("{HELP}"),
        _ => bail!("unknown command {:?}; type `help`", words.join(" ")),
    }
    Ok(true)
}

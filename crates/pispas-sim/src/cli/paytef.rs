//! `pispas-sim paytef`: a Paytef pinpad (local, or Paytef Cloud with `--cloud`) for the engine,
//! steered from stdin. The first stdout line is the engine's `PAYTEF=` line; in cloud mode the
//! key lines follow. Calls and transaction changes are shown on stderr.

use super::{command_loop, say, Args};
use crate::payment::{TestCard, TEST_CARDS};
use crate::paytef::{PaytefOptions, PaytefScenario, PaytefSim};
use anyhow::{bail, Context};
use std::time::Duration;

const HELP: &str = "\
commands:
  scenario NAME     what the next transaction does (see `scenarios`)
  scenarios         list the scenarios
  card NAME         the card the next customer presents (visa: chip+PIN, mastercard: contactless)
  cancel            the customer presses cancel on the pinpad
  restart           the terminal restarts (a running transaction is forgotten)
  expire            cloud: expire every token issued so far
  drop N            close the connection without a reply for the next N calls
  status            show the terminal's state
  log               show the calls received so far
  help | quit";

pub async fn run(mut args: Args) -> anyhow::Result<()> {
    let host = args.value("--host")?.unwrap_or_else(|| "127.0.0.1".into());
    let port: u16 = args.number("--port")?.unwrap_or(8887);
    let cloud = args.flag("--cloud");
    let scenario = scenario_arg(&mut args)?;
    let defaults = PaytefOptions::default();
    let step = args.number::<u64>("--step-ms")?.map(Duration::from_millis);
    let slow = args.number::<u64>("--slow-ms")?.map(Duration::from_millis);
    let pinpad = args.value("--pinpad")?;
    let card = match args.value("--card")? {
        Some(name) => card_named(&name)?,
        None => TestCard::default(),
    };
    args.finish()?;
    let sim = PaytefSim::start(PaytefOptions {
        addr: format!("{host}:{port}"),
        cloud,
        scenario,
        step: step.unwrap_or(defaults.step),
        slow: slow.unwrap_or(defaults.slow),
        pinpad: pinpad.unwrap_or(defaults.pinpad),
        card,
        ..PaytefOptions::default()
    })
    .await?;
    for line in sim.config_lines() {
        say(line);
    }
    eprintln!(
        "Paytef {} pinpad ready, scenario {}; type `help` for commands",
        if cloud { "cloud" } else { "local" },
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

fn scenario_arg(args: &mut Args) -> anyhow::Result<PaytefScenario> {
    match args.value("--scenario")? {
        Some(name) => scenario_named(&name),
        None => Ok(PaytefScenario::Approved),
    }
}

fn scenario_named(name: &str) -> anyhow::Result<PaytefScenario> {
    PaytefScenario::by_name(name).with_context(|| {
        let names: Vec<&str> = PaytefScenario::ALL.iter().map(|s| s.name()).collect();
        format!("unknown scenario {name:?}; one of {}", names.join(", "))
    })
}

pub(crate) fn card_named(name: &str) -> anyhow::Result<TestCard> {
    TestCard::by_name(name).with_context(|| {
        let names: Vec<&str> = TEST_CARDS.iter().map(|c| c.name).collect();
        format!("unknown card {name:?}; one of {}", names.join(", "))
    })
}

fn command(sim: &PaytefSim, words: &[String]) -> anyhow::Result<bool> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["scenario", name] => {
            let scenario = scenario_named(name)?;
            sim.set_scenario(scenario);
            eprintln!("scenario {}: {}", scenario.name(), scenario.description());
        }
        ["scenarios"] => {
            for s in PaytefScenario::ALL {
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
                    "nothing to cancel"
                }
            );
        }
        ["restart"] => sim.restart(),
        ["expire"] => sim.expire_tokens(),
        ["drop", n] => sim.drop_next_replies(n.parse().context("drop N: N calls")?),
        ["status"] => {
            let last = sim.last_result().map(|t| (t.id, t.outcome(), t.reference));
            eprintln!(
                "state {:?}, scenario {}, last result {:?}",
                sim.state(),
                sim.scenario().name(),
                last
            );
        }
        ["log"] => {
            for r in sim.requests() {
                eprintln!(
                    "{} {} {} -> {}{}",
                    r.method,
                    r.path,
                    r.body,
                    r.status,
                    if r.dropped() { " (dropped)" } else { "" }
                );
            }
        }
        ["help"] => eprintln!("{HELP}"),
        _ => bail!("unknown command {:?}; type `help`", words.join(" ")),
    }
    Ok(true)
}

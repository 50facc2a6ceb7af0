//! `pispas-bench`: measures the engine against a bare tokio-tungstenite echo server in the same
//! run, on the same machine, and prints Markdown for docs/performance.md.
//!
//! Both servers run as separate processes (the release `pispas-modules` binary, and this binary's
//! `echo-server` subcommand), so client and server costs are split the same way for both.
//! Usage: `pispas-bench engine [--quick]`, `pispas-bench soak --minutes 60`, `pispas-bench echo-server --plain PORT --tls PORT --dir DIR`.

mod cache;
#[cfg(unix)]
mod devices;
mod echo;
mod kitchen;
mod measure;
#[cfg(target_os = "linux")]
mod payments;
mod print;
mod process;
#[cfg(target_os = "linux")]
mod soak;

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("echo-server") => echo::serve_from_args(&args[1..]),
        Some("engine") => {
            let quick = args.iter().any(|a| a == "--quick");
            let report = measure::engine_report(quick).context("benchmark failed")?;
            println!("{report}");
            Ok(())
        }
        #[cfg(unix)]
        Some("devices") => {
            let quick = args.iter().any(|a| a == "--quick");
            println!("{}", devices::report(quick).context("benchmark failed")?);
            Ok(())
        }
        Some("cache") => {
            let quick = args.iter().any(|a| a == "--quick");
            println!("{}", cache::report(quick).context("benchmark failed")?);
            Ok(())
        }
        #[cfg(target_os = "linux")]
        Some("payments") => {
            let quick = args.iter().any(|a| a == "--quick");
            println!("{}", payments::report(quick).context("benchmark failed")?);
            Ok(())
        }
        Some("kitchen") => {
            let quick = args.iter().any(|a| a == "--quick");
            println!("{}", kitchen::report(quick).context("benchmark failed")?);
            Ok(())
        }
        #[cfg(target_os = "linux")]
        Some("soak") => {
            println!("{}", soak::run(&args[1..]).context("soak failed")?);
            Ok(())
        }
        Some("print") => {
            let quick = args.iter().any(|a| a == "--quick");
            println!("{}", print::report(quick).context("benchmark failed")?);
            Ok(())
        }
        _ => {
            eprintln!("usage: pispas-bench engine|devices|print|cache|payments|kitchen [--quick] | soak [--minutes N] [--rate R] [--out DIR] | echo-server --plain PORT --tls PORT --dir DIR");
            std::process::exit(2);
        }
    }
}

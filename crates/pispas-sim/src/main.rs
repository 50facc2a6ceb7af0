//! `pispas-sim`: the command-line face of the simulators; see `cli` and README.md.

use pispas_sim::cli::{self, Args};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty()
        || argv
            .iter()
            .any(|a| a == "--help" || a == "-h" || a == "help")
    {
        println!("{}", cli::USAGE);
        return Ok(());
    }
    let sub = argv.remove(0);
    let args = Args::new(argv);
    match sub.as_str() {
        "printer" => cli::printer::run(args).await,
        "scale" => cli::scale::run(args).await,
        "rfid" => cli::rfid::run(args).await,
        "paytef" => cli::paytef::run(args).await,
        "mypos" => cli::mypos::run(args).await,
        "gateway" => cli::gateway::run(args).await,
        other => anyhow::bail!("unknown simulator {other:?}\n\n{}", cli::USAGE),
    }
}

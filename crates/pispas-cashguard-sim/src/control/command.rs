//! Control commands, parsed once from a line by a pure function that names what is wrong.

use crate::scenario::Scenario;
use crate::settings::{parse_levels, parse_limit};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `insert <cents> [<cents>…]`: the customer inserts these notes/coins (one insert).
    Insert(Vec<u32>),
    /// `cancel`: the customer cancels at the machine; everything inserted comes back.
    Cancel,
    /// `stock [<denom>:<count>,…]`: set counts; without arguments, show them.
    Stock(Vec<(u32, u32)>),
    /// `refill <denom>:<count>,…`: add pieces (back-office refill, CashSession 1).
    Refill(Vec<(u32, u32)>),
    /// `jam` / `jam hard`.
    Jam {
        hard: bool,
    },
    /// `clear`: the technician removed the jammed note (a hard jam becomes resettable).
    Clear,
    /// `full <denom>`: that cassette is full (BLOCKED).
    Full(u32),
    /// `limit <cents>|off`: payout limit for payout2CG, counted from now.
    Limit(Option<i64>),
    /// `busy <n>`: the next n calls answer BUSY.
    Busy(u32),
    /// `scenario <name>`.
    Scenario(Scenario),
    /// `panic`: the next library call panics inside (to test the FFI's panic guard).
    Panic,
    /// `stats`: one JSON line ([`crate::stats::Stats`]).
    Stats,
    /// `stats reset`.
    StatsReset,
    Help,
    /// `quit`: close this connection.
    Quit,
}

pub const HELP: &str = "commands: insert <cents>... | cancel | stock [d:n,...] | refill d:n,... | jam [hard] | clear | \
full <denom> | limit <cents>|off | busy <n> | scenario <pays-with-change|not-enough-change|customer-cancels|\
jam-mid-payment|recycler-full|busy> | panic | stats | stats reset | help | quit";

impl Command {
    /// Parses one line. Fails with a message naming the bad word.
    pub fn parse(line: &str) -> Result<Command, String> {
        let mut words = line.split_whitespace();
        let verb = words.next().ok_or("empty command")?.to_ascii_lowercase();
        let rest: Vec<&str> = words.collect();
        let one = |what: &str| -> Result<&str, String> {
            match rest.as_slice() {
                [w] => Ok(*w),
                _ => Err(format!("{verb}: expected one argument ({what})")),
            }
        };
        let none = |cmd: Command| {
            if rest.is_empty() {
                Ok(cmd)
            } else {
                Err(format!("{verb}: takes no argument"))
            }
        };
        match verb.as_str() {
            "insert" => {
                if rest.is_empty() {
                    return Err("insert: expected amounts in cents, e.g. insert 2000 500".into());
                }
                rest.iter()
                    .map(|w| {
                        w.parse::<u32>()
                            .ok()
                            .filter(|&v| v > 0)
                            .ok_or_else(|| format!("insert: {w} is not an amount in cents"))
                    })
                    .collect::<Result<_, _>>()
                    .map(Command::Insert)
            }
            "cancel" => none(Command::Cancel),
            "stock" => parse_levels(&rest.join(",")).map(Command::Stock),
            "refill" => {
                let levels = parse_levels(&rest.join(","))?;
                if levels.is_empty() {
                    return Err("refill: expected denom:count,...".into());
                }
                Ok(Command::Refill(levels))
            }
            "jam" => match rest.as_slice() {
                [] => Ok(Command::Jam { hard: false }),
                ["hard"] => Ok(Command::Jam { hard: true }),
                _ => Err("jam: expected nothing or `hard`".into()),
            },
            "clear" => none(Command::Clear),
            "full" => one("denomination in cents")?
                .parse()
                .map(Command::Full)
                .map_err(|_| "full: expected a denomination in cents".into()),
            "limit" => parse_limit(one("cents or off")?).map(Command::Limit),
            "busy" => one("number of calls")?
                .parse()
                .map(Command::Busy)
                .map_err(|_| "busy: expected a number of calls".into()),
            "scenario" => one("name")?.parse().map(Command::Scenario),
            "panic" => none(Command::Panic),
            "stats" => match rest.as_slice() {
                [] => Ok(Command::Stats),
                ["reset"] => Ok(Command::StatsReset),
                _ => Err("stats: expected nothing or `reset`".into()),
            },
            "help" => Ok(Command::Help),
            "quit" | "exit" => Ok(Command::Quit),
            other => Err(format!("unknown command {other}; try help")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_takes_several_amounts() {
        assert_eq!(
            Command::parse("insert 2000 500").unwrap(),
            Command::Insert(vec![2000, 500])
        );
        assert!(Command::parse("insert 20.00")
            .unwrap_err()
            .contains("20.00"));
        assert!(Command::parse("insert").is_err());
    }

    #[test]
    fn stock_accepts_commas_and_spaces() {
        assert_eq!(
            Command::parse("stock 500:10, 1000:8").unwrap(),
            Command::Stock(vec![(500, 10), (1000, 8)])
        );
        assert_eq!(Command::parse("stock").unwrap(), Command::Stock(vec![]));
    }

    #[test]
    fn scenarios_parse_by_name_and_unknown_ones_list_the_known() {
        assert_eq!(
            Command::parse("scenario busy").unwrap(),
            Command::Scenario(Scenario::Busy)
        );
        assert!(Command::parse("scenario nope")
            .unwrap_err()
            .contains("jam-mid-payment"));
    }

    #[test]
    fn the_rest_parse() {
        assert_eq!(
            Command::parse("JAM hard").unwrap(),
            Command::Jam { hard: true }
        );
        assert_eq!(Command::parse("limit off").unwrap(), Command::Limit(None));
        assert_eq!(
            Command::parse("limit 5000").unwrap(),
            Command::Limit(Some(5000))
        );
        assert_eq!(Command::parse("full 2000").unwrap(), Command::Full(2000));
        assert_eq!(Command::parse("stats reset").unwrap(), Command::StatsReset);
        assert!(Command::parse("").is_err());
        assert!(Command::parse("fly")
            .unwrap_err()
            .contains("unknown command"));
    }
}

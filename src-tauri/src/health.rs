//! What the tray shows: one level (ok, attention, problem, starting) and the sentences behind it,
//! worked out from the host's state, each module's health and the last DEVICE_STATE of every
//! device. Pure functions of their inputs, so they are tested without a window.

use pispas_modules::events::Severity;
use pispas_modules::router::ModuleInfo;
use pispas_modules::status::RecordedDevice;
use pispas_modules::HostState;

/// The tray icon's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Ok,
    Starting,
    Attention,
    Problem,
}

/// The tray's summary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summary {
    pub level: Level,
    /// The status line at the top of the tray menu.
    pub line: String,
    /// The tooltip: what is wrong, one thing per line.
    pub tooltip: String,
}

/// The tray's level for an engine severity.
pub(crate) fn level(severity: Severity) -> Level {
    match severity {
        Severity::Ok => Level::Ok,
        Severity::Attention => Level::Attention,
        Severity::Problem => Level::Problem,
    }
}

/// Works out the summary from the host state; `modules` and `devices` are the engine's
/// directory and recorded device states when it runs.
pub(crate) fn summarize(
    state: &HostState,
    modules: &[ModuleInfo],
    devices: &[RecordedDevice],
) -> Summary {
    let (addr, clients) = match state {
        HostState::Starting => {
            return Summary {
                level: Level::Starting,
                line: "Pispas: starting…".into(),
                tooltip: "Pispas local service: starting".into(),
            }
        }
        HostState::Stopped => {
            return Summary {
                level: Level::Problem,
                line: "Pispas: stopped".into(),
                tooltip: "Pispas local service: stopped".into(),
            }
        }
        HostState::Failed { message, .. } => {
            return Summary {
                level: Level::Problem,
                line: "Pispas: not running — open Status".into(),
                tooltip: format!("Pispas local service is not running: {message}"),
            }
        }
        HostState::Running(handle) => (handle.local_addr(), handle.status.connections_open()),
    };
    let mut level = Level::Ok;
    let mut problems = Vec::new();
    for m in modules {
        let sev = self::level(m.health.state.severity());
        if sev > Level::Ok {
            level = level.max(sev);
            problems.push(format!("{}: {}", m.target, m.health.detail));
        }
    }
    for d in devices {
        let sev = self::level(d.state.state.severity());
        if sev > Level::Ok {
            level = level.max(sev);
            let detail = if d.state.detail.is_empty() {
                d.state.state.as_str()
            } else {
                &d.state.detail
            };
            problems.push(format!("{}: {detail}", d.state.device));
        }
    }
    let clients = match clients {
        1 => "1 client".to_string(),
        n => format!("{n} clients"),
    };
    let line = match (level, problems.first()) {
        (Level::Ok, _) | (_, None) => {
            format!("Pispas: running on port {} — {clients}", addr.port())
        }
        (_, Some(first)) if problems.len() == 1 => format!("Pispas: {first}"),
        (_, Some(first)) => format!("Pispas: {first} (+{} more)", problems.len() - 1),
    };
    let tooltip = if problems.is_empty() {
        format!("Pispas local service: running on {addr}, {clients}; every device reachable")
    } else {
        format!("Pispas local service on {addr}:\n{}", problems.join("\n"))
    };
    Summary {
        level,
        line,
        tooltip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_start_is_a_problem_saying_why() {
        let s = summarize(
            &HostState::Failed {
                message: "port 5005 is in use".into(),
                port_in_use: Some(5005),
            },
            &[],
            &[],
        );
        assert_eq!(s.level, Level::Problem);
        assert!(s.tooltip.contains("port 5005"));
    }

    #[test]
    fn engine_severities_map_to_levels() {
        assert_eq!(level(Severity::Ok), Level::Ok);
        assert_eq!(level(Severity::Attention), Level::Attention);
        assert_eq!(level(Severity::Problem), Level::Problem);
    }
}

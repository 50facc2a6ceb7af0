//! What the tray shows: one level (ok, attention, problem, starting) and the sentences behind it,
//! worked out from the host's state, each module's health and the last DEVICE_STATE of every
//! device. Pure functions of their inputs, so they are tested without a window.

use pispas_modules::HostState;
use serde_json::Value;

/// The tray icon's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Starting,
    Attention,
    Problem,
}

/// The tray's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub level: Level,
    /// The status line at the top of the tray menu.
    pub line: String,
    /// The tooltip: what is wrong, one thing per line.
    pub tooltip: String,
}

/// How serious a device or module state word is.
pub fn severity(state: &str) -> Level {
    match state.to_ascii_uppercase().as_str() {
        "OK" | "ONLINE" | "READY" | "IDLE" | "CONNECTED" => Level::Ok,
        "WARNING" | "DEGRADED" | "PAPER_LOW" | "NEAR_END" | "BUSY" => Level::Attention,
        _ => Level::Problem,
    }
}

/// Works out the summary from the host state; `modules` and `devices` are the engine's
/// `EngineInfo::modules()` and `devices()` when it runs.
pub fn summarize(state: &HostState, modules: &Value, devices: &[Value]) -> Summary {
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
        HostState::Running(handle) => (handle.local_addr(), handle.info.stats.connections_open()),
    };
    let mut level = Level::Ok;
    let mut problems = Vec::new();
    for m in modules.as_array().into_iter().flatten() {
        let target = m["TARGET"].as_str().unwrap_or("?");
        let detail = m["DETAIL"].as_str().unwrap_or("");
        let sev = match m["STATE"].as_str().unwrap_or("OK") {
            // A module listed in MODULES but not part of this build needs attention, not alarm.
            "DOWN" if detail.contains("not available") => Level::Attention,
            s => severity(s),
        };
        if sev > Level::Ok {
            level = level.max(sev);
            problems.push(format!("{target}: {detail}"));
        }
    }
    for d in devices {
        let sev = severity(d["STATE"].as_str().unwrap_or("ERROR"));
        if sev > Level::Ok {
            level = level.max(sev);
            let name = d["DEVICE"].as_str().unwrap_or("device");
            let detail = d["DETAIL"]
                .as_str()
                .or_else(|| d["STATE"].as_str())
                .unwrap_or("");
            problems.push(format!("{name}: {detail}"));
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
    use serde_json::json;

    #[test]
    fn a_failed_start_is_a_problem_saying_why() {
        let s = summarize(
            &HostState::Failed {
                message: "port 5005 is in use".into(),
                port_in_use: Some(5005),
            },
            &json!([]),
            &[],
        );
        assert_eq!(s.level, Level::Problem);
        assert!(s.tooltip.contains("port 5005"));
    }

    #[test]
    fn device_words_map_to_levels() {
        assert_eq!(severity("online"), Level::Ok);
        assert_eq!(severity("PAPER_LOW"), Level::Attention);
        assert_eq!(severity("OFFLINE"), Level::Problem);
        assert_eq!(severity("PAPER_OUT"), Level::Problem);
    }
}

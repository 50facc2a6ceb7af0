//! ORDER_KITCHEN's keys → [`KitchenConfig`]: stations, routing by category, stages and their
//! alert times, retention, kitchen printers (KITCHEN_PRINT_<STATION>, KITCHEN_PRINT_WHEN). Pure;
//! errors start with the key. The LAN listener is not read here (not built yet).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// The default stages, in order; the last one is "served" (the ticket leaves the screen).
pub const DEFAULT_STAGES: &[&str] = &["NEW", "PREPARING", "READY", "SERVED"];
/// The default station when KITCHEN_STATIONS is not set.
pub const DEFAULT_STATION: &str = "KITCHEN";
/// Hours a served or voided ticket is kept (for RECALL and support) by default.
pub const DEFAULT_RETENTION_H: u64 = 24;

#[derive(Debug, Clone, PartialEq)]
pub struct KitchenConfig {
    /// Stations in order; the first takes lines nothing else routes.
    pub stations: Vec<String>,
    /// CATEGORY (upper case) → station.
    pub routes: BTreeMap<String, String>,
    /// Stages in order (at least 2); the last is served.
    pub stages: Vec<String>,
    /// Seconds a ticket may stay in a stage before its card changes colour (stage → seconds).
    pub alerts: BTreeMap<String, u64>,
    /// How long served and voided tickets, their events and request keys are kept.
    pub retention_ms: u64,
    /// Station → the PRINT printer its chits go to.
    pub printers: BTreeMap<String, String>,
    /// When a station with a printer gets chits.
    pub print_when: PrintWhen,
    /// Where the kitchen LAN listener listens (KITCHEN_LAN=on), for paired tablets.
    pub lan: Option<SocketAddr>,
}

/// KITCHEN_LAN_PORT's default.
pub const DEFAULT_LAN_PORT: u16 = 8082;

/// KITCHEN_LAN, KITCHEN_LAN_HOST and KITCHEN_LAN_PORT: where tablets connect, or `None` when off.
fn lan(values: &BTreeMap<String, String>) -> Result<Option<SocketAddr>, String> {
    let on = match values
        .get("KITCHEN_LAN")
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => false,
        Some(v) if v.is_empty() || v == "off" => false,
        Some(v) if v == "on" => true,
        Some(_) => return Err("KITCHEN_LAN: on or off".into()),
    };
    let host: IpAddr = match values.get("KITCHEN_LAN_HOST").map(|v| v.trim()) {
        None | Some("") => IpAddr::from([0, 0, 0, 0]),
        Some(v) => v.parse().map_err(|_| {
            format!("KITCHEN_LAN_HOST: {v:?} is not an IP address (0.0.0.0 for every network)")
        })?,
    };
    let port: u16 = match values.get("KITCHEN_LAN_PORT").map(|v| v.trim()) {
        None | Some("") => DEFAULT_LAN_PORT,
        Some(v) => v
            .parse()
            .map_err(|_| format!("KITCHEN_LAN_PORT: {v:?} is not a port number (0 to 65535)"))?,
    };
    Ok(on.then_some(SocketAddr::new(host, port)))
}

/// KITCHEN_PRINT_WHEN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintWhen {
    /// Every chit is printed, displays or not (the default: paper is the fallback a head chef
    /// trusts when a screen freezes).
    Always,
    /// Only while no display of that station (or EXPO) is subscribed.
    NoDisplay,
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn name_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl KitchenConfig {
    /// Reads the KITCHEN_* keys.
    ///
    /// Fails naming the key: an empty or malformed station or stage list, a route to a station
    /// that is not listed, an alert that is not `STAGE:seconds`, a retention that is not hours.
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<KitchenConfig, String> {
        let stations = match values.get("KITCHEN_STATIONS") {
            Some(v) => list(v),
            None => vec![DEFAULT_STATION.to_string()],
        };
        if stations.is_empty() || !stations.iter().all(|s| name_ok(s)) {
            return Err(
                "KITCHEN_STATIONS: list station names (letters, digits, _), e.g. GRILL,COLD,BAR"
                    .into(),
            );
        }
        let stages = match values.get("KITCHEN_STAGES") {
            Some(v) => list(v),
            None => DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
        };
        if stages.len() < 2 || !stages.iter().all(|s| name_ok(s)) {
            return Err("KITCHEN_STAGES: at least two stage names in order, the last one served, e.g. NEW,PREPARING,READY,SERVED".into());
        }
        let mut seen = std::collections::HashSet::new();
        if !stages.iter().all(|s| seen.insert(s.clone())) {
            return Err("KITCHEN_STAGES: a stage is listed twice".into());
        }
        let mut routes = BTreeMap::new();
        for (k, v) in values {
            if let Some(category) = k.strip_prefix("KITCHEN_ROUTE_") {
                let station = v.trim().to_ascii_uppercase();
                if !stations.contains(&station) {
                    return Err(format!(
                        "{k}: {station:?} is not one of KITCHEN_STATIONS ({})",
                        stations.join(",")
                    ));
                }
                routes.insert(category.to_ascii_uppercase(), station);
            }
        }
        let mut alerts = BTreeMap::new();
        if let Some(v) = values.get("KITCHEN_ALERTS") {
            for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let parsed = item.split_once(':').and_then(|(stage, secs)| {
                    let stage = stage.trim().to_ascii_uppercase();
                    let secs: u64 = secs.trim().parse().ok()?;
                    stages.contains(&stage).then_some((stage, secs))
                });
                match parsed {
                    Some((stage, secs)) => {
                        alerts.insert(stage, secs);
                    }
                    None => {
                        return Err(format!(
                            "KITCHEN_ALERTS: {item:?} is not STAGE:seconds with a stage of KITCHEN_STAGES"
                        ))
                    }
                }
            }
        } else {
            for (stage, secs) in [("NEW", 300), ("PREPARING", 900), ("READY", 300)] {
                if stages.iter().any(|s| s == stage) {
                    alerts.insert(stage.to_string(), secs);
                }
            }
        }
        let retention_h = match values.get("KITCHEN_RETENTION") {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|h| *h <= 24 * 90)
                .ok_or("KITCHEN_RETENTION: hours served tickets are kept, 0 to 2160")?,
            None => DEFAULT_RETENTION_H,
        };
        let print_when = match values
            .get("KITCHEN_PRINT_WHEN")
            .map(|v| v.trim().to_ascii_lowercase())
        {
            None => PrintWhen::Always,
            Some(v) if v == "always" => PrintWhen::Always,
            Some(v) if v == "no_display" => PrintWhen::NoDisplay,
            Some(_) => return Err("KITCHEN_PRINT_WHEN: always or no_display".into()),
        };
        let mut printers = BTreeMap::new();
        for (k, v) in values {
            let Some(station) = k.strip_prefix("KITCHEN_PRINT_") else {
                continue;
            };
            if station == "WHEN" {
                continue;
            }
            let station = station.to_ascii_uppercase();
            if !stations.contains(&station) {
                return Err(format!(
                    "{k}: {station:?} is not one of KITCHEN_STATIONS ({})",
                    stations.join(",")
                ));
            }
            let printer = v.trim().to_ascii_uppercase();
            if printer.is_empty() {
                return Err(format!(
                    "{k}: the name of a printer (PRINTER_<NAME>), e.g. KITCHEN"
                ));
            }
            printers.insert(station, printer);
        }
        Ok(KitchenConfig {
            stations,
            routes,
            stages,
            alerts,
            retention_ms: retention_h * 3_600_000,
            printers,
            print_when,
            lan: lan(values)?,
        })
    }

    /// The index of the stage a ticket reaches by itself when every line is done: READY if
    /// listed, else the one before served.
    pub fn ready_index(&self) -> usize {
        self.stages
            .iter()
            .position(|s| s == "READY")
            .unwrap_or(self.stages.len().saturating_sub(2))
    }

    /// The index of the last stage (served).
    pub fn served_index(&self) -> usize {
        self.stages.len() - 1
    }

    /// Where a line goes: its STATION (must be listed), else its CATEGORY's route, else the
    /// first station. `Err` names the unknown station.
    pub fn route(&self, station: Option<&str>, category: Option<&str>) -> Result<String, String> {
        if let Some(s) = station {
            let s = s.to_ascii_uppercase();
            return if self.stations.contains(&s) {
                Ok(s)
            } else {
                Err(format!(
                    "STATION {s:?} is not one of KITCHEN_STATIONS ({})",
                    self.stations.join(",")
                ))
            };
        }
        if let Some(station) = category.and_then(|c| self.routes.get(&c.to_ascii_uppercase())) {
            return Ok(station.clone());
        }
        Ok(self.stations[0].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<KitchenConfig, String> {
        KitchenConfig::from_values(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_are_one_kitchen_station_and_four_stages() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.stations, vec!["KITCHEN"]);
        assert_eq!(c.stages, vec!["NEW", "PREPARING", "READY", "SERVED"]);
        assert_eq!(c.ready_index(), 2);
        assert_eq!(c.served_index(), 3);
        assert_eq!(c.retention_ms, 24 * 3_600_000);
    }

    #[test]
    fn lines_route_by_station_then_category_then_the_first_station() {
        let c = cfg(&[
            ("KITCHEN_STATIONS", "grill, cold,BAR"),
            ("KITCHEN_ROUTE_DRINKS", "bar"),
        ])
        .unwrap();
        assert_eq!(c.route(Some("cold"), Some("drinks")).unwrap(), "COLD");
        assert_eq!(c.route(None, Some("Drinks")).unwrap(), "BAR");
        assert_eq!(c.route(None, Some("mains")).unwrap(), "GRILL");
        assert!(c
            .route(Some("PASTRY"), None)
            .unwrap_err()
            .starts_with("STATION"));
    }

    #[test]
    fn the_lan_listener_is_off_unless_asked_and_its_address_is_checked() {
        assert_eq!(cfg(&[]).unwrap().lan, None);
        assert_eq!(
            cfg(&[("KITCHEN_LAN", "on")]).unwrap().lan,
            Some("0.0.0.0:8082".parse().unwrap())
        );
        assert_eq!(
            cfg(&[
                ("KITCHEN_LAN", "on"),
                ("KITCHEN_LAN_HOST", "192.168.1.20"),
                ("KITCHEN_LAN_PORT", "9000")
            ])
            .unwrap()
            .lan,
            Some("192.168.1.20:9000".parse().unwrap())
        );
        for (k, v) in [
            ("KITCHEN_LAN", "yes"),
            ("KITCHEN_LAN_HOST", "kitchen"),
            ("KITCHEN_LAN_PORT", "70000"),
        ] {
            assert!(
                cfg(&[("KITCHEN_LAN", "on"), (k, v)])
                    .unwrap_err()
                    .starts_with(k),
                "{k}"
            );
        }
    }

    #[test]
    fn bad_keys_are_named() {
        let e = cfg(&[("KITCHEN_ROUTE_X", "NOWHERE")]).unwrap_err();
        assert!(e.starts_with("KITCHEN_ROUTE_X"), "{e}");
        assert!(cfg(&[("KITCHEN_STAGES", "ONLY")])
            .unwrap_err()
            .starts_with("KITCHEN_STAGES"));
        assert!(cfg(&[("KITCHEN_ALERTS", "NEW:soon")])
            .unwrap_err()
            .starts_with("KITCHEN_ALERTS"));
        assert!(cfg(&[("KITCHEN_RETENTION", "-1")])
            .unwrap_err()
            .starts_with("KITCHEN_RETENTION"));
        assert!(cfg(&[("KITCHEN_PRINT_PASTRY", "KITCHEN")])
            .unwrap_err()
            .starts_with("KITCHEN_PRINT_PASTRY"));
        assert!(cfg(&[("KITCHEN_PRINT_WHEN", "sometimes")])
            .unwrap_err()
            .starts_with("KITCHEN_PRINT_WHEN"));
    }

    #[test]
    fn kitchen_printers_are_per_station_and_print_always_by_default() {
        let c = cfg(&[
            ("KITCHEN_STATIONS", "GRILL,BAR"),
            ("KITCHEN_PRINT_GRILL", "kitchen"),
        ])
        .unwrap();
        assert_eq!(c.printers.get("GRILL").map(String::as_str), Some("KITCHEN"));
        assert_eq!(c.printers.get("BAR"), None);
        assert_eq!(c.print_when, PrintWhen::Always);
        let c = cfg(&[("KITCHEN_PRINT_WHEN", "no_display")]).unwrap();
        assert_eq!(c.print_when, PrintWhen::NoDisplay);
    }
}

//! The kitchen's request parser and state machine as one fuzz target (tests/fuzz.rs): each frame
//! is read as a request, parsed as an ORDER_KITCHEN action and, when it changes tickets, applied
//! to one kitchen, as the module does (without its store). After every step the rules that keep
//! a Saturday night safe must hold; the first one broken is returned as text.

use super::action::Action;
use super::config::KitchenConfig;
use super::state::{Kitchen, Ticket};
use crate::protocol::parse_request;
use std::collections::BTreeMap;

/// Runs `frames` through the parser and the state machine (stations GRILL and COLD, the default
/// stages). `Err` names the rule broken: the sequence went back or skipped, an event has a
/// sequence that is not the next, LAST_SEQ replay disagrees with what was published, or a
/// stored ticket does not read back as itself.
pub fn run(frames: &[String]) -> Result<(), String> {
    let values = BTreeMap::from([("KITCHEN_STATIONS".to_string(), "GRILL,COLD".to_string())]);
    let cfg = KitchenConfig::from_values(&values).map_err(|e| format!("config: {e}"))?;
    let mut k = Kitchen::new(cfg, Vec::new(), 0, Vec::new());
    let mut now = 1_000_000u64;
    for (i, frame) in frames.iter().enumerate() {
        now += 1_000;
        let Ok(request) = parse_request(frame) else {
            continue;
        };
        let Ok(action) = Action::parse(&request) else {
            continue;
        };
        let before = k.seq();
        let Some(applied) = k.apply(action, "DISPLAY", now) else {
            // Reads must not change anything and must render.
            let _ = k.list(None);
            let _ = k.counts();
            if k.seq() != before {
                return Err(format!("frame {i}: a read moved the sequence"));
            }
            continue;
        };
        let Ok(applied) = applied else {
            if k.seq() != before {
                return Err(format!("frame {i}: a refused action moved the sequence"));
            }
            continue;
        };
        for (n, e) in applied.events.iter().enumerate() {
            if e.seq != before + 1 + n as u64 {
                return Err(format!(
                    "frame {i}: event {n} has seq {} after {before}",
                    e.seq
                ));
            }
        }
        if k.seq() != before + applied.events.len() as u64 {
            return Err(format!(
                "frame {i}: sequence {} after {before} and {} events",
                k.seq(),
                applied.events.len()
            ));
        }
        let replay = k.since(before).ok_or_else(|| {
            format!("frame {i}: LAST_SEQ {before} gives a snapshot, not a replay")
        })?;
        if replay.len() != applied.events.len() {
            return Err(format!(
                "frame {i}: replay has {} events, {} were published",
                replay.len(),
                applied.events.len()
            ));
        }
        for t in &applied.tickets {
            let stored = serde_json::to_string(t).map_err(|e| format!("frame {i}: {e}"))?;
            let back: Ticket = serde_json::from_str(&stored)
                .map_err(|e| format!("frame {i}: ticket {} does not read back: {e}", t.id))?;
            if &back != t {
                return Err(format!("frame {i}: ticket {} reads back different", t.id));
            }
            if k.ticket(&t.id) != Some(t) {
                return Err(format!(
                    "frame {i}: ticket {} stored is not the one kept",
                    t.id
                ));
            }
        }
        let _ = k.list(Some("GRILL"));
    }
    Ok(())
}

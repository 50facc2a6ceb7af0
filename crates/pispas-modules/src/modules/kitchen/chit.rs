//! Kitchen chits: what a station's printer prints for one version of a ticket. A new ticket
//! prints its lines; an UPDATE or VOID prints only what changed, under `** UPDATE **` (`ADD`,
//! `REFIRE`, `CANCEL`, `VOID`, `NOTE`). Pure: tickets in, text out; sending it to PRINT is
//! `printers.rs`.
//!
//! A chit's key (the print job's UUIDV4) is derived from ticket id + version + station, so the
//! same version of a ticket can never make two jobs: not on a retry, not after a restart.

use super::config::KitchenConfig;
use super::model::{Line, Ticket};

/// One chit for one station's printer.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Chit {
    /// The print job's UUIDV4, derived from ticket, version and station.
    pub(super) uuid: String,
    pub(super) ticket_id: String,
    pub(super) station: String,
    pub(super) printer: String,
    pub(super) text: String,
}

/// The UUIDV4 of the chit of `ticket` at `version` for `station`: a SHA-256 of the three,
/// shaped as a version 4 UUID (the PRINT queue keeps its jobs UNIQUE by it).
pub(super) fn chit_uuid(ticket: &str, version: u32, station: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("pispas-kitchen-chit\0{ticket}\0{version}\0{station}").as_bytes(),
    );
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The chits a change from `before` (None: a new ticket) to `after` makes, one per station that
/// has a printer and something to print. Nothing when the version did not change (cook actions,
/// a duplicate SEND).
pub(super) fn chits(before: Option<&Ticket>, after: &Ticket, cfg: &KitchenConfig) -> Vec<Chit> {
    if before.is_some_and(|b| b.version == after.version) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (station, printer) in &cfg.printers {
        let body = match before {
            None => new_lines(after, station),
            Some(b) => changed_lines(b, after, station),
        };
        if body.is_empty() {
            continue;
        }
        let mut text = String::new();
        if before.is_some() {
            text.push_str("** UPDATE **\n");
        }
        text.push_str(&header(after, station));
        for l in body {
            text.push_str(&l);
            text.push('\n');
        }
        out.push(Chit {
            uuid: chit_uuid(&after.id, after.version, station),
            ticket_id: after.id.clone(),
            station: station.clone(),
            printer: printer.clone(),
            text,
        });
    }
    out
}

fn header(t: &Ticket, station: &str) -> String {
    let mut h = format!("{station}  #{}\n", t.order.as_deref().unwrap_or(&t.id));
    if let Some(table) = &t.table {
        h.push_str(&format!("TABLE {table}"));
        if let Some(g) = t.guests {
            h.push_str(&format!("  ({g} pax)"));
        }
        h.push('\n');
    }
    h.push_str(&t.channel.to_ascii_uppercase());
    if let Some(c) = &t.course {
        h.push_str(&format!("  {c}"));
    }
    if t.priority {
        h.push_str("  RUSH");
    }
    h.push_str("\n--------------------------------\n");
    h
}

fn details(l: &Line, out: &mut Vec<String>) {
    for m in &l.modifiers {
        out.push(format!("   - {m}"));
    }
    if let Some(n) = &l.note {
        out.push(format!("   NOTE: {n}"));
    }
    if !l.allergens.is_empty() {
        out.push(format!(
            "   ALLERGY: {}",
            l.allergens.join(", ").to_uppercase()
        ));
    }
}

fn new_lines(t: &Ticket, station: &str) -> Vec<String> {
    let mut out = Vec::new();
    for l in t.lines.iter().filter(|l| l.station == station && !l.voided) {
        out.push(format!("{}x {}", l.qty, l.name));
        details(l, &mut out);
    }
    if !out.is_empty() {
        if let Some(n) = &t.note {
            out.push(format!("NOTE: {n}"));
        }
    }
    out
}

fn changed_lines(b: &Ticket, a: &Ticket, station: &str) -> Vec<String> {
    let mut out = Vec::new();
    let whole_void = a.voided && !b.voided;
    for l in a.lines.iter().filter(|l| l.station == station) {
        let Some(old) = b.lines.iter().find(|o| o.id == l.id) else {
            if !l.voided {
                out.push(format!("ADD {}x {}", l.qty, l.name));
                details(l, &mut out);
            }
            continue;
        };
        if old.voided {
            continue;
        }
        if l.voided || whole_void {
            out.push(format!("VOID {}x {}", old.qty, l.name));
            continue;
        }
        if l.cancelled > old.cancelled {
            out.push(format!(
                "CANCEL {}x {}  (now {}x)",
                l.cancelled - old.cancelled,
                l.name,
                l.qty
            ));
        }
        // What is left of the old quantity after this change's cancels; more than that is a
        // re-fire.
        let kept = old
            .qty
            .saturating_sub(l.cancelled.saturating_sub(old.cancelled));
        if l.qty > kept {
            out.push(format!("REFIRE +{}x {}", l.qty - kept, l.name));
        }
        if l.note != old.note {
            out.push(format!(
                "NOTE {}: {}",
                l.name,
                l.note.as_deref().unwrap_or("(removed)")
            ));
        }
    }
    if whole_void && !out.is_empty() {
        out.insert(0, "** VOID TICKET **".into());
    }
    if !out.is_empty() && a.note != b.note {
        out.push(format!(
            "NOTE: {}",
            a.note.as_deref().unwrap_or("(removed)")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::kitchen::action::LineInput;
    use std::collections::BTreeMap;

    fn cfg() -> KitchenConfig {
        let mut v = BTreeMap::new();
        v.insert("KITCHEN_STATIONS".into(), "GRILL,BAR".into());
        v.insert("KITCHEN_PRINT_GRILL".into(), "KITCHEN".into());
        KitchenConfig::from_values(&v).unwrap()
    }

    fn line(id: &str, qty: u32, name: &str, station: &str) -> Line {
        let mut l = Line::from_input(
            LineInput {
                id: id.into(),
                qty,
                name: name.into(),
                modifiers: vec!["no onion".into()],
                note: None,
                allergens: vec![],
                seat: None,
                station: None,
                category: None,
            },
            station.into(),
            false,
        );
        l.modifiers.retain(|_| name == "Burger");
        l
    }

    fn ticket() -> Ticket {
        let v: serde_json::Value = serde_json::json!({
            "TICKET": "T1", "ORDER": "A-1", "TABLE": "7", "GUESTS": null, "CHANNEL": "dine-in",
            "COURSE": null, "FIRE_AT": null, "PRIORITY": false, "NOTE": null, "NOTE_CHANGED": false,
            "STAGE": "NEW", "STAGE_AT": 0, "CREATED_AT": 0, "UPDATED_AT": 0, "VERSION": 1,
            "ARRIVAL": 1, "VOIDED": false, "VOID_ACKED": false, "DUPLICATE_AT": null,
            "DUPLICATES": 0, "HISTORY": [], "LINES": []
        });
        let mut t: Ticket = serde_json::from_value(v).unwrap();
        t.lines = vec![line("1", 2, "Burger", "GRILL"), line("2", 1, "Cola", "BAR")];
        t
    }

    #[test]
    fn a_new_ticket_prints_its_stations_lines_only_on_printers_that_exist() {
        let c = chits(None, &ticket(), &cfg());
        assert_eq!(c.len(), 1, "BAR has no printer");
        assert_eq!(c[0].printer, "KITCHEN");
        assert!(
            c[0].text.contains("2x Burger\n   - no onion"),
            "{}",
            c[0].text
        );
        assert!(!c[0].text.contains("Cola"));
        assert!(!c[0].text.contains("UPDATE"));
    }

    #[test]
    fn the_same_version_prints_nothing_and_keys_differ_by_version_and_station() {
        let t = ticket();
        assert!(chits(Some(&t), &t, &cfg()).is_empty());
        assert_eq!(chit_uuid("T1", 1, "GRILL"), chit_uuid("T1", 1, "GRILL"));
        assert_ne!(chit_uuid("T1", 1, "GRILL"), chit_uuid("T1", 2, "GRILL"));
        assert_ne!(chit_uuid("T1", 1, "GRILL"), chit_uuid("T1", 1, "BAR"));
        let u = chit_uuid("T1", 1, "GRILL");
        assert_eq!((u.len(), &u[14..15]), (36, "4"));
    }

    #[test]
    fn an_update_prints_only_what_changed_marked_as_an_update() {
        let b = ticket();
        let mut a = b.clone();
        a.version = 2;
        a.lines[0].qty = 1;
        a.lines[0].cancelled = 1;
        a.lines.push(line("3", 1, "Fries", "GRILL"));
        let c = chits(Some(&b), &a, &cfg());
        assert_eq!(c.len(), 1);
        let t = &c[0].text;
        assert!(t.starts_with("** UPDATE **\n"), "{t}");
        assert!(t.contains("CANCEL 1x Burger  (now 1x)"), "{t}");
        assert!(t.contains("ADD 1x Fries"), "{t}");
        assert!(!t.contains("\n2x Burger"), "{t}");
        assert_ne!(c[0].uuid, chits(None, &b, &cfg())[0].uuid);
    }

    #[test]
    fn a_voided_line_and_a_refire_are_printed_as_such() {
        let b = ticket();
        let mut a = b.clone();
        a.version = 2;
        a.lines[0].voided = true;
        let t = &chits(Some(&b), &a, &cfg())[0].text;
        assert!(t.contains("VOID 2x Burger"), "{t}");
        let mut r = b.clone();
        r.version = 2;
        r.lines[0].qty = 3;
        r.lines[0].refired = true;
        let t = &chits(Some(&b), &r, &cfg())[0].text;
        assert!(t.contains("REFIRE +1x Burger"), "{t}");
    }

    #[test]
    fn a_change_on_another_station_prints_nothing_here() {
        let b = ticket();
        let mut a = b.clone();
        a.version = 2;
        a.lines[1].voided = true;
        assert!(chits(Some(&b), &a, &cfg()).is_empty());
    }
}

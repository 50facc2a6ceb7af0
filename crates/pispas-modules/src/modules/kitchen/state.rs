//! The kitchen's tickets as a pure state machine: SEND, UPDATE, VOID, LINE_DONE, BUMP, RECALL,
//! SERVE and ACK turn the state and return what changed — the tickets to store and the events
//! to publish, each with the next sequence number. No I/O, no clock (the caller passes `now`),
//! no idempotency keys (the module keeps those): unit-tested here, stored by `store.rs`.
//!
//! The rules: a TICKET id is one ticket (a re-send is marked DUPLICATE, never a second card);
//! every line is routed to a station; a ticket whose active lines are all done moves to READY
//! by itself, and one that gets an undone line back leaves READY; RECALL undoes the last bump
//! (of a ticket, or by a display); served tickets and acknowledged voids leave the open list.

use super::action::{line_changes, Action, LineChange, TicketInput};
use super::config::KitchenConfig;
use super::error::KitchenError;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};

pub(super) use super::model::{EventAction, KitchenEvent, Line, Ticket};

/// Events kept in memory for SUBSCRIBE's LAST_SEQ replay; older ones get a snapshot.
pub(super) const RING: usize = 4096;
/// BY of the bump a ticket makes by itself when its last line is done.
pub(super) const AUTO: &str = "AUTO";

/// What one action changed: tickets to store, events to publish, and the reply.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Applied {
    pub(super) tickets: Vec<Ticket>,
    pub(super) events: Vec<KitchenEvent>,
    pub(super) reply: Value,
}

/// A published event as the replay ring keeps it: what RECALL looks at, and the event as JSON
/// text. Parsed, an event with its card took ~8.5 KiB; 4,096 of them were ~35 MiB of a busy
/// kitchen's memory (the soak in docs/reliability.md). A replay parses them back: displays
/// reconnect far less often than events are published.
#[derive(Debug)]
pub(super) struct Kept {
    pub(super) seq: u64,
    ticket: String,
    action: EventAction,
    by: String,
    /// The ticket's stage after the event (the card's `STAGE`).
    stage: Option<String>,
    json: Box<str>,
}

impl Kept {
    fn of(e: &KitchenEvent) -> Kept {
        Kept {
            seq: e.seq,
            ticket: e.ticket.clone(),
            action: e.action,
            by: e.by.clone(),
            stage: e.data["STAGE"].as_str().map(String::from),
            json: e.data.to_string().into_boxed_str(),
        }
    }

    /// The event as it was published.
    pub(super) fn data(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }
}

/// The tickets, the sequence and the recent events.
#[derive(Debug)]
pub(super) struct Kitchen {
    pub(super) cfg: KitchenConfig,
    tickets: BTreeMap<String, Ticket>,
    seq: u64,
    ring: VecDeque<Kept>,
}

impl Kitchen {
    /// Applies a changing action; `None` for the ones that only read (LIST, GET, STATUS,
    /// SUBSCRIBE, UNSUBSCRIBE). The POS's actions are `BY` "POS" unless it says; a display's are
    /// `default_by` (its connection or paired name) unless it says.
    pub(super) fn apply(
        &mut self,
        action: Action,
        default_by: &str,
        now: u64,
    ) -> Option<Result<Applied, KitchenError>> {
        Some(match action {
            Action::Send(t) => self.send(t, "POS", now),
            Action::Update {
                ticket,
                note,
                lines,
                by,
            } => self.update(&ticket, note, &lines, by.as_deref().unwrap_or("POS"), now),
            Action::Void { ticket, line, by } => self.void(
                &ticket,
                line.as_deref(),
                by.as_deref().unwrap_or("POS"),
                now,
            ),
            Action::LineDone { ticket, line, by } => {
                self.line_done(&ticket, &line, by.as_deref().unwrap_or(default_by), now)
            }
            Action::Bump { ticket, by } => {
                self.bump(&ticket, by.as_deref().unwrap_or(default_by), now)
            }
            Action::Recall { ticket, by } => {
                self.recall(ticket.as_deref(), by.as_deref().unwrap_or(default_by), now)
            }
            Action::Serve { ticket, by } => {
                self.serve(&ticket, by.as_deref().unwrap_or(default_by), now)
            }
            Action::Ack { ticket, line, by } => self.ack(
                &ticket,
                line.as_deref(),
                by.as_deref().unwrap_or(default_by),
                now,
            ),
            Action::List { .. }
            | Action::Get { .. }
            | Action::Status
            | Action::Subscribe { .. }
            | Action::Unsubscribe
            | Action::Pair { .. }
            | Action::Displays
            | Action::Revoke { .. } => return None,
        })
    }

    /// A kitchen with the stored tickets, the last sequence number and the newest events.
    pub(super) fn new(
        cfg: KitchenConfig,
        tickets: Vec<Ticket>,
        seq: u64,
        recent: Vec<KitchenEvent>,
    ) -> Kitchen {
        let skip = recent.len().saturating_sub(RING);
        let ring: VecDeque<Kept> = recent.iter().skip(skip).map(Kept::of).collect();
        Kitchen {
            cfg,
            tickets: tickets.into_iter().map(|t| (t.id.clone(), t)).collect(),
            seq,
            ring,
        }
    }

    pub(super) fn seq(&self) -> u64 {
        self.seq
    }

    pub(super) fn ticket(&self, id: &str) -> Option<&Ticket> {
        self.tickets.get(id)
    }

    /// Open tickets in arrival order; with a station, those with a line there (cards cut to it).
    pub(super) fn list(&self, station: Option<&str>) -> Vec<Value> {
        let mut open: Vec<&Ticket> = self
            .tickets
            .values()
            .filter(|t| t.is_open(&self.cfg))
            .filter(|t| station.is_none_or(|s| t.lines.iter().any(|l| l.station == s)))
            .collect();
        open.sort_by_key(|t| t.arrival);
        open.iter().map(|t| t.card(station)).collect()
    }

    /// Open tickets per station and the oldest open ticket's creation time.
    pub(super) fn counts(&self) -> (BTreeMap<String, usize>, usize, Option<u64>) {
        let mut per: BTreeMap<String, usize> =
            self.cfg.stations.iter().map(|s| (s.clone(), 0)).collect();
        let mut open = 0;
        let mut oldest = None;
        for t in self.tickets.values().filter(|t| t.is_open(&self.cfg)) {
            open += 1;
            oldest = Some(oldest.map_or(t.created_at, |o: u64| o.min(t.created_at)));
            let mut seen = std::collections::BTreeSet::new();
            for l in &t.lines {
                if seen.insert(&l.station) {
                    *per.entry(l.station.clone()).or_insert(0) += 1;
                }
            }
        }
        (per, open, oldest)
    }

    /// Events after `last_seq`, or `None` when some of them are no longer kept (or `last_seq`
    /// is from another database): the caller sends a snapshot instead.
    pub(super) fn since(&self, last_seq: u64) -> Option<Vec<&Kept>> {
        if last_seq > self.seq {
            return None;
        }
        if last_seq == self.seq {
            return Some(Vec::new());
        }
        let first = self.ring.front()?.seq;
        if last_seq + 1 < first {
            return None;
        }
        Some(self.ring.iter().filter(|e| e.seq > last_seq).collect())
    }

    /// Drops closed tickets last changed before `cutoff` (ms).
    pub(super) fn prune(&mut self, cutoff: u64) -> Vec<String> {
        let cfg = &self.cfg;
        let gone: Vec<String> = self
            .tickets
            .values()
            .filter(|t| !t.is_open(cfg) && t.updated_at < cutoff)
            .map(|t| t.id.clone())
            .collect();
        for id in &gone {
            self.tickets.remove(id);
        }
        gone
    }

    fn event(
        &mut self,
        t: &Ticket,
        action: EventAction,
        line: Option<&str>,
        by: &str,
        now: u64,
        extra: Value,
    ) -> KitchenEvent {
        self.seq += 1;
        let mut data = json!({
            "EVENT": "KITCHEN",
            "ACTION": action.as_str(),
            "TICKET": t.id,
            "LINE": line,
            "STAGE": t.stage,
            "BY": by,
            "AT": now,
            "SEQ": self.seq,
            "CARD": t.card(None),
        });
        if let (Some(m), Value::Object(e)) = (data.as_object_mut(), extra) {
            m.extend(e);
        }
        let ev = KitchenEvent {
            seq: self.seq,
            ticket: t.id.clone(),
            action,
            by: by.to_string(),
            at: now,
            data,
        };
        self.ring.push_back(Kept::of(&ev));
        if self.ring.len() > RING {
            self.ring.pop_front();
        }
        ev
    }

    fn open_ticket(&self, id: &str) -> Result<Ticket, KitchenError> {
        let t = self
            .tickets
            .get(id)
            .ok_or_else(|| KitchenError::TicketNotFound(id.to_string()))?;
        if t.voided {
            return Err(KitchenError::TicketClosed(id.to_string(), "voided"));
        }
        if t.served(&self.cfg) {
            return Err(KitchenError::TicketClosed(id.to_string(), "served"));
        }
        Ok(t.clone())
    }

    fn set_stage(&self, t: &mut Ticket, index: usize, now: u64) {
        t.stage.clone_from(&self.cfg.stages[index]);
        t.stage_at = now;
    }

    /// Moves to READY when every active line is done, back before READY when one is not.
    /// Returns whether the ticket reached READY by itself.
    fn settle(&self, t: &mut Ticket, now: u64) -> bool {
        let active: Vec<&Line> = t.lines.iter().filter(|l| !l.voided).collect();
        let all_done = !active.is_empty() && active.iter().all(|l| l.done);
        let ready = self.cfg.ready_index();
        let at = t.stage_index(&self.cfg);
        if all_done && at < ready {
            t.history.push(t.stage.clone());
            self.set_stage(t, ready, now);
            true
        } else {
            if !all_done
                && !active.is_empty()
                && at >= ready
                && at < self.cfg.served_index()
                && ready > 0
            {
                self.set_stage(t, ready - 1, now);
            }
            false
        }
    }

    fn commit(&mut self, t: Ticket, events: Vec<KitchenEvent>, reply: Value) -> Applied {
        self.tickets.insert(t.id.clone(), t.clone());
        Applied {
            tickets: vec![t],
            events,
            reply,
        }
    }

    fn reply(&self, t: &Ticket, extra: Value) -> Value {
        let mut r =
            json!({ "TICKET": t.id, "STAGE": t.stage, "SEQ": self.seq, "VERSION": t.version });
        if let (Some(m), Value::Object(e)) = (r.as_object_mut(), extra) {
            m.extend(e);
        }
        r
    }

    /// A new ticket, or the same TICKET id again: then the card is marked DUPLICATE, nothing
    /// else changes (never a second card).
    ///
    /// Fails when a line names a station that is not configured.
    pub(super) fn send(
        &mut self,
        input: TicketInput,
        by: &str,
        now: u64,
    ) -> Result<Applied, KitchenError> {
        if let Some(existing) = self.tickets.get(&input.id) {
            let mut t = existing.clone();
            t.duplicate_at = Some(now);
            t.duplicates += 1;
            t.updated_at = now;
            let ev = self.event(
                &t,
                EventAction::Sent,
                None,
                by,
                now,
                json!({ "DUPLICATE": true }),
            );
            let reply = self.reply(&t, json!({ "DUPLICATE": true }));
            return Ok(self.commit(t, vec![ev], reply));
        }
        let mut lines = Vec::with_capacity(input.lines.len());
        for l in input.lines {
            let station = self
                .cfg
                .route(l.station.as_deref(), l.category.as_deref())
                .map_err(KitchenError::BadParams)?;
            lines.push(Line::from_input(l, station, false));
        }
        let mut t = Ticket {
            id: input.id,
            order: input.order,
            table: input.table,
            guests: input.guests,
            channel: input.channel,
            course: input.course,
            fire_at: input.fire_at,
            priority: input.priority,
            note: input.note,
            note_changed: false,
            stage: self.cfg.stages[0].clone(),
            stage_at: now,
            created_at: now,
            updated_at: now,
            version: 1,
            arrival: self.seq + 1,
            voided: false,
            void_acked: false,
            duplicate_at: None,
            duplicates: 0,
            history: Vec::new(),
            lines,
        };
        t.arrival = self.seq + 1;
        let ev = self.event(
            &t,
            EventAction::Sent,
            None,
            by,
            now,
            json!({ "DUPLICATE": false }),
        );
        let reply = self.reply(&t, json!({ "DUPLICATE": false }));
        Ok(self.commit(t, vec![ev], reply))
    }

    /// A delta from the POS: new lines, cancelled or re-fired quantities, note changes.
    ///
    /// Fails for an unknown, served or voided ticket, a bad entry in LINES, or more cancelled
    /// than the line has.
    pub(super) fn update(
        &mut self,
        id: &str,
        note: Option<String>,
        lines: &[Value],
        by: &str,
        now: u64,
    ) -> Result<Applied, KitchenError> {
        let mut t = self.open_ticket(id)?;
        let changes = line_changes(lines, |l| t.lines.iter().any(|x| x.id == l))
            .map_err(|f| KitchenError::BadParams(f.message))?;
        if let Some(n) = note {
            t.note = Some(n);
            t.note_changed = true;
        }
        for change in changes {
            match change {
                LineChange::Add(l) => {
                    let station = self
                        .cfg
                        .route(l.station.as_deref(), l.category.as_deref())
                        .map_err(KitchenError::BadParams)?;
                    t.lines.push(Line::from_input(l, station, true));
                }
                LineChange::Change {
                    id: lid,
                    cancel,
                    add,
                    note,
                } => {
                    let line = t.line_mut(&lid)?;
                    if line.voided {
                        return Err(KitchenError::BadParams(format!("line {lid:?} is voided")));
                    }
                    if cancel > line.qty {
                        return Err(KitchenError::BadParams(format!(
                            "CANCEL_QTY {cancel} of line {lid:?} is more than its QTY {}",
                            line.qty
                        )));
                    }
                    line.qty -= cancel;
                    line.cancelled += cancel;
                    if line.qty == 0 {
                        line.voided = true;
                    }
                    if add > 0 {
                        line.qty += add;
                        line.refired = true;
                        line.done = false;
                    }
                    if let Some(n) = note {
                        line.note = Some(n);
                        line.note_changed = true;
                    }
                    line.acked = false;
                }
            }
        }
        t.version += 1;
        t.updated_at = now;
        self.settle(&mut t, now);
        let ev = self.event(&t, EventAction::Updated, None, by, now, json!({}));
        let reply = self.reply(&t, json!({}));
        Ok(self.commit(t, vec![ev], reply))
    }

    /// Voids a line, or the whole ticket; the card shows it struck through until ACK.
    ///
    /// Fails for an unknown ticket or line, or a ticket already served or voided.
    pub(super) fn void(
        &mut self,
        id: &str,
        line: Option<&str>,
        by: &str,
        now: u64,
    ) -> Result<Applied, KitchenError> {
        let mut t = self.open_ticket(id)?;
        match line {
            Some(l) => {
                let line = t.line_mut(l)?;
                line.voided = true;
                line.acked = false;
                self.settle(&mut t, now);
            }
            None => {
                t.voided = true;
                t.void_acked = false;
            }
        }
        t.version += 1;
        t.updated_at = now;
        let ev = self.event(&t, EventAction::Voided, line, by, now, json!({}));
        let reply = self.reply(&t, json!({}));
        Ok(self.commit(t, vec![ev], reply))
    }

    /// Toggles a line done; the last one done moves the ticket to READY (a second event,
    /// BUMPED by AUTO).
    ///
    /// Fails for an unknown, served or voided ticket, or an unknown or voided line.
    pub(super) fn line_done(
        &mut self,
        id: &str,
        line: &str,
        by: &str,
        now: u64,
    ) -> Result<Applied, KitchenError> {
        let mut t = self.open_ticket(id)?;
        let l = t.line_mut(line)?;
        if l.voided {
            return Err(KitchenError::BadParams(format!("line {line:?} is voided")));
        }
        l.done = !l.done;
        let done = l.done;
        t.updated_at = now;
        let auto = self.settle(&mut t, now);
        let mut events = vec![self.event(
            &t,
            EventAction::LineDone,
            Some(line),
            by,
            now,
            json!({ "DONE": done }),
        )];
        if auto {
            events.push(self.event(&t, EventAction::Bumped, None, AUTO, now, json!({})));
        }
        let reply = self.reply(&t, json!({ "DONE": done }));
        Ok(self.commit(t, events, reply))
    }

    /// The ticket to its next stage (the last one is SERVED).
    ///
    /// Fails for an unknown, served or voided ticket.
    pub(super) fn bump(&mut self, id: &str, by: &str, now: u64) -> Result<Applied, KitchenError> {
        let mut t = self.open_ticket(id)?;
        let next = t.stage_index(&self.cfg) + 1;
        t.history.push(t.stage.clone());
        self.set_stage(&mut t, next, now);
        t.updated_at = now;
        let action = if next == self.cfg.served_index() {
            EventAction::Served
        } else {
            EventAction::Bumped
        };
        let ev = self.event(&t, action, None, by, now, json!({}));
        let reply = self.reply(&t, json!({}));
        Ok(self.commit(t, vec![ev], reply))
    }

    /// Clears the ticket from the screens (SERVED), whatever its stage.
    ///
    /// Fails for an unknown, served or voided ticket.
    pub(super) fn serve(&mut self, id: &str, by: &str, now: u64) -> Result<Applied, KitchenError> {
        let mut t = self.open_ticket(id)?;
        t.history.push(t.stage.clone());
        self.set_stage(&mut t, self.cfg.served_index(), now);
        t.updated_at = now;
        let ev = self.event(&t, EventAction::Served, None, by, now, json!({}));
        let reply = self.reply(&t, json!({}));
        Ok(self.commit(t, vec![ev], reply))
    }

    /// Undoes the last bump of `ticket`, or (without one) the last bump or serve by `by` that
    /// is still in effect.
    ///
    /// Fails when there is nothing to recall, or the ticket is unknown or voided.
    pub(super) fn recall(
        &mut self,
        ticket: Option<&str>,
        by: &str,
        now: u64,
    ) -> Result<Applied, KitchenError> {
        let id = match ticket {
            Some(id) => id.to_string(),
            None => self
                .ring
                .iter()
                .rev()
                .filter(|e| {
                    e.by == by && matches!(e.action, EventAction::Bumped | EventAction::Served)
                })
                .find(|e| {
                    self.tickets
                        .get(&e.ticket)
                        .is_some_and(|t| e.stage.as_deref() == Some(t.stage.as_str()) && !t.voided)
                })
                .map(|e| e.ticket.clone())
                .ok_or_else(|| {
                    KitchenError::NothingToRecall(format!(
                        "{by} has bumped nothing that can be recalled"
                    ))
                })?,
        };
        let mut t = self
            .tickets
            .get(&id)
            .cloned()
            .ok_or_else(|| KitchenError::TicketNotFound(id.clone()))?;
        if t.voided {
            return Err(KitchenError::TicketClosed(id, "voided"));
        }
        let Some(prev) = t.history.pop() else {
            return Err(KitchenError::NothingToRecall(format!(
                "ticket {id:?} was never bumped"
            )));
        };
        let index = self.cfg.stages.iter().position(|s| *s == prev).unwrap_or(0);
        self.set_stage(&mut t, index, now);
        t.updated_at = now;
        let ev = self.event(&t, EventAction::Recalled, None, by, now, json!({}));
        let reply = self.reply(&t, json!({}));
        Ok(self.commit(t, vec![ev], reply))
    }

    /// The cook saw the change: a voided ticket leaves the screens, changed lines and the
    /// DUPLICATE mark lose their highlight (`line`: that line only).
    ///
    /// Fails for an unknown ticket or line.
    pub(super) fn ack(
        &mut self,
        id: &str,
        line: Option<&str>,
        by: &str,
        now: u64,
    ) -> Result<Applied, KitchenError> {
        let mut t = self
            .tickets
            .get(id)
            .cloned()
            .ok_or_else(|| KitchenError::TicketNotFound(id.to_string()))?;
        match line {
            Some(l) => {
                let l = t.line_mut(l)?;
                l.acked = true;
                l.note_changed = false;
            }
            None => {
                if t.voided {
                    t.void_acked = true;
                }
                t.duplicate_at = None;
                t.note_changed = false;
                for l in &mut t.lines {
                    l.acked = true;
                    l.note_changed = false;
                }
            }
        }
        t.updated_at = now;
        let ev = self.event(&t, EventAction::Acked, line, by, now, json!({}));
        let reply = self.reply(&t, json!({}));
        Ok(self.commit(t, vec![ev], reply))
    }
}

#[cfg(test)]
mod tests {
    use super::super::action::LineInput;
    use super::*;
    use std::collections::BTreeMap as Map;

    fn kitchen(pairs: &[(&str, &str)]) -> Kitchen {
        let values: Map<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Kitchen::new(
            KitchenConfig::from_values(&values).unwrap(),
            vec![],
            0,
            vec![],
        )
    }

    fn line(id: &str, name: &str) -> LineInput {
        LineInput {
            id: id.into(),
            qty: 1,
            name: name.into(),
            modifiers: vec![],
            note: None,
            allergens: vec![],
            seat: None,
            station: None,
            category: None,
        }
    }

    fn ticket(id: &str, lines: Vec<LineInput>) -> TicketInput {
        TicketInput {
            id: id.into(),
            order: None,
            table: Some("4".into()),
            guests: None,
            channel: "DINE-IN".into(),
            course: None,
            fire_at: None,
            priority: false,
            note: None,
            lines,
        }
    }

    #[test]
    fn the_same_ticket_id_twice_is_one_card_marked_duplicate() {
        let mut k = kitchen(&[]);
        k.send(ticket("T1", vec![line("1", "Burger")]), "POS", 10)
            .unwrap();
        let again = k
            .send(ticket("T1", vec![line("1", "Burger")]), "POS", 20)
            .unwrap();
        assert_eq!(again.reply["DUPLICATE"], true);
        assert_eq!(k.list(None).len(), 1);
        assert_eq!(k.list(None)[0]["DUPLICATE"], true);
        assert_eq!(again.events[0].seq, 2);
        k.ack("T1", None, "GRILL", 30).unwrap();
        assert_eq!(k.list(None)[0]["DUPLICATE"], false);
    }

    #[test]
    fn all_lines_done_moves_to_ready_and_undoing_one_moves_back() {
        let mut k = kitchen(&[]);
        k.send(ticket("T", vec![line("1", "A"), line("2", "B")]), "POS", 0)
            .unwrap();
        assert_eq!(k.line_done("T", "1", "D", 1).unwrap().events.len(), 1);
        let a = k.line_done("T", "2", "D", 2).unwrap();
        assert_eq!(a.events.len(), 2);
        assert_eq!(a.events[1].action, EventAction::Bumped);
        assert_eq!(a.events[1].by, AUTO);
        assert_eq!(k.ticket("T").unwrap().stage, "READY");
        k.line_done("T", "2", "D", 3).unwrap();
        assert_eq!(k.ticket("T").unwrap().stage, "PREPARING");
    }

    #[test]
    fn bump_walks_the_stages_serve_closes_and_recall_undoes() {
        let mut k = kitchen(&[]);
        k.send(ticket("T", vec![line("1", "A")]), "POS", 0).unwrap();
        k.bump("T", "D1", 1).unwrap();
        k.bump("T", "D1", 2).unwrap();
        let served = k.bump("T", "D1", 3).unwrap();
        assert_eq!(served.events[0].action, EventAction::Served);
        assert!(k.list(None).is_empty());
        assert!(matches!(
            k.bump("T", "D1", 4),
            Err(KitchenError::TicketClosed(..))
        ));
        assert!(matches!(
            k.recall(None, "D2", 5),
            Err(KitchenError::NothingToRecall(_))
        ));
        let r = k.recall(None, "D1", 5).unwrap();
        assert_eq!(r.events[0].action, EventAction::Recalled);
        assert_eq!(k.ticket("T").unwrap().stage, "READY");
        k.recall(Some("T"), "D2", 6).unwrap();
        assert_eq!(k.ticket("T").unwrap().stage, "PREPARING");
    }

    #[test]
    fn updates_add_cancel_and_refire_lines_marked_until_acknowledged() {
        let mut k = kitchen(&[]);
        let mut two = line("1", "Fries");
        two.qty = 2;
        k.send(ticket("T", vec![two]), "POS", 0).unwrap();
        k.update(
            "T",
            Some("no salt".into()),
            &[
                json!({"LINE":"1","CANCEL_QTY":1}),
                json!({"LINE":"2","QTY":1,"NAME":"Cola"}),
            ],
            "POS",
            1,
        )
        .unwrap();
        let t = k.ticket("T").unwrap();
        assert_eq!(
            (t.lines[0].qty, t.lines[0].cancelled, t.lines[0].acked),
            (1, 1, false)
        );
        assert!(t.lines[1].added && !t.lines[1].acked);
        assert!(t.note_changed);
        assert_eq!(t.version, 2);
        assert!(matches!(
            k.update("T", None, &[json!({"LINE":"1","CANCEL_QTY":5})], "POS", 2),
            Err(KitchenError::BadParams(_))
        ));
        k.update("T", None, &[json!({"LINE":"1","CANCEL_QTY":1})], "POS", 2)
            .unwrap();
        assert!(k.ticket("T").unwrap().lines[0].voided);
        k.update("T", None, &[json!({"LINE":"2","ADD_QTY":1})], "POS", 3)
            .unwrap();
        assert!(k.ticket("T").unwrap().lines[1].refired);
    }

    #[test]
    fn a_voided_ticket_stays_until_acknowledged() {
        let mut k = kitchen(&[]);
        k.send(ticket("T", vec![line("1", "A")]), "POS", 0).unwrap();
        k.void("T", None, "POS", 1).unwrap();
        assert_eq!(k.list(None)[0]["VOIDED"], true);
        assert!(matches!(
            k.bump("T", "D", 2),
            Err(KitchenError::TicketClosed(..))
        ));
        k.ack("T", None, "D", 3).unwrap();
        assert!(k.list(None).is_empty());
    }

    #[test]
    fn voiding_the_last_open_line_makes_the_ticket_ready() {
        let mut k = kitchen(&[]);
        k.send(ticket("T", vec![line("1", "A"), line("2", "B")]), "POS", 0)
            .unwrap();
        k.line_done("T", "1", "D", 1).unwrap();
        k.void("T", Some("2"), "POS", 2).unwrap();
        assert_eq!(k.ticket("T").unwrap().stage, "READY");
    }

    #[test]
    fn lines_are_routed_and_listed_per_station() {
        let mut k = kitchen(&[
            ("KITCHEN_STATIONS", "GRILL,BAR"),
            ("KITCHEN_ROUTE_DRINKS", "BAR"),
        ]);
        let mut cola = line("2", "Cola");
        cola.category = Some("drinks".into());
        k.send(ticket("T", vec![line("1", "Steak"), cola]), "POS", 0)
            .unwrap();
        let bar = k.list(Some("BAR"));
        assert_eq!(bar[0]["LINES"].as_array().unwrap().len(), 1);
        assert_eq!(bar[0]["LINES"][0]["NAME"], "Cola");
        assert_eq!(k.list(None)[0]["LINES"].as_array().unwrap().len(), 2);
        let mut bad = line("1", "x");
        bad.station = Some("PASTRY".into());
        assert!(matches!(
            k.send(ticket("U", vec![bad]), "POS", 1),
            Err(KitchenError::BadParams(_))
        ));
    }

    #[test]
    fn replay_gives_the_missed_events_or_asks_for_a_snapshot() {
        let mut k = kitchen(&[]);
        let mut published = Vec::new();
        for i in 0..5 {
            let applied = k
                .send(ticket(&format!("T{i}"), vec![line("1", "A")]), "POS", i)
                .unwrap();
            published.extend(applied.events);
        }
        // A replay gives the events as they were published.
        let replayed: Vec<Value> = k.since(3).unwrap().iter().map(|e| e.data()).collect();
        let expected: Vec<Value> = published[3..].iter().map(|e| e.data.clone()).collect();
        assert_eq!(replayed, expected);
        let missed: Vec<u64> = k.since(2).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(missed, vec![3, 4, 5]);
        assert!(k.since(5).unwrap().is_empty());
        assert!(k.since(99).is_none(), "a sequence from another database");
        let old = Kitchen::new(k.cfg.clone(), vec![], 10_000, published);
        assert!(old.since(0).is_none() || old.since(0).unwrap().first().map(|e| e.seq) == Some(1));
        let mut big = kitchen(&[]);
        for i in 0..(RING as u64 + 10) {
            big.send(ticket(&format!("T{i}"), vec![line("1", "A")]), "POS", i)
                .unwrap();
        }
        assert!(big.since(3).is_none(), "too old: snapshot");
        assert_eq!(big.since(big.seq() - 1).unwrap().len(), 1);
    }
}

//! The kitchen's data: a ticket, its lines and the events a change makes, as they are stored
//! and sent. The rules that change them are in `state.rs`.

use super::action::LineInput;
use super::config::KitchenConfig;
use super::error::KitchenError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct Line {
    #[serde(rename = "LINE")]
    pub(super) id: String,
    pub(super) qty: u32,
    pub(super) name: String,
    pub(super) modifiers: Vec<String>,
    pub(super) note: Option<String>,
    pub(super) allergens: Vec<String>,
    pub(super) seat: Option<String>,
    pub(super) station: String,
    pub(super) category: Option<String>,
    pub(super) done: bool,
    /// Quantity cancelled by UPDATEs.
    pub(super) cancelled: u32,
    /// Came in an UPDATE, after the ticket was sent.
    pub(super) added: bool,
    /// More of it was fired by an UPDATE (ADD_QTY).
    pub(super) refired: bool,
    pub(super) note_changed: bool,
    pub(super) voided: bool,
    /// The cook acknowledged the line's last change (void, re-fire, note, added).
    pub(super) acked: bool,
}

impl Line {
    pub(super) fn from_input(l: LineInput, station: String, added: bool) -> Line {
        Line {
            id: l.id,
            qty: l.qty,
            name: l.name,
            modifiers: l.modifiers,
            note: l.note,
            allergens: l.allergens,
            seat: l.seat,
            station,
            category: l.category,
            done: false,
            cancelled: 0,
            added,
            refired: false,
            note_changed: false,
            voided: false,
            acked: !added,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) struct Ticket {
    #[serde(rename = "TICKET")]
    pub(super) id: String,
    pub(super) order: Option<String>,
    pub(super) table: Option<String>,
    pub(super) guests: Option<u32>,
    pub(super) channel: String,
    pub(super) course: Option<String>,
    pub(super) fire_at: Option<u64>,
    pub(super) priority: bool,
    pub(super) note: Option<String>,
    pub(super) note_changed: bool,
    pub(super) stage: String,
    /// When it entered its stage (ms), for the card's alert colour.
    pub(super) stage_at: u64,
    pub(super) created_at: u64,
    pub(super) updated_at: u64,
    /// 1 when sent, +1 for each UPDATE or VOID.
    pub(super) version: u32,
    /// Sequence number of its SENT event: arrival order.
    pub(super) arrival: u64,
    pub(super) voided: bool,
    pub(super) void_acked: bool,
    /// When the POS last re-sent it under a new UUIDV4 (the card says DUPLICATE), until ACK.
    pub(super) duplicate_at: Option<u64>,
    pub(super) duplicates: u32,
    /// The stages before each bump, for RECALL.
    pub(super) history: Vec<String>,
    pub(super) lines: Vec<Line>,
}

impl Ticket {
    /// Still on the screens: not served, and not a void the cook acknowledged.
    pub(super) fn is_open(&self, cfg: &KitchenConfig) -> bool {
        !(self.served(cfg) || (self.voided && self.void_acked))
    }

    pub(super) fn served(&self, cfg: &KitchenConfig) -> bool {
        self.stage == cfg.stages[cfg.served_index()]
    }

    pub(super) fn stage_index(&self, cfg: &KitchenConfig) -> usize {
        cfg.stages
            .iter()
            .position(|s| *s == self.stage)
            .unwrap_or(0)
    }

    pub(super) fn line_mut(&mut self, line: &str) -> Result<&mut Line, KitchenError> {
        let ticket = self.id.clone();
        self.lines
            .iter_mut()
            .find(|l| l.id == line)
            .ok_or(KitchenError::LineNotFound {
                ticket,
                line: line.to_string(),
            })
    }

    /// The card as JSON, with only `station`'s lines when one is given.
    pub(super) fn card(&self, station: Option<&str>) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let (Some(s), Some(lines)) = (station, v.get_mut("LINES").and_then(Value::as_array_mut))
        {
            lines.retain(|l| l["STATION"] == s);
        }
        if let Some(m) = v.as_object_mut() {
            m.remove("HISTORY");
            m.insert("DUPLICATE".into(), Value::Bool(self.duplicate_at.is_some()));
        }
        v
    }
}

/// What a cook or the POS did, as the event's ACTION.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventAction {
    Sent,
    Updated,
    LineDone,
    Bumped,
    Recalled,
    Served,
    Voided,
    Acked,
}

impl EventAction {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            EventAction::Sent => "SENT",
            EventAction::Updated => "UPDATED",
            EventAction::LineDone => "LINE_DONE",
            EventAction::Bumped => "BUMPED",
            EventAction::Recalled => "RECALLED",
            EventAction::Served => "SERVED",
            EventAction::Voided => "VOIDED",
            EventAction::Acked => "ACKED",
        }
    }
}

/// One kitchen event, as published and stored: `EVENT: "KITCHEN"` with the card as it was.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct KitchenEvent {
    pub(super) seq: u64,
    pub(super) ticket: String,
    pub(super) action: EventAction,
    pub(super) by: String,
    pub(super) at: u64,
    pub(super) data: Value,
}

//! ORDER_KITCHEN's actions parsed once from a request (names declared once with
//! [`crate::actions!`]): tickets and their lines are checked here, so the state machine only
//! ever sees well-formed input. Pure and unit-tested; routing to stations happens in the state.

use crate::protocol::{Failure, Request};
use serde_json::{Map, Value};

/// Most lines a ticket (or one UPDATE) may carry.
pub(super) const MAX_LINES: usize = 500;
/// Largest QTY of a line.
pub(super) const MAX_QTY: u64 = 9_999;
/// Longest NOTE (ticket or line), in characters.
pub(super) const MAX_NOTE: usize = 1_000;
/// Longest id, name, table, order, station or category, in characters.
pub(super) const MAX_TEXT: usize = 200;
/// Most MODIFIERS or ALLERGENS on a line.
pub(super) const MAX_ITEMS: usize = 50;

crate::actions! {
    pub(super) enum Name {
        Send = "SEND",
        Update = "UPDATE",
        Void = "VOID",
        List = "LIST",
        Get = "GET",
        Status = "STATUS",
        Subscribe = "SUBSCRIBE",
        Unsubscribe = "UNSUBSCRIBE",
        LineDone = "LINEDONE",
        Bump = "BUMP",
        Recall = "RECALL",
        Serve = "SERVE",
        Ack = "ACK",
        Pair = "PAIR",
        Displays = "DISPLAYS",
        Revoke = "REVOKE",
    }
}

/// A line as the POS sends it (SEND, or a new line in UPDATE).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LineInput {
    pub(super) id: String,
    pub(super) qty: u32,
    pub(super) name: String,
    pub(super) modifiers: Vec<String>,
    pub(super) note: Option<String>,
    pub(super) allergens: Vec<String>,
    pub(super) seat: Option<String>,
    pub(super) station: Option<String>,
    pub(super) category: Option<String>,
}

/// A ticket as SEND carries it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TicketInput {
    pub(super) id: String,
    pub(super) order: Option<String>,
    pub(super) table: Option<String>,
    pub(super) guests: Option<u32>,
    pub(super) channel: String,
    pub(super) course: Option<String>,
    pub(super) fire_at: Option<u64>,
    pub(super) priority: bool,
    pub(super) note: Option<String>,
    pub(super) lines: Vec<LineInput>,
}

/// One entry of UPDATE's LINES: a new line, or a change to an existing one.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LineChange {
    /// A LINE id the ticket does not have yet (needs NAME and QTY): added, marked as such.
    Add(LineInput),
    /// An existing LINE: `cancel` of its quantity cancelled, `add` more fired, a new note.
    Change {
        id: String,
        cancel: u32,
        add: u32,
        note: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    Send(TicketInput),
    Update {
        ticket: String,
        note: Option<String>,
        lines: Vec<Value>,
        by: Option<String>,
    },
    Void {
        ticket: String,
        line: Option<String>,
        by: Option<String>,
    },
    List {
        station: Option<String>,
    },
    Get {
        ticket: String,
    },
    Status,
    Subscribe {
        station: Option<String>,
        last_seq: Option<u64>,
    },
    Unsubscribe,
    LineDone {
        ticket: String,
        line: String,
        by: Option<String>,
    },
    Bump {
        ticket: String,
        by: Option<String>,
    },
    Recall {
        ticket: Option<String>,
        by: Option<String>,
    },
    Serve {
        ticket: String,
        by: Option<String>,
    },
    Ack {
        ticket: String,
        line: Option<String>,
        by: Option<String>,
    },
    /// A one-time code for a tablet to become the display `name` (administrator only).
    Pair {
        name: String,
    },
    Displays,
    Revoke {
        name: String,
    },
}

impl Action {
    /// Whether the action changes tickets (and so is idempotent by its UUIDV4).
    pub(super) fn mutates(&self) -> bool {
        !matches!(
            self,
            Action::List { .. }
                | Action::Get { .. }
                | Action::Status
                | Action::Subscribe { .. }
                | Action::Unsubscribe
                | Action::Pair { .. }
                | Action::Displays
                | Action::Revoke { .. }
        )
    }

    /// Reads the request's action and parameters.
    ///
    /// Fails with UNKNOWN_ACTION for an action ORDER_KITCHEN does not have, or BAD_PARAMS
    /// naming the parameter (`LINES[3].QTY must be …`).
    pub(super) fn parse(request: &Request) -> Result<Action, Failure> {
        let name = Name::from_wire(&request.action).ok_or_else(|| {
            Failure::unknown_action("ORDER_KITCHEN", &request.raw_action, Name::NAMES)
        })?;
        let by = opt_text(request.param("BY"), "BY", MAX_TEXT)?;
        let ticket = || required(request.param("TICKET"), "TICKET");
        let line = || opt_text(request.param("LINE"), "LINE", MAX_TEXT);
        Ok(match name {
            Name::Send => Action::Send(ticket_input(request)?),
            Name::Update => {
                let lines = match request.param("LINES") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(a)) if a.len() <= MAX_LINES => a.clone(),
                    Some(Value::Array(_)) => {
                        return Err(Failure::bad_params(format!(
                            "LINES may have at most {MAX_LINES} lines"
                        )))
                    }
                    Some(_) => return Err(Failure::bad_params("LINES must be an array")),
                };
                let note = opt_text(request.param("NOTE"), "NOTE", MAX_NOTE)?;
                if lines.is_empty() && note.is_none() {
                    return Err(Failure::bad_params(
                        "UPDATE needs LINES (new lines, CANCEL_QTY, ADD_QTY or NOTE changes) or NOTE",
                    ));
                }
                Action::Update {
                    ticket: ticket()?,
                    note,
                    lines,
                    by,
                }
            }
            Name::Void => Action::Void {
                ticket: ticket()?,
                line: line()?,
                by,
            },
            Name::List => Action::List {
                station: opt_text(request.param("STATION"), "STATION", MAX_TEXT)?
                    .map(|s| s.to_ascii_uppercase()),
            },
            Name::Get => Action::Get { ticket: ticket()? },
            Name::Status => Action::Status,
            Name::Subscribe => Action::Subscribe {
                station: opt_text(request.param("STATION"), "STATION", MAX_TEXT)?
                    .map(|s| s.to_ascii_uppercase()),
                last_seq: request.u64_param("LAST_SEQ")?,
            },
            Name::Unsubscribe => Action::Unsubscribe,
            Name::LineDone => Action::LineDone {
                ticket: ticket()?,
                line: required(request.param("LINE"), "LINE")?,
                by,
            },
            Name::Bump => Action::Bump {
                ticket: ticket()?,
                by,
            },
            Name::Recall => Action::Recall {
                ticket: opt_text(request.param("TICKET"), "TICKET", MAX_TEXT)?,
                by,
            },
            Name::Serve => Action::Serve {
                ticket: ticket()?,
                by,
            },
            Name::Ack => Action::Ack {
                ticket: ticket()?,
                line: line()?,
                by,
            },
            Name::Pair => Action::Pair {
                name: display_name(request)?,
            },
            Name::Displays => Action::Displays,
            Name::Revoke => Action::Revoke {
                name: display_name(request)?,
            },
        })
    }
}

/// NAME of a display: what its cooks' actions say as BY.
fn display_name(request: &Request) -> Result<String, Failure> {
    let name = required(request.param("NAME"), "NAME")?;
    let ok = name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(Failure::bad_params(
            "NAME must be 1 to 32 letters, digits, - or _ (GRILL-1)",
        ));
    }
    Ok(name.to_ascii_uppercase())
}

/// UPDATE's LINES against the ticket's current line ids: each entry is a new line or a change.
///
/// Fails with BAD_PARAMS naming `LINES[i].FIELD`.
pub(super) fn line_changes(
    lines: &[Value],
    exists: impl Fn(&str) -> bool,
) -> Result<Vec<LineChange>, Failure> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, v) in lines.iter().enumerate() {
        let Value::Object(m) = v else {
            return Err(Failure::bad_params(format!("LINES[{i}] must be an object")));
        };
        let id = required(get(m, "LINE"), &format!("LINES[{i}].LINE"))?;
        if exists(&id) {
            let cancel = count(get(m, "CANCEL_QTY"), &format!("LINES[{i}].CANCEL_QTY"))?;
            let add = count(get(m, "ADD_QTY"), &format!("LINES[{i}].ADD_QTY"))?;
            let note = opt_text(get(m, "NOTE"), &format!("LINES[{i}].NOTE"), MAX_NOTE)?;
            if cancel == 0 && add == 0 && note.is_none() {
                return Err(Failure::bad_params(format!(
                    "LINES[{i}] changes line {id:?} but has no CANCEL_QTY, ADD_QTY or NOTE"
                )));
            }
            out.push(LineChange::Change {
                id,
                cancel,
                add,
                note,
            });
        } else {
            out.push(LineChange::Add(line_input(i, m)?));
        }
    }
    Ok(out)
}

fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn ticket_input(request: &Request) -> Result<TicketInput, Failure> {
    let lines = match request.param("LINES") {
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(Failure::bad_params(
                "LINES is empty: a ticket needs at least one line",
            ))
        }
        Some(Value::Array(a)) if a.len() > MAX_LINES => {
            return Err(Failure::bad_params(format!(
                "LINES has {} lines; a ticket may have at most {MAX_LINES}",
                a.len()
            )))
        }
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => {
            return Err(Failure::bad_params(
                "LINES is missing: a ticket needs at least one line",
            ))
        }
        Some(_) => return Err(Failure::bad_params("LINES must be an array of lines")),
    };
    let mut parsed = Vec::with_capacity(lines.len());
    let mut ids = std::collections::HashSet::new();
    for (i, v) in lines.iter().enumerate() {
        let Value::Object(m) = v else {
            return Err(Failure::bad_params(format!("LINES[{i}] must be an object")));
        };
        let line = line_input(i, m)?;
        if !ids.insert(line.id.clone()) {
            return Err(Failure::bad_params(format!(
                "LINES[{i}].LINE {:?} is used twice",
                line.id
            )));
        }
        parsed.push(line);
    }
    let channel = opt_text(request.param("CHANNEL"), "CHANNEL", MAX_TEXT)?
        .map(|c| c.to_ascii_uppercase().replace('_', "-"))
        .unwrap_or_else(|| "DINE-IN".into());
    if !matches!(channel.as_str(), "DINE-IN" | "TAKEAWAY" | "DELIVERY") {
        return Err(Failure::bad_params(
            "CHANNEL must be DINE-IN, TAKEAWAY or DELIVERY",
        ));
    }
    let guests = match request.u64_param("GUESTS")? {
        Some(g) if g > 10_000 => return Err(Failure::bad_params("GUESTS must be at most 10000")),
        g => g.map(|g| g as u32),
    };
    let priority = match request.param("PRIORITY") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0) > 0,
        Some(Value::String(s)) => matches!(
            s.to_ascii_uppercase().as_str(),
            "1" | "TRUE" | "HIGH" | "RUSH" | "YES"
        ),
        Some(_) => return Err(Failure::bad_params("PRIORITY must be true or false")),
    };
    Ok(TicketInput {
        id: required(request.param("TICKET"), "TICKET")?,
        order: opt_text(request.param("ORDER"), "ORDER", MAX_TEXT)?,
        table: opt_text(request.param("TABLE"), "TABLE", MAX_TEXT)?,
        guests,
        channel,
        course: opt_text(request.param("COURSE"), "COURSE", MAX_TEXT)?,
        fire_at: request.u64_param("FIRE_AT")?,
        priority,
        note: opt_text(request.param("NOTE"), "NOTE", MAX_NOTE)?,
        lines: parsed,
    })
}

fn line_input(i: usize, m: &Map<String, Value>) -> Result<LineInput, Failure> {
    let f = |k: &str| format!("LINES[{i}].{k}");
    let qty = count(get(m, "QTY"), &f("QTY"))?;
    if qty == 0 {
        return Err(Failure::bad_params(format!(
            "{} must be a whole number from 1 to {MAX_QTY}",
            f("QTY")
        )));
    }
    Ok(LineInput {
        id: required(get(m, "LINE"), &f("LINE"))?,
        qty,
        name: required(get(m, "NAME"), &f("NAME"))?,
        modifiers: strings(get(m, "MODIFIERS"), &f("MODIFIERS"))?,
        note: opt_text(get(m, "NOTE"), &f("NOTE"), MAX_NOTE)?,
        allergens: strings(get(m, "ALLERGENS"), &f("ALLERGENS"))?,
        seat: opt_text(get(m, "SEAT"), &f("SEAT"), MAX_TEXT)?,
        station: opt_text(get(m, "STATION"), &f("STATION"), MAX_TEXT)?,
        category: opt_text(get(m, "CATEGORY"), &f("CATEGORY"), MAX_TEXT)?,
    })
}

/// A quantity 0..=MAX_QTY (absent = 0); negative, fractional or larger is BAD_PARAMS.
fn count(v: Option<&Value>, name: &str) -> Result<u32, Failure> {
    let bad = || Failure::bad_params(format!("{name} must be a whole number from 1 to {MAX_QTY}"));
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|q| *q <= MAX_QTY)
            .map(|q| q as u32)
            .ok_or_else(bad),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|q| *q <= MAX_QTY)
            .map(|q| q as u32)
            .ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// A non-empty string (numbers accepted: POS ids are often numeric).
fn required(v: Option<&Value>, name: &str) -> Result<String, Failure> {
    opt_text(v, name, MAX_TEXT)?.ok_or_else(|| Failure::bad_params(format!("{name} is missing")))
}

fn opt_text(v: Option<&Value>, name: &str, max: usize) -> Result<Option<String>, Failure> {
    let s = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(Failure::bad_params(format!("{name} must be a string"))),
    };
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(Failure::bad_params(format!(
            "{name} is longer than {max} characters"
        )));
    }
    Ok(Some(s))
}

fn strings(v: Option<&Value>, name: &str) -> Result<Vec<String>, Failure> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) if a.len() <= MAX_ITEMS => a
            .iter()
            .enumerate()
            .filter_map(|(i, x)| opt_text(Some(x), &format!("{name}[{i}]"), MAX_TEXT).transpose())
            .collect(),
        Some(Value::String(s)) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .take(MAX_ITEMS)
            .collect()),
        Some(_) => Err(Failure::bad_params(format!(
            "{name} must be an array of at most {MAX_ITEMS} strings"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{parse_request, ErrorCode};
    use serde_json::json;

    fn parse(v: Value) -> Result<Action, Failure> {
        let mut m = v.as_object().unwrap().clone();
        m.insert("UUIDV4".into(), json!("u"));
        m.insert("TARGET".into(), json!("ORDER_KITCHEN"));
        Action::parse(&parse_request(&Value::Object(m).to_string()).unwrap())
    }

    #[test]
    fn a_ticket_with_lines_parses_with_defaults() {
        let a = parse(json!({"ACTION":"SEND","TICKET":12,"TABLE":"4",
            "LINES":[{"LINE":"1","QTY":2,"NAME":"Burger","MODIFIERS":["no onion"],"ALLERGENS":"gluten, egg"}]}))
        .unwrap();
        let Action::Send(t) = a else { panic!() };
        assert_eq!(t.id, "12");
        assert_eq!(t.channel, "DINE-IN");
        assert_eq!(t.lines[0].qty, 2);
        assert_eq!(t.lines[0].allergens, vec!["gluten", "egg"]);
    }

    #[test]
    fn bad_tickets_name_the_field() {
        let cases = [
            (
                json!({"ACTION":"SEND","TICKET":"1","LINES":[]}),
                "LINES is empty",
            ),
            (json!({"ACTION":"SEND","TICKET":"1"}), "LINES is missing"),
            (
                json!({"ACTION":"SEND","LINES":[{"LINE":"1","QTY":1,"NAME":"x"}]}),
                "TICKET",
            ),
            (
                json!({"ACTION":"SEND","TICKET":"1","LINES":[{"LINE":"1","QTY":-1,"NAME":"x"}]}),
                "LINES[0].QTY",
            ),
            (
                json!({"ACTION":"SEND","TICKET":"1","LINES":[{"LINE":"1","QTY":1}]}),
                "LINES[0].NAME",
            ),
            (
                json!({"ACTION":"SEND","TICKET":"1","NOTE":"x".repeat(1001),"LINES":[{"LINE":"1","QTY":1,"NAME":"x"}]}),
                "NOTE",
            ),
            (
                json!({"ACTION":"SEND","TICKET":"1","CHANNEL":"drone","LINES":[{"LINE":"1","QTY":1,"NAME":"x"}]}),
                "CHANNEL",
            ),
            (
                json!({"ACTION":"SEND","TICKET":"1","LINES":[{"LINE":"1","QTY":1,"NAME":"x"},{"LINE":"1","QTY":1,"NAME":"y"}]}),
                "LINES[1].LINE",
            ),
        ];
        for (v, start) in cases {
            let f = parse(v.clone()).unwrap_err();
            assert_eq!(f.code, ErrorCode::BadParams, "{v}");
            assert!(f.message.starts_with(start), "{v}: {}", f.message);
        }
        let many: Vec<Value> = (0..10_000)
            .map(|i| json!({"LINE":i,"QTY":1,"NAME":"x"}))
            .collect();
        let f = parse(json!({"ACTION":"SEND","TICKET":"1","LINES":many})).unwrap_err();
        assert!(f.message.contains("at most 500"), "{}", f.message);
    }

    #[test]
    fn update_entries_are_new_lines_or_changes() {
        let lines = vec![
            json!({"LINE":"1","CANCEL_QTY":1}),
            json!({"LINE":"9","QTY":1,"NAME":"Fries"}),
        ];
        let c = line_changes(&lines, |id| id == "1").unwrap();
        assert!(matches!(&c[0], LineChange::Change { cancel: 1, .. }));
        assert!(matches!(&c[1], LineChange::Add(l) if l.name == "Fries"));
        let f = line_changes(&[json!({"LINE":"1"})], |_| true).unwrap_err();
        assert!(f.message.starts_with("LINES[0]"), "{}", f.message);
    }

    #[test]
    fn only_reads_are_not_idempotent_writes() {
        assert!(!parse(json!({"ACTION":"LIST"})).unwrap().mutates());
        assert!(parse(json!({"ACTION":"BUMP","TICKET":"1"}))
            .unwrap()
            .mutates());
        assert_eq!(
            parse(json!({"ACTION":"line_done","TICKET":"1","LINE":"2"})).unwrap(),
            Action::LineDone {
                ticket: "1".into(),
                line: "2".into(),
                by: None
            }
        );
    }
}

//! PRINT's actions parsed once from a request (names declared once with [`crate::actions!`]):
//! printer names, FORMAT, OPTIONS, job references and the LAN probe's settings. Pure and
//! unit-tested; DATA is taken out of the request, not copied, and decoded later off the runtime.

use crate::modules::print::document::{Format, Options};
use crate::modules::print::printer::parse_bool;
use crate::modules::print::program::CutMode;
use crate::modules::print::queue::JobState;
use crate::protocol::{Failure, Request};
use serde_json::Value;
use std::time::Duration;

crate::actions! {
    pub(super) enum Name {
        GetPrinters = "GETPRINTERS",
        Print = "PRINT",
        OpenDrawer = "OPENDRAWER",
        Cut = "CUT",
        Status = "STATUS",
        TestPage = "TESTPAGE",
        Jobs = "JOBS",
        Job = "JOB",
        Cancel = "CANCEL",
        Reprint = "REPRINT",
        Subscribe = "SUBSCRIBE",
        Unsubscribe = "UNSUBSCRIBE",
    }
}

/// Which job a request means.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum JobRef {
    Id(i64),
    Uuid(String),
}

impl JobRef {
    /// As the client wrote it, for "no job …" messages.
    pub(super) fn shown(&self) -> String {
        match self {
            JobRef::Id(id) => id.to_string(),
            JobRef::Uuid(u) => format!("{u:?}"),
        }
    }
}

/// GET_PRINTERS' optional LAN probe.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scan {
    pub subnet: Option<String>,
    pub port: u16,
    pub timeout: Duration,
}

/// A PRINT request with its parameters read. `printer` is the PRINTER parameter as sent
/// (`None`: the default printer).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    GetPrinters {
        scan: Option<Scan>,
    },
    Print {
        printer: Option<String>,
        format: Format,
        options: Options,
        data: Option<Value>,
    },
    /// `pin`: the PIN parameter (the printer's `drawer_pin` when absent).
    OpenDrawer {
        printer: Option<String>,
        pin: Option<u8>,
        options: Options,
    },
    Cut {
        printer: Option<String>,
        mode: CutMode,
        options: Options,
    },
    TestPage {
        printer: Option<String>,
        options: Options,
    },
    Status {
        printer: Option<String>,
    },
    Jobs {
        printer: Option<String>,
        state: Option<JobState>,
        limit: u32,
    },
    Job {
        job: JobRef,
    },
    Cancel {
        job: JobRef,
    },
    /// Admin: the job's document again, to `printer` or to the job's own printer.
    Reprint {
        job: JobRef,
        printer: Option<String>,
    },
    Subscribe,
    Unsubscribe,
}

impl Action {
    /// The action a request names, if PRINT has it.
    pub(super) fn name(request: &Request) -> Result<Name, Failure> {
        Name::from_wire(&request.action)
            .ok_or_else(|| Failure::unknown_action("PRINT", &request.raw_action, Name::NAMES))
    }

    /// Reads `name`'s parameters, taking DATA out of the request.
    ///
    /// Fails with BAD_PARAMS naming the parameter.
    pub(super) fn parse(name: Name, request: &mut Request) -> Result<Action, Failure> {
        let printer = printer_of(request)?;
        let options = || Options::parse(request.param("OPTIONS")).map_err(Failure::bad_params);
        Ok(match name {
            Name::GetPrinters => Action::GetPrinters {
                scan: scan_of(request)?,
            },
            Name::Print => {
                let text = request.str_param("FORMAT")?.unwrap_or("RAW").to_string();
                let format = Format::from_wire(&text).ok_or_else(|| {
                    Failure::bad_params(format!(
                        "FORMAT {text:?} is not one of RAW, TEXT, RECEIPT, HTML, PDF, IMAGE"
                    ))
                })?;
                let options = options()?;
                Action::Print {
                    printer,
                    format,
                    options,
                    data: take_param(request, "DATA"),
                }
            }
            Name::OpenDrawer => {
                let pin = match request.u64_param("PIN")? {
                    None => None,
                    Some(p @ (2 | 5)) => Some(p as u8),
                    Some(_) => return Err(Failure::bad_params("PIN must be 2 or 5")),
                };
                let mut options = options()?;
                // A drawer that opens minutes later, when nobody expects it, is worse than an
                // error: it is not queued unless OPTIONS.QUEUE says so.
                if request
                    .param("OPTIONS")
                    .and_then(|o| o.get("QUEUE"))
                    .is_none()
                {
                    options.queue = false;
                }
                Action::OpenDrawer {
                    printer,
                    pin,
                    options,
                }
            }
            Name::Cut => {
                let mode = match request
                    .str_param("MODE")?
                    .unwrap_or("PARTIAL")
                    .to_ascii_uppercase()
                    .as_str()
                {
                    "FULL" => CutMode::Full,
                    "PARTIAL" => CutMode::Partial,
                    _ => return Err(Failure::bad_params("MODE must be FULL or PARTIAL")),
                };
                let mut options = options()?;
                options.queue = false;
                Action::Cut {
                    printer,
                    mode,
                    options,
                }
            }
            Name::TestPage => Action::TestPage {
                printer,
                options: options()?,
            },
            Name::Status => Action::Status { printer },
            Name::Jobs => {
                let state = match request.str_param("STATE")? {
                    None => None,
                    Some(s) => Some(JobState::parse(&s.trim().to_ascii_uppercase()).ok_or_else(
                        || {
                            Failure::bad_params(format!(
                            "STATE {s:?} is not one of QUEUED, PRINTING, WAITING, DELIVERED, FAILED, CANCELLED, EXPIRED"
                        ))
                        },
                    )?),
                };
                let limit = request.u64_param("LIMIT")?.unwrap_or(50).clamp(1, 500) as u32;
                Action::Jobs {
                    printer,
                    state,
                    limit,
                }
            }
            Name::Job => Action::Job {
                job: job_of(request)?,
            },
            Name::Cancel => Action::Cancel {
                job: job_of(request)?,
            },
            Name::Reprint => Action::Reprint {
                job: job_of(request)?,
                printer,
            },
            Name::Subscribe => Action::Subscribe,
            Name::Unsubscribe => Action::Unsubscribe,
        })
    }
}

/// PRINTER as sent, trimmed; `None` when absent or blank. (A configured name is matched
/// ignoring case and a `PRINTER_` prefix; an OS printer's name exactly.)
fn printer_of(request: &Request) -> Result<Option<String>, Failure> {
    Ok(request
        .str_param("PRINTER")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string))
}

fn job_of(request: &Request) -> Result<JobRef, Failure> {
    match (request.u64_param("JOB_ID")?, request.str_param("JOB_UUID")?) {
        (Some(id), _) => Ok(JobRef::Id(i64::try_from(id).unwrap_or(i64::MAX))),
        (None, Some(u)) => Ok(JobRef::Uuid(u.to_string())),
        (None, None) => Err(Failure::bad_params("JOB_ID (or JOB_UUID) is required")),
    }
}

fn scan_of(request: &Request) -> Result<Option<Scan>, Failure> {
    let wanted = request
        .param("SCAN")
        .or_else(|| request.param("LAN"))
        .and_then(|v| v.as_bool().or_else(|| v.as_str().and_then(parse_bool)))
        .unwrap_or(false);
    if !wanted {
        return Ok(None);
    }
    Ok(Some(Scan {
        subnet: request.str_param("SUBNET")?.map(str::to_string),
        port: request.u64_param("PORT")?.unwrap_or(9100).min(65535) as u16,
        timeout: Duration::from_millis(
            request
                .u64_param("TIMEOUT_MS")?
                .unwrap_or(300)
                .clamp(50, 3000),
        ),
    }))
}

/// Moves a parameter out of the request (exact name first, then any case).
fn take_param(request: &mut Request, name: &str) -> Option<Value> {
    if let Some(v) = request.params.remove(name) {
        return Some(v);
    }
    let key = request
        .params
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))?
        .clone();
    request.params.remove(&key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{parse_request, ErrorCode};
    use serde_json::json;

    fn parse(text: &str) -> Result<Action, Failure> {
        let mut request = parse_request(text).unwrap();
        let name = Action::name(&request)?;
        Action::parse(name, &mut request)
    }

    #[test]
    fn print_takes_its_data_and_reads_format_and_options() {
        let a = parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"print","PRINTER":"printer_bar","FORMAT":"txt","DATA":"hola","OPTIONS":{"COPIES":2}}"#)
            .unwrap();
        let Action::Print {
            printer,
            format,
            options,
            data,
        } = a
        else {
            panic!("{a:?}")
        };
        assert_eq!(printer.as_deref(), Some("printer_bar"));
        assert_eq!(format, Format::Text);
        assert_eq!(options.copies, 2);
        assert_eq!(data, Some(json!("hola")));
    }

    #[test]
    fn a_command_format_cannot_be_sent_as_a_document() {
        let f = parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"PRINT","FORMAT":"DRAWER"}"#)
            .unwrap_err();
        assert_eq!(f.code, ErrorCode::BadParams);
        assert!(f.message.starts_with("FORMAT"), "{}", f.message);
    }

    #[test]
    fn a_drawer_is_not_queued_unless_asked_and_its_pin_is_2_or_5() {
        let a = parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"OPEN_DRAWER","PIN":5}"#).unwrap();
        assert!(
            matches!(a, Action::OpenDrawer { pin: Some(5), ref options, .. } if !options.queue)
        );
        let a = parse(
            r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"OPEN_DRAWER","OPTIONS":{"QUEUE":true}}"#,
        )
        .unwrap();
        assert!(matches!(a, Action::OpenDrawer { pin: None, ref options, .. } if options.queue));
        let f =
            parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"OPEN_DRAWER","PIN":3}"#).unwrap_err();
        assert_eq!(f.message, "PIN must be 2 or 5");
    }

    #[test]
    fn cut_reads_its_mode() {
        let a = parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"CUT","MODE":"full"}"#).unwrap();
        assert!(matches!(
            a,
            Action::Cut {
                mode: CutMode::Full,
                ..
            }
        ));
        let f =
            parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"CUT","MODE":"half"}"#).unwrap_err();
        assert!(f.message.starts_with("MODE"));
    }

    #[test]
    fn a_job_is_named_by_id_or_uuid() {
        let a = parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"JOB","JOB_UUID":"u-7"}"#);
        assert_eq!(
            a.unwrap(),
            Action::Job {
                job: JobRef::Uuid("u-7".into())
            }
        );
        let f = parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"CANCEL"}"#).unwrap_err();
        assert!(f.message.starts_with("JOB_ID"));
    }

    #[test]
    fn jobs_filters_by_a_known_state_only() {
        let a = parse(
            r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"JOBS","STATE":"waiting","LIMIT":9999}"#,
        );
        assert!(matches!(
            a.unwrap(),
            Action::Jobs {
                state: Some(JobState::Waiting),
                limit: 500,
                ..
            }
        ));
        let f =
            parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"JOBS","STATE":"LOST"}"#).unwrap_err();
        assert!(f.message.starts_with("STATE"));
    }

    #[test]
    fn a_lan_scan_is_only_read_when_asked_for() {
        let a = parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"GET_PRINTERS"}"#).unwrap();
        assert_eq!(a, Action::GetPrinters { scan: None });
        let a = parse(r#"{"UUIDV4":"1","TARGET":"PRINT","ACTION":"GET_PRINTERS","SCAN":"yes","TIMEOUT_MS":1}"#).unwrap();
        assert!(
            matches!(a, Action::GetPrinters { scan: Some(Scan { port: 9100, timeout, .. }) } if timeout == Duration::from_millis(50))
        );
    }
}

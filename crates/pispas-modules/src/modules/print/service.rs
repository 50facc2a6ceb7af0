//! The PRINT target: every action a POS or the command log sends, turned into queue operations
//! and replies. Parameters are checked here; the queue, renderers and transports do the work.

use super::discovery;
use super::document::{self, Format, Options};
use super::error::PrintError;
use super::printer::{PrintConfig, PrinterConfig};
use super::queue::store::NewJob;
use super::queue::{job_json, now_ms, reply_for, Queue, Ticket, TOPIC};
use super::transport::{self, spooler, StatusReport};
use crate::protocol::{Failure, Request};
use crate::router::{BoxFuture, Health, HealthState, Outcome, RequestContext, Service};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const ACTIONS: &[&str] = &[
    "GETPRINTERS",
    "PRINT",
    "OPENDRAWER",
    "CUT",
    "STATUS",
    "TESTPAGE",
    "JOBS",
    "JOB",
    "CANCEL",
    "REPRINT",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
];

/// The PRINT module; a cheap handle.
#[derive(Clone)]
pub struct Print {
    pub(super) queue: Queue,
    pub(super) config: Arc<PrintConfig>,
}

impl Service for Print {
    fn target(&self) -> &'static str {
        "PRINT"
    }

    fn actions(&self) -> &'static [&'static str] {
        ACTIONS
    }

    fn call(&self, request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        let this = self.clone();
        // The place in the printer's line is taken now, in arrival order, before any await.
        let ticket = match request.action.as_str() {
            "PRINT" | "OPENDRAWER" | "CUT" | "TESTPAGE" => self
                .printer(&request)
                .ok()
                .and_then(|p| self.queue.ticket(&p.name)),
            _ => None,
        };
        Box::pin(async move {
            let out = match request.action.as_str() {
                "GETPRINTERS" => this.get_printers(&request).await,
                "PRINT" => this.print(request, &ctx, ticket).await,
                "OPENDRAWER" => this.command(request, &ctx, Command::Drawer, ticket).await,
                "CUT" => this.command(request, &ctx, Command::Cut, ticket).await,
                "TESTPAGE" => this.command(request, &ctx, Command::TestPage, ticket).await,
                "STATUS" => this.status(&request).await,
                "JOBS" => this.jobs(&request).await,
                "JOB" => this.job(&request).await,
                "CANCEL" => this.cancel(&request).await,
                "REPRINT" => this.reprint(request, &ctx).await,
                "SUBSCRIBE" => {
                    ctx.subscribe(TOPIC, &request.uuid);
                    Ok(json!({ "TOPIC": TOPIC }))
                }
                "UNSUBSCRIBE" => Ok(json!({ "WAS_SUBSCRIBED": ctx.unsubscribe(TOPIC) })),
                _ => {
                    return Err(Failure::unknown_action(
                        "PRINT",
                        &request.raw_action,
                        ACTIONS,
                    ))
                }
            };
            out
        })
    }

    fn health(&self) -> Health {
        let mut troubled = Vec::new();
        for slot in self.queue.slots().values() {
            if let Some((s, _)) = slot.last_state() {
                if s != "READY" && s != "PAPER_NEAR_END" {
                    troubled.push(format!(
                        "{}: {}",
                        slot.config.name,
                        s.to_lowercase().replace('_', " ")
                    ));
                }
            }
        }
        if troubled.is_empty() {
            Health {
                state: HealthState::Ok,
                detail: format!("{} printer(s)", self.queue.slots().len()),
            }
        } else {
            Health {
                state: HealthState::Degraded,
                detail: troubled.join("; "),
            }
        }
    }
}

/// Commands that are jobs of their own.
#[derive(Clone, Copy)]
enum Command {
    Drawer,
    Cut,
    TestPage,
}

fn params_err(f: Failure) -> Failure {
    f
}

impl Print {
    /// The printer a request names, or the default.
    fn printer(&self, request: &Request) -> Result<&PrinterConfig, Failure> {
        let named = request
            .str_param("PRINTER")?
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty());
        let name = match named.or_else(|| self.config.default_printer.clone()) {
            Some(n) => n,
            None => return Err(PrintError::NoDefaultPrinter.into()),
        };
        let name = name
            .strip_prefix("PRINTER_")
            .map(str::to_string)
            .unwrap_or(name);
        self.config.printers.get(&name).ok_or_else(|| {
            PrintError::PrinterNotFound {
                name,
                known: self.config.printers.keys().cloned().collect(),
            }
            .into()
        })
    }

    async fn print(
        &self,
        request: Request,
        ctx: &RequestContext,
        ticket: Option<Ticket>,
    ) -> Outcome {
        let printer = self.printer(&request)?.name.clone();
        let format_text = request.str_param("FORMAT")?.unwrap_or("RAW").to_string();
        let format = Format::parse(&format_text)
            .filter(|f| *f != Format::Command)
            .ok_or_else(|| {
                Failure::bad_params(format!(
                    "FORMAT {format_text:?} is not one of RAW, TEXT, RECEIPT, HTML, PDF, IMAGE"
                ))
            })?;
        let options = Options::parse(request.param("OPTIONS")).map_err(Failure::bad_params)?;
        let max = self.config.max_data_bytes;
        let uuid = request.uuid.clone();
        // Decoding tens of megabytes of base64 is kept off the async runtime.
        let data = tokio::task::spawn_blocking(move || {
            document::accept(format, request.param("DATA"), max)
        })
        .await
        .map_err(|e| Failure::new(crate::protocol::ErrorCode::Internal, e.to_string()))??;
        self.submit(uuid, printer, format, data, options, None, ctx, ticket)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn submit(
        &self,
        uuid: String,
        printer: String,
        format: Format,
        data: Vec<u8>,
        options: Options,
        source: Option<i64>,
        ctx: &RequestContext,
        ticket: Option<Ticket>,
    ) -> Outcome {
        let job = NewJob {
            uuid,
            printer,
            format: format.name().into(),
            data,
            options: options.to_json(),
            accepted_at: now_ms(),
            source_job: source,
        };
        let (row, repeat) = self
            .queue
            .submit(job, Some(ctx.connection_id), ticket)
            .await?;
        reply_for(&self.queue.live_view(row), repeat)
    }

    async fn command(
        &self,
        request: Request,
        ctx: &RequestContext,
        command: Command,
        ticket: Option<Ticket>,
    ) -> Outcome {
        let printer = self.printer(&request)?.clone();
        let mut options = Options::parse(request.param("OPTIONS")).map_err(Failure::bad_params)?;
        let items = match command {
            Command::Drawer => {
                let pin = request
                    .u64_param("PIN")?
                    .unwrap_or(printer.drawer_pin as u64);
                if pin != 2 && pin != 5 {
                    return Err(Failure::bad_params("PIN must be 2 or 5"));
                }
                // A drawer that opens minutes later, when nobody expects it, is worse than an error.
                if request
                    .param("OPTIONS")
                    .and_then(|o| o.get("QUEUE"))
                    .is_none()
                {
                    options.queue = false;
                }
                json!([{ "TYPE": "DRAWER", "PIN": pin }])
            }
            Command::Cut => {
                let mode = request
                    .str_param("MODE")?
                    .unwrap_or("PARTIAL")
                    .to_ascii_uppercase();
                if !matches!(mode.as_str(), "FULL" | "PARTIAL") {
                    return Err(Failure::bad_params("MODE must be FULL or PARTIAL"));
                }
                options.queue = false;
                json!([{ "TYPE": "FEED", "LINES": 1 }, { "TYPE": "CUT", "MODE": mode }])
            }
            Command::TestPage => test_page(&printer),
        };
        let data = json!({ "ITEMS": items }).to_string().into_bytes();
        self.submit(
            request.uuid.clone(),
            printer.name.clone(),
            Format::Command,
            data,
            options,
            None,
            ctx,
            ticket,
        )
        .await
    }

    async fn status(&self, request: &Request) -> Outcome {
        let printer = self.printer(request)?.clone();
        let Some(slot) = self.queue.slots().get(&printer.name).cloned() else {
            return Err(PrintError::PrinterNotFound {
                name: printer.name,
                known: vec![],
            }
            .into());
        };
        let pending = self
            .queue
            .store()
            .pending_counts()
            .await
            .map_err(PrintError::from)?;
        let queued = pending
            .iter()
            .find(|(p, _)| *p == printer.name)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        let mut out = json!({ "PRINTER": printer.name, "TRANSPORT": printer.uri.target.kind(), "QUEUED": queued });
        let line = tokio::time::timeout(Duration::from_millis(500), slot.line.lock()).await;
        let Ok(_guard) = line else {
            // Printing right now: the last known state is fresh enough.
            let (state, at) = slot.last_state().unwrap_or(("PRINTING".into(), now_ms()));
            merge(
                &mut out,
                json!({ "SOURCE": "LAST_KNOWN", "STATE": state, "AT": at, "PRINTING": true }),
            );
            return Ok(out);
        };
        match transport::query(&printer).await {
            Ok(StatusReport::Printer(s)) => {
                let word = super::queue::state_word(&s);
                slot.set_state(word);
                merge(
                    &mut out,
                    json!({
                        "SOURCE": "PRINTER", "STATE": word, "ONLINE": s.online, "PAPER": s.paper,
                        "COVER_OPEN": s.cover_open, "DRAWER_OPEN": s.drawer_open, "ERROR": s.error,
                    }),
                );
                if word == "READY" || word == "PAPER_NEAR_END" {
                    self.queue.nudge(&printer.name);
                }
            }
            Ok(StatusReport::Spooler {
                state,
                ready,
                reason,
            }) => {
                let word = if ready {
                    "READY".to_string()
                } else {
                    reason
                        .map(|r| super::error::not_ready_code(r).as_str().to_string())
                        .unwrap_or(state.clone())
                };
                slot.set_state(&word);
                merge(
                    &mut out,
                    json!({ "SOURCE": "SPOOLER", "STATE": word, "SPOOLER_STATE": state, "ONLINE": ready }),
                );
            }
            Ok(StatusReport::Unknown) => {
                merge(
                    &mut out,
                    json!({ "SOURCE": "NONE", "STATE": "UNKNOWN", "ONLINE": true,
                    "DETAIL": "this printer does not report paper or cover state over this transport" }),
                );
            }
            Err(e) => {
                slot.set_state("OFFLINE");
                merge(
                    &mut out,
                    json!({ "SOURCE": "PRINTER", "STATE": "OFFLINE", "ONLINE": false, "DETAIL": e.to_string() }),
                );
            }
        }
        Ok(out)
    }

    async fn get_printers(&self, request: &Request) -> Outcome {
        let pending = self
            .queue
            .store()
            .pending_counts()
            .await
            .map_err(PrintError::from)?;
        let printers: Vec<Value> = self
            .config
            .printers
            .values()
            .map(|p| {
                let slot = self.queue.slots().get(&p.name);
                let (state, at) = slot.and_then(|s| s.last_state()).map(|(s, at)| (s, Some(at))).unwrap_or(("UNKNOWN".into(), None));
                json!({
                    "NAME": p.name, "URI": p.uri.raw, "TRANSPORT": p.uri.target.kind(), "WIDTH": p.width,
                    "CODEPAGE": p.codepage.name(), "CUT": p.cut, "DRAWER_PIN": p.drawer_pin,
                    "DEFAULT": self.config.default_printer.as_deref() == Some(p.name.as_str()),
                    "STATE": state, "STATE_AT": at,
                    "QUEUED": pending.iter().find(|(n, _)| *n == p.name).map(|(_, n)| *n).unwrap_or(0),
                })
            })
            .collect();
        let system: Vec<Value> = spooler::list_installed()
            .await
            .into_iter()
            .map(|p| json!({ "NAME": p.name, "URI": format!("spooler://{}", p.name), "STATE": p.state, "READY": p.ready }))
            .collect();
        let mut out = json!({ "DEFAULT": self.config.default_printer, "PRINTERS": printers, "SYSTEM": system });
        let scan = request
            .param("SCAN")
            .or_else(|| request.param("LAN"))
            .and_then(|v| {
                v.as_bool()
                    .or_else(|| v.as_str().and_then(super::printer::parse_bool))
            })
            .unwrap_or(false);
        if scan {
            let subnet = request.str_param("SUBNET")?.map(str::to_string);
            let port = request.u64_param("PORT")?.unwrap_or(9100).min(65535) as u16;
            let timeout = Duration::from_millis(
                request
                    .u64_param("TIMEOUT_MS")?
                    .unwrap_or(300)
                    .clamp(50, 3000),
            );
            let found = discovery::scan(subnet.as_deref(), port, timeout)
                .await
                .map_err(Failure::bad_params)?;
            merge(&mut out, json!({ "NETWORK": found }));
        }
        Ok(out)
    }

    async fn jobs(&self, request: &Request) -> Outcome {
        let printer = match request.str_param("PRINTER")? {
            Some(_) => Some(self.printer(request)?.name.clone()),
            None => None,
        };
        let state = request.str_param("STATE")?.map(|s| s.to_ascii_uppercase());
        let limit = request.u64_param("LIMIT")?.unwrap_or(50).clamp(1, 500) as u32;
        let rows = self
            .queue
            .store()
            .list(printer, state, limit)
            .await
            .map_err(PrintError::from)?;
        let jobs: Vec<Value> = rows
            .into_iter()
            .map(|r| job_json(&self.queue.live_view(r)))
            .collect();
        Ok(json!({ "JOBS": jobs }))
    }

    async fn find(&self, request: &Request) -> Result<super::queue::store::JobRow, Failure> {
        let row = match (request.u64_param("JOB_ID")?, request.str_param("JOB_UUID")?) {
            (Some(id), _) => self
                .queue
                .store()
                .get(id as i64)
                .await
                .map_err(PrintError::from)?,
            (None, Some(u)) => self
                .queue
                .store()
                .by_uuid(u)
                .await
                .map_err(PrintError::from)?,
            (None, None) => {
                return Err(params_err(Failure::bad_params(
                    "JOB_ID (or JOB_UUID) is required",
                )))
            }
        };
        row.ok_or_else(|| {
            PrintError::JobNotFound(
                request
                    .param("JOB_ID")
                    .or(request.param("JOB_UUID"))
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            )
            .into()
        })
    }

    async fn job(&self, request: &Request) -> Outcome {
        let row = self.find(request).await?;
        Ok(job_json(&self.queue.live_view(row)))
    }

    async fn cancel(&self, request: &Request) -> Outcome {
        let row = self.find(request).await?;
        let row = self.queue.cancel(row.id).await?;
        Ok(job_json(&row))
    }

    async fn reprint(&self, request: Request, ctx: &RequestContext) -> Outcome {
        ctx.require_admin()?;
        let original = self.find(&request).await?;
        let printer = match request.str_param("PRINTER")? {
            Some(_) => self.printer(&request)?.name.clone(),
            None => original.printer.clone(),
        };
        if !self.config.printers.contains_key(&printer) {
            return Err(PrintError::PrinterNotFound {
                name: printer,
                known: self.config.printers.keys().cloned().collect(),
            }
            .into());
        }
        let data = self
            .queue
            .store()
            .data(original.id)
            .await
            .map_err(PrintError::from)?
            .ok_or_else(|| Failure::from(PrintError::JobNotFound(original.id.to_string())))?;
        let format = Format::parse(&original.format).unwrap_or(Format::Raw);
        let mut options = Options::parse(Some(&original.options)).unwrap_or_default();
        options.queue = true;
        self.submit(
            request.uuid.clone(),
            printer,
            format,
            data,
            options,
            Some(original.id),
            ctx,
            None,
        )
        .await
    }
}

fn merge(into: &mut Value, more: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), more) {
        a.extend(b);
    }
}

/// The TEST_PAGE document: who the printer is, every character Spanish receipts need, styles,
/// a barcode and a QR code.
fn test_page(p: &PrinterConfig) -> Value {
    json!([
        { "TYPE": "TEXT", "TEXT": "PISPAS", "ALIGN": "CENTER", "BOLD": true, "SIZE": 2 },
        { "TYPE": "TEXT", "TEXT": "Test page", "ALIGN": "CENTER" },
        { "TYPE": "SEPARATOR" },
        { "TYPE": "COLUMNS", "COLUMNS": [{ "TEXT": "Printer" }, { "TEXT": p.name, "ALIGN": "RIGHT" }] },
        { "TYPE": "COLUMNS", "COLUMNS": [{ "TEXT": "Connection" }, { "TEXT": p.uri.target.kind(), "ALIGN": "RIGHT" }] },
        { "TYPE": "COLUMNS", "COLUMNS": [{ "TEXT": "Width" }, { "TEXT": format!("{} dots", p.width), "ALIGN": "RIGHT" }] },
        { "TYPE": "COLUMNS", "COLUMNS": [{ "TEXT": "Code page" }, { "TEXT": p.codepage.name(), "ALIGN": "RIGHT" }] },
        { "TYPE": "SEPARATOR" },
        { "TYPE": "TEXT", "TEXT": "€ ñ Ñ á é í ó ú ü ¿ ¡ º ª ç" },
        { "TYPE": "TEXT", "TEXT": "Bold", "BOLD": true },
        { "TYPE": "TEXT", "TEXT": "Underline", "UNDERLINE": true },
        { "TYPE": "TEXT", "TEXT": "Inverted", "INVERT": true },
        { "TYPE": "BARCODE", "SYMBOLOGY": "CODE128", "DATA": "PISPAS-123" },
        { "TYPE": "QR", "DATA": "https://app.unpispas.es" },
        { "TYPE": "CUT", "MODE": if p.cut == super::program::CutMode::Full { "FULL" } else { "PARTIAL" } }
    ])
}

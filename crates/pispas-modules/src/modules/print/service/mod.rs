//! The PRINT target: every action a POS or the command log sends, turned into queue operations
//! and replies. Parameters are checked here; the queue, renderers and transports do the work.
//! Jobs are submitted here; the read-only and job-management actions are in `info.rs`, the test
//! page document in `test_page.rs`.

mod info;
mod test_page;

use super::document::{self, Format, Options};
use super::error::PrintError;
use super::printer::{PrintConfig, PrinterConfig};
use super::queue::store::NewJob;
use super::queue::{now_ms, reply_for, Queue, Ticket, TOPIC};
use crate::protocol::{Failure, Request};
use crate::router::{BoxFuture, Health, HealthState, Outcome, RequestContext, Service};
use serde_json::json;
use std::sync::Arc;

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

impl Print {
    /// The printer a request names, or the default.
    pub(super) fn printer(&self, request: &Request) -> Result<&PrinterConfig, Failure> {
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
    pub(super) async fn submit(
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
            Command::TestPage => test_page::document(&printer),
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
}

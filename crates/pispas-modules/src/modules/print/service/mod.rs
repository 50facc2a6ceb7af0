//! The PRINT target: every action a POS or the command log sends, turned into queue operations
//! and replies. Requests are parsed by `action.rs`; jobs are submitted here; the read-only and
//! job-management actions are in `info.rs`. The queue, renderers and transports do the work.

mod action;
mod info;

use super::document::{self, Format, Options};
use super::error::PrintError;
use super::printer::{PrintConfig, PrinterConfig};
use super::queue::store::NewJob;
use super::queue::{reply_for, Queue, Ticket, TOPIC};
use crate::clock::now_ms_i64;
use crate::protocol::{Failure, Request};
use crate::router::{BoxFuture, Health, HealthState, Outcome, RequestContext, Service};
use action::{Action, Name};
use serde_json::{json, Value};
use std::sync::Arc;

/// The PRINT module; a cheap handle.
#[derive(Clone)]
pub struct Print {
    pub(super) queue: Queue,
    pub(super) config: Arc<PrintConfig>,
    /// The OS's printers, looked up when a request names a printer that is not configured.
    pub(super) system: super::transport::spooler::Installed,
}

impl Service for Print {
    fn target(&self) -> &'static str {
        "PRINT"
    }

    fn actions(&self) -> &'static [&'static str] {
        Name::NAMES
    }

    fn call(&self, mut request: Request, ctx: RequestContext) -> BoxFuture<Outcome> {
        let parsed = Action::name(&request).and_then(|n| Action::parse(n, &mut request));
        let action = match parsed {
            Ok(a) => a,
            Err(f) => return Box::pin(std::future::ready(Err(f))),
        };
        // The place in the printer's line is taken now, in arrival order, before any await.
        let ticket = match &action {
            Action::Print { printer, .. }
            | Action::OpenDrawer { printer, .. }
            | Action::Cut { printer, .. }
            | Action::TestPage { printer, .. } => self
                .printer(printer.as_deref())
                .ok()
                .and_then(|p| self.queue.ticket(&p.name)),
            _ => None,
        };
        let this = self.clone();
        Box::pin(async move { this.run(action, request.uuid, &ctx, ticket).await })
    }

    fn health(&self) -> Health {
        let mut troubled = Vec::new();
        for slot in self.queue.slots().values() {
            if let Some((state, _)) = slot.last_state() {
                if !state.can_print() {
                    troubled.push(format!("{}: {}", slot.config.name, state.sentence()));
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

impl Print {
    async fn run(
        &self,
        action: Action,
        uuid: String,
        ctx: &RequestContext,
        ticket: Option<Ticket>,
    ) -> Outcome {
        match action {
            Action::GetPrinters { scan } => {
                // Scanning another subnet or port is a network scan: an administrator's call.
                if scan
                    .as_ref()
                    .is_some_and(|s| s.subnet.is_some() || s.port != 9100)
                {
                    ctx.require_admin()?;
                }
                self.get_printers(scan).await
            }
            Action::Print {
                printer,
                format,
                options,
                data,
            } => {
                self.print(uuid, printer.as_deref(), format, options, data, ctx, ticket)
                    .await
            }
            Action::OpenDrawer {
                printer,
                pin,
                options,
            } => {
                let config = self.resolve(printer.as_deref()).await?;
                let format = Format::Drawer {
                    pin: pin.unwrap_or(config.drawer_pin),
                };
                let name = config.name.clone();
                self.submit(uuid, name, format, Vec::new(), options, None, ctx, ticket)
                    .await
            }
            Action::Cut {
                printer,
                mode,
                options,
            } => {
                let name = self.printer(printer.as_deref())?.name.clone();
                self.submit(
                    uuid,
                    name,
                    Format::Cut(mode),
                    Vec::new(),
                    options,
                    None,
                    ctx,
                    ticket,
                )
                .await
            }
            Action::TestPage { printer, options } => {
                let name = self.printer(printer.as_deref())?.name.clone();
                self.submit(
                    uuid,
                    name,
                    Format::TestPage,
                    Vec::new(),
                    options,
                    None,
                    ctx,
                    ticket,
                )
                .await
            }
            Action::Status { printer } => self.status(printer.as_deref()).await,
            Action::Jobs {
                printer,
                state,
                limit,
            } => self.jobs(printer.as_deref(), state, limit).await,
            Action::Job { job } => self.job(&job).await,
            Action::Cancel { job } => self.cancel(&job, ctx).await,
            Action::Reprint { job, printer } => {
                ctx.require_admin()?;
                self.reprint(uuid, &job, printer.as_deref(), ctx).await
            }
            Action::Subscribe => {
                ctx.subscribe(TOPIC, &uuid);
                Ok(json!({ "TOPIC": TOPIC }))
            }
            Action::Unsubscribe => Ok(json!({ "WAS_SUBSCRIBED": ctx.unsubscribe(TOPIC) })),
        }
    }

    /// The configured printer named (case and a `PRINTER_` prefix ignored), or the default.
    ///
    /// Fails with PRINTER_NOT_FOUND naming the configured printers.
    pub(super) fn printer(&self, named: Option<&str>) -> Result<&PrinterConfig, Failure> {
        let name = match named {
            Some(n) => n.to_ascii_uppercase(),
            None => match &self.config.default_printer {
                Some(d) => d.clone(),
                None => return Err(PrintError::NoDefaultPrinter.into()),
            },
        };
        let name = name.strip_prefix("PRINTER_").unwrap_or(&name);
        self.config.printers.get(name).ok_or_else(|| {
            PrintError::PrinterNotFound {
                name: name.to_string(),
                known: self.config.printers.keys().cloned().collect(),
            }
            .into()
        })
    }

    /// The printer a request names: a configured one (they win), else an OS printer by its
    /// exact name as GET_PRINTERS lists it, printed to through its spooler queue with the
    /// default settings — so a POS can print to what it found without an administrator first
    /// adding a PRINTER_<NAME> key.
    ///
    /// Fails with PRINTER_NOT_FOUND naming the configured printers when neither exists.
    pub(super) async fn resolve(&self, named: Option<&str>) -> Result<PrinterConfig, Failure> {
        let configured = self.printer(named);
        let (Err(not_found), Some(name)) = (&configured, named) else {
            return configured.cloned();
        };
        if let Some(slot) = self.queue.slot(name) {
            return Ok(slot.config.clone());
        }
        if !self.system.has(name).await {
            return Err(not_found.clone());
        }
        let config = super::printer::spooler_printer(name)
            .map_err(|e| Failure::new(crate::protocol::ErrorCode::PrinterNotFound, e))?;
        self.queue.ensure_slot(&config);
        tracing::info!(
            printer = name,
            "printing to an OS printer that is not configured, through its spooler queue"
        );
        Ok(config)
    }

    #[allow(clippy::too_many_arguments)]
    async fn print(
        &self,
        uuid: String,
        printer: Option<&str>,
        format: Format,
        options: Options,
        data: Option<Value>,
        ctx: &RequestContext,
        ticket: Option<Ticket>,
    ) -> Outcome {
        let printer = self.resolve(printer).await?.name;
        let max = self.config.max_data_bytes;
        // Decoding tens of megabytes of base64 is kept off the async runtime.
        let data =
            tokio::task::spawn_blocking(move || document::accept(format, data.as_ref(), max))
                .await
                .map_err(|e| Failure::internal("decoding the document", e))??;
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
        let client = client_of(ctx);
        let job = NewJob {
            uuid,
            printer,
            format,
            data,
            options,
            accepted_at: now_ms_i64(),
            source_job: source,
            client: client.clone(),
        };
        let (row, repeat) = self
            .queue
            .submit(job, Some(ctx.connection_id), &client, ticket)
            .await?;
        reply_for(&self.queue.live_view(row), repeat)
    }
}

/// Who a request is from, as jobs record it: the page's origin, or `native clients`.
pub(super) fn client_of(ctx: &RequestContext) -> String {
    ctx.origin
        .clone()
        .unwrap_or_else(|| "native clients".to_string())
}

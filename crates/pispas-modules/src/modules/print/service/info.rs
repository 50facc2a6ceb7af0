//! PRINT's read and manage actions: STATUS (asked of the printer itself), GET_PRINTERS (with
//! the OS's printers and an optional LAN probe), JOBS, JOB, CANCEL and REPRINT.

use super::Print;
use crate::modules::print::discovery;
use crate::modules::print::document::{Format, Options};
use crate::modules::print::error::PrintError;
use crate::modules::print::queue::store::JobRow;
use crate::modules::print::queue::{job_json, now_ms};
use crate::modules::print::transport::{self, spooler, StatusReport};
use crate::protocol::{Failure, Request};
use crate::router::{Outcome, RequestContext};
use serde_json::{json, Value};
use std::time::Duration;

impl Print {
    pub(super) async fn status(&self, request: &Request) -> Outcome {
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
                let word = crate::modules::print::queue::state_word(&s);
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
                        .map(|r| {
                            crate::modules::print::error::not_ready_code(r)
                                .as_str()
                                .to_string()
                        })
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

    pub(super) async fn get_printers(&self, request: &Request) -> Outcome {
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
                v.as_bool().or_else(|| {
                    v.as_str()
                        .and_then(crate::modules::print::printer::parse_bool)
                })
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

    pub(super) async fn jobs(&self, request: &Request) -> Outcome {
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

    async fn find(&self, request: &Request) -> Result<JobRow, Failure> {
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
            (None, None) => return Err(Failure::bad_params("JOB_ID (or JOB_UUID) is required")),
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

    pub(super) async fn job(&self, request: &Request) -> Outcome {
        let row = self.find(request).await?;
        Ok(job_json(&self.queue.live_view(row)))
    }

    pub(super) async fn cancel(&self, request: &Request) -> Outcome {
        let row = self.find(request).await?;
        let row = self.queue.cancel(row.id).await?;
        Ok(job_json(&row))
    }

    pub(super) async fn reprint(&self, request: Request, ctx: &RequestContext) -> Outcome {
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

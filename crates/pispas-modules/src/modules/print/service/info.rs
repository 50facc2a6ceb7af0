//! PRINT's read and manage actions: STATUS (asked of the printer itself), GET_PRINTERS (with
//! the OS's printers and an optional LAN probe), JOBS, JOB, CANCEL and REPRINT.

use super::action::{JobRef, Scan};
use super::Print;
use crate::clock::now_ms_i64;
use crate::modules::print::discovery;
use crate::modules::print::error::PrintError;
use crate::modules::print::queue::store::JobRow;
use crate::modules::print::queue::{job_json, JobState};
use crate::modules::print::state::PrinterState;
use crate::modules::print::transport::{self, StatusReport};
use crate::protocol::Failure;
use crate::router::{Outcome, RequestContext};
use serde_json::{json, Value};
use std::time::Duration;

impl Print {
    pub(super) async fn status(&self, named: Option<&str>) -> Outcome {
        let printer = self.resolve(named).await?;
        let Some(slot) = self.queue.slot(&printer.name) else {
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
        let mut out = json!({ "PRINTER": printer.name, "TRANSPORT": printer.uri.address.kind(), "QUEUED": queued });
        let line = tokio::time::timeout(Duration::from_millis(500), slot.line.lock()).await;
        let Ok(_guard) = line else {
            // Printing right now: the last known state is fresh enough.
            let (state, at) = slot
                .last_state()
                .map_or(("PRINTING", now_ms_i64()), |(s, at)| (s.as_str(), at));
            merge(
                &mut out,
                json!({ "SOURCE": "LAST_KNOWN", "STATE": state, "AT": at, "PRINTING": true }),
            );
            return Ok(out);
        };
        match transport::query(&printer).await {
            Ok(StatusReport::Printer(s)) => {
                let state = PrinterState::from_status(&s);
                slot.set_state(state);
                merge(
                    &mut out,
                    json!({
                        "SOURCE": "PRINTER", "STATE": state.as_str(), "ONLINE": s.online, "PAPER": s.paper,
                        "COVER_OPEN": s.cover_open, "DRAWER_OPEN": s.drawer_open, "ERROR": s.error,
                    }),
                );
                if state.can_print() {
                    self.queue.nudge(&printer.name);
                }
            }
            Ok(StatusReport::Spooler {
                state: spooler_state,
                ready,
                reason,
            }) => {
                // A queue that is not ready without a reason the spooler could give is offline.
                let state = match (ready, reason) {
                    (true, _) => PrinterState::Ready,
                    (false, Some(r)) => PrinterState::from(r),
                    (false, None) => PrinterState::Offline,
                };
                slot.set_state(state);
                merge(
                    &mut out,
                    json!({ "SOURCE": "SPOOLER", "STATE": state.as_str(), "SPOOLER_STATE": spooler_state, "ONLINE": ready }),
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
                slot.set_state(PrinterState::Offline);
                merge(
                    &mut out,
                    json!({ "SOURCE": "PRINTER", "STATE": "OFFLINE", "ONLINE": false, "DETAIL": e.to_string() }),
                );
            }
        }
        Ok(out)
    }

    pub(super) async fn get_printers(&self, scan: Option<Scan>) -> Outcome {
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
                let slot = self.queue.slot(&p.name);
                let (state, at) = slot.and_then(|s| s.last_state()).map_or(("UNKNOWN", None), |(s, at)| (s.as_str(), Some(at)));
                json!({
                    "NAME": p.name, "URI": p.uri.raw, "TRANSPORT": p.uri.address.kind(), "WIDTH": p.width,
                    "CODEPAGE": p.codepage.name(), "CUT": p.cut, "DRAWER_PIN": p.drawer_pin,
                    "DEFAULT": self.config.default_printer.as_deref() == Some(p.name.as_str()),
                    "STATE": state, "STATE_AT": at,
                    "QUEUED": pending.iter().find(|(n, _)| *n == p.name).map(|(_, n)| *n).unwrap_or(0),
                })
            })
            .collect();
        let system: Vec<Value> = self
            .system
            .refresh()
            .await
            .into_iter()
            .map(|p| json!({ "NAME": p.name, "URI": format!("spooler://{}", p.name), "STATE": p.state, "READY": p.ready }))
            .collect();
        let mut out = json!({ "DEFAULT": self.config.default_printer, "PRINTERS": printers, "SYSTEM": system });
        if let Some(Scan {
            subnet,
            port,
            timeout,
        }) = scan
        {
            let found = discovery::scan(subnet.as_deref(), port, timeout)
                .await
                .map_err(Failure::bad_params)?;
            merge(&mut out, json!({ "NETWORK": found }));
        }
        Ok(out)
    }

    pub(super) async fn jobs(
        &self,
        printer: Option<&str>,
        state: Option<JobState>,
        limit: u32,
    ) -> Outcome {
        let printer = match printer {
            Some(named) => Some(self.resolve(Some(named)).await?.name),
            None => None,
        };
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

    async fn find(&self, job: &JobRef) -> Result<JobRow, Failure> {
        let store = self.queue.store();
        let row = match job {
            JobRef::Id(id) => store.get(*id).await,
            JobRef::Uuid(u) => store.by_uuid(u).await,
        }
        .map_err(PrintError::from)?;
        row.ok_or_else(|| PrintError::JobNotFound(job.shown()).into())
    }

    pub(super) async fn job(&self, job: &JobRef) -> Outcome {
        let row = self.find(job).await?;
        Ok(job_json(&self.queue.live_view(row)))
    }

    /// CANCEL: only the client that sent the job, or an administrator.
    pub(super) async fn cancel(&self, job: &JobRef, ctx: &RequestContext) -> Outcome {
        let row = self.find(job).await?;
        if row.client.as_deref() != Some(super::client_of(ctx).as_str()) {
            ctx.require_admin().map_err(|f| {
                Failure::new(
                    f.code,
                    format!("job {} was sent by another client: only it or the admin token may cancel it", row.id),
                )
            })?;
        }
        let row = self.queue.cancel(row.id).await?;
        Ok(job_json(&row))
    }

    /// REPRINT (admin, checked by the caller): the stored document again, as a new job.
    pub(super) async fn reprint(
        &self,
        uuid: String,
        job: &JobRef,
        printer: Option<&str>,
        ctx: &RequestContext,
    ) -> Outcome {
        let original = self.find(job).await?;
        let printer = match printer {
            Some(named) => self.resolve(Some(named)).await?.name,
            None => original.printer.clone(),
        };
        if !self.config.printers.contains_key(&printer) && self.queue.slot(&printer).is_none() {
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
        let mut options = original.options.clone();
        options.queue = true;
        self.submit(
            uuid,
            printer,
            original.format,
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

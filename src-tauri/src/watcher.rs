//! Keeps the tray in step with the engine: the host's state (starting, running, failed), every
//! DEVICE_STATE event (with an OS notification when a device goes from fine to a problem) and a
//! slow poll of module health, which modules report when asked rather than by event.

use crate::health::{self, Level};
use crate::windows::{self, Page};
use crate::{tray, AutostartItem, Shell};
use pispas_modules::events::DeviceState;
use pispas_modules::HostState;
use serde_json::Value;
use std::time::Duration;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

/// How often module health is re-read.
const HEALTH_POLL: Duration = Duration::from_secs(3);

pub(crate) fn notify(app: &AppHandle, title: &str, body: &str) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!(error = %e, "notification not shown");
    }
}

/// Keeps the tray in step with the engine: host state changes, DEVICE_STATE events (with a
/// notification when a device fails) and a slow poll of module health.
pub(crate) async fn watch_health(app: AppHandle, items: Option<tray::TrayItems>) {
    let mut state = app.state::<Shell>().state.clone();
    if let Some(items) = &items {
        app.manage(AutostartItem(items.autostart.clone()));
    }
    let mut last_summary = None;
    let mut failed_shown = false;
    let mut device_levels: std::collections::HashMap<String, Level> = Default::default();
    loop {
        let current = state.borrow_and_update().clone();
        let mut events = match &current {
            HostState::Running(h) => Some(h.events.subscribe()),
            _ => None,
        };
        if let HostState::Failed { message, .. } = &current {
            if !failed_shown {
                failed_shown = true;
                notify(&app, "Pispas is not running", message);
                windows::open(&app, Page::Status);
            }
        } else if matches!(current, HostState::Running(_)) {
            failed_shown = false;
        }
        loop {
            let (modules, devices) = match &current {
                HostState::Running(h) => (h.directory.modules(), h.status.devices()),
                _ => (Vec::new(), Vec::new()),
            };
            let summary = health::summarize(&current, &modules, &devices);
            if last_summary.as_ref() != Some(&summary) {
                if let Some(items) = &items {
                    tray::show(items, &summary);
                }
                last_summary = Some(summary);
            }
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() { return; }
                    break;
                }
                ev = async {
                    match events.as_mut() {
                        Some(rx) => rx.recv().await.ok(),
                        None => std::future::pending().await,
                    }
                } => {
                    if let Some(ev) = ev {
                        device_event(&app, &ev.service, &ev.data, &mut device_levels);
                    }
                }
                _ = tokio::time::sleep(HEALTH_POLL) => {}
            }
        }
    }
}

/// A notification when a device goes from fine (or unknown) to a problem.
fn device_event(
    app: &AppHandle,
    service: &str,
    data: &Value,
    levels: &mut std::collections::HashMap<String, Level>,
) {
    let Some(state) = DeviceState::from_event(data) else {
        return;
    };
    let level = health::level(state.state.severity());
    let previous = levels.insert(format!("{service}/{}", state.device), level);
    if level == Level::Problem && previous != Some(Level::Problem) {
        let word = state.state.as_str();
        let detail = if state.detail.is_empty() {
            word
        } else {
            &state.detail
        };
        notify(app, &format!("{service} {}: {word}", state.device), detail);
    }
}

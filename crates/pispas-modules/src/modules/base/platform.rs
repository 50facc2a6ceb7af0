//! BASE's actions on the till's OS (admin token required, checked by `mod.rs`): `PLATFORM_STATUS`
//! (does `local.unpispas.es` resolve here, is the hosts entry there, is the browsers' Local
//! Network Access policy in force for the POS origins), `HOSTS_ADD`/`HOSTS_REMOVE`,
//! `BROWSER_POLICY_SET`/`BROWSER_POLICY_REMOVE`. Each write is tried directly and, when
//! refused, through the OS's elevation prompt (`platform::elevate`). The work is in
//! `crate::platform`; this file maps it to replies.

use super::BaseContext;
use crate::platform::{elevate, hosts, policy, PlatformError};
use crate::protocol::{ErrorCode, Failure};
use crate::router::Outcome;
use serde_json::{json, Value};

/// What a write should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    HostsAdd,
    HostsRemove,
    PolicySet,
    PolicyRemove,
}

/// The name's resolution and the hosts entry: what STATUS shows to everyone.
pub(super) async fn local_name() -> Value {
    let (here, addrs) = hosts::resolves_here().await;
    json!({
        "NAME": hosts::NAME,
        "RESOLVES_HERE": here,
        "ADDRESSES": addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "HOSTS_ENTRY": hosts::has_entry(&hosts::path()),
    })
}

/// `PLATFORM_STATUS`.
pub(super) async fn status(ctx: &BaseContext) -> Outcome {
    let (urls, skipped) = policy::url_patterns(&ctx.config.allowed_origins);
    let browsers = tokio::task::spawn_blocking(|| policy::system().status())
        .await
        .map_err(|e| Failure::internal("reading the browser policy", e))?;
    let browsers: Vec<Value> = browsers
        .iter()
        .map(|b| {
            json!({
                "BROWSER": b.browser.name(),
                "INSTALLED": b.installed,
                "IN_FORCE": b.in_force(&urls),
                "URLS": b.urls,
                "LOCATION": b.location,
            })
        })
        .collect();
    Ok(json!({
        "LOCAL_NAME": local_name().await,
        "HOSTS_FILE": hosts::path().display().to_string(),
        "POLICY": {
            "NAME": policy::POLICY,
            "URLS": urls,
            "SKIPPED": skipped,
            "BROWSERS": browsers,
            "NOTE": if cfg!(target_os = "macos") { policy::MACOS } else { "" },
        },
    }))
}

/// One of the writes, then the status after it.
pub(super) async fn change(ctx: &BaseContext, change: Change) -> Outcome {
    let (urls, _) = policy::url_patterns(&ctx.config.allowed_origins);
    if change == Change::PolicySet && urls.is_empty() {
        return Err(Failure::new(
            ErrorCode::InvalidConfig,
            "ALLOWED_ORIGINS has no POS origin to allow (only * or nothing)",
        ));
    }
    let list = urls.join(",");
    let result = tokio::task::spawn_blocking(move || -> Result<String, PlatformError> {
        let direct = match change {
            Change::HostsAdd => hosts::add(&hosts::path()).map(|()| "hosts entry present".into()),
            Change::HostsRemove => {
                hosts::remove(&hosts::path()).map(|()| "hosts entry removed".into())
            }
            Change::PolicySet => policy::system()
                .set(&urls)
                .map(|n| format!("policy written for {n} browser(s)")),
            Change::PolicyRemove => policy::system()
                .remove()
                .map(|n| format!("policy removed for {n} browser(s)")),
        };
        match direct {
            Err(PlatformError::NeedsElevation(_)) => {
                let args: Vec<&str> = match change {
                    Change::HostsAdd => vec!["hosts-add"],
                    Change::HostsRemove => vec!["hosts-remove"],
                    Change::PolicySet => vec!["policy-set", &list],
                    Change::PolicyRemove => vec!["policy-remove"],
                };
                elevate::run(&args)
            }
            other => other,
        }
    })
    .await
    .map_err(|e| Failure::internal("changing the system", e))?;
    let done = result.map_err(failure)?;
    tracing::info!("{done}");
    let mut out = status(ctx).await?;
    if let Value::Object(m) = &mut out {
        m.insert("DONE".into(), json!(done));
    }
    Ok(out)
}

fn failure(e: PlatformError) -> Failure {
    match e {
        PlatformError::NeedsElevation(m) => Failure::new(ErrorCode::NeedsElevation, m),
        PlatformError::Unsupported(m) => Failure::new(ErrorCode::Unsupported, m),
        e @ PlatformError::Io { .. } => Failure::internal("changing the system", e),
    }
}

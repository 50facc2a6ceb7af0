//! The Pispas desktop app: one process that runs the engine on a background tokio runtime (through
//! `pispas_modules::Host`, so the configurator can restart it in place) and gives cashiers and
//! support a tray icon and windows.
//!
//! Lifecycle: the single-instance plugin runs first, so a second launch hands its arguments to the
//! running app and exits before touching the port. Windows are created on demand and destroyed on
//! close; the app lives on in the tray. Quit (menu, `pispas --quit`, SIGTERM) stops the engine
//! gracefully before the process exits. This crate never speaks a device protocol.

mod cli;
mod commands;
mod health;
mod tray;
mod watcher;
mod windows;

use pispas_modules::config::default_data_dir;
use pispas_modules::{ConfigEnv, Control, Host, HostOptions, HostState, LoadOptions};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager, RunEvent};
use tauri_plugin_autostart::{MacosLauncher, ManagerExt};
use tokio::sync::watch;
use tracing_appender::non_blocking::WorkerGuard;
use windows::Page;

/// Longest the engine gets to stop on Quit before the process exits anyway.
const QUIT_GRACE: Duration = Duration::from_secs(15);

/// What the app keeps for its commands and menus.
pub struct Shell {
    control: Control,
    state: watch::Receiver<HostState>,
    host: Mutex<Option<JoinHandle<()>>>,
    quitting: AtomicBool,
    log_guard: Mutex<Option<WorkerGuard>>,
}

/// Runs the app; returns when it quits.
pub fn run() -> ExitCode {
    // `--platform <command>` (installers, the configurator's elevated half), the PDF worker and
    // the rendering browser's guard never start the app (see the engine's `process` module).
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = pispas_modules::process::helper_mode(&raw) {
        return code;
    }
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pispas: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    if args.version {
        println!("pispas {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if args.help {
        println!("{}", cli::USAGE);
        return ExitCode::SUCCESS;
    }
    let options = LoadOptions {
        config_path: args.config.clone(),
        data_dir: args.data_dir.clone(),
        use_process_env: true,
    };
    // No tray, no windows, no display needed: the service alone, as `pispas-modules` runs it.
    if args.headless {
        return match pispas_modules::process::run_headless(options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pispas: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    // Logging needs the folder and level before the engine starts; an invalid configuration is
    // reported by the host (in the status window), so fall back to defaults here.
    let (level, data_dir) = match ConfigEnv::load(&options) {
        Ok(c) => (c.log_level.clone(), c.data_dir.clone()),
        Err(_) => ("info".to_string(), default_data_dir()),
    };
    let guard = pispas_modules::logging::init(&level, &data_dir)
        .map_err(|e| eprintln!("pispas: logging disabled: {e}"))
        .ok();
    let host = Host::new(
        options,
        HostOptions {
            retry_failed_start: true,
        },
    );
    let shell = Shell {
        control: host.control(),
        state: host.subscribe(),
        host: Mutex::new(None),
        quitting: AtomicBool::new(false),
        log_guard: Mutex::new(guard),
    };
    let host = Mutex::new(Some(host));
    let first_args = args.clone();
    let built = tauri::Builder::default()
        // First, so a second instance exits before anything else happens.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            second_instance(app, argv);
        }))
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .plugin(tauri_plugin_notification::init())
        .manage(shell)
        .invoke_handler(tauri::generate_handler![
            commands::endpoint,
            commands::autostart_enabled,
            commands::set_autostart,
            commands::open_page,
            commands::restart_service,
            commands::save_export,
        ])
        .setup(move |app| {
            let handle = app.handle().clone();
            if let Some(host) = host.lock().ok().and_then(|mut h| h.take()) {
                let join = tauri::async_runtime::spawn(async move {
                    if let Err(e) = host.run().await {
                        tracing::error!("engine host stopped: {e:#}");
                    }
                });
                if let Ok(mut slot) = app.state::<Shell>().host.lock() {
                    *slot = Some(join);
                }
            }
            match tray::create(&handle) {
                Ok(items) => {
                    tauri::async_runtime::spawn(watcher::watch_health(handle.clone(), Some(items)));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no tray icon on this desktop; windows only");
                    tauri::async_runtime::spawn(watcher::watch_health(handle.clone(), None));
                }
            }
            tauri::async_runtime::spawn(quit_on_signal(handle.clone()));
            if first_args.quit {
                quit(&handle);
            } else if let Some(page) = first_args.open {
                windows::open(&handle, page);
            } else if !first_args.hidden {
                windows::open(&handle, Page::Status);
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match built {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("cannot start the desktop app: {e}");
            eprintln!("pispas: cannot start the desktop app: {e}");
            return ExitCode::FAILURE;
        }
    };
    app.run(|_app, event| {
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            // The last window closed: live on in the tray. Quit passes an exit code.
            api.prevent_exit();
        }
    });
    ExitCode::SUCCESS
}

/// A second launch: `--quit` quits, `--close` closes every window, `--open PAGE` opens that
/// page, anything else shows status.
fn second_instance(app: &AppHandle, argv: Vec<String>) {
    match cli::parse(argv.into_iter().skip(1)) {
        Ok(a) if a.quit => quit(app),
        Ok(a) if a.close => windows::close_all(app),
        Ok(a) => windows::open(app, a.open.unwrap_or(Page::Status)),
        Err(e) => {
            tracing::warn!("second launch with bad arguments: {e}");
            windows::open(app, Page::Status);
        }
    }
}

/// Stops the engine gracefully, then exits the process. Safe to call more than once.
pub fn quit(app: &AppHandle) {
    let shell = app.state::<Shell>();
    if shell.quitting.swap(true, Ordering::SeqCst) {
        return;
    }
    tracing::info!("quit requested");
    shell.control.stop();
    let join = shell.host.lock().ok().and_then(|mut h| h.take());
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(join) = join {
            if tokio::time::timeout(QUIT_GRACE, join).await.is_err() {
                tracing::warn!("the engine did not stop in time; exiting anyway");
            }
        }
        tracing::info!("pispas desktop app exiting");
        // Flush the log file before the event loop ends the process.
        let guard = app
            .state::<Shell>()
            .log_guard
            .lock()
            .ok()
            .and_then(|mut g| g.take());
        drop(guard);
        app.exit(0);
    });
}

/// "Restart service" in the tray, "Retry" on the status page.
pub fn restart_service(app: &AppHandle) {
    app.state::<Shell>()
        .control
        .restart("requested from the desktop app");
}

/// Turns start at login on or off and keeps the tray's checkbox in step.
pub fn set_autostart(app: &AppHandle, enabled: bool) -> Result<bool, String> {
    let launcher = app.autolaunch();
    let result = if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| e.to_string())?;
    let now = launcher.is_enabled().map_err(|e| e.to_string())?;
    if let Some(item) = app.try_state::<AutostartItem>() {
        let _ = item.0.set_checked(now);
    }
    Ok(now)
}

/// The tray checkbox was clicked (it has already toggled its own mark).
pub fn toggle_autostart(app: &AppHandle) {
    let enabled = app.autolaunch().is_enabled().unwrap_or(false);
    if let Err(e) = set_autostart(app, !enabled) {
        tracing::warn!("start at login could not be changed: {e}");
        watcher::notify(app, "Start at login", &format!("Could not be changed: {e}"));
    }
}

/// The tray's "Start at login" item, kept so the configurator can update it.
pub(crate) struct AutostartItem(pub(crate) tauri::menu::CheckMenuItem<tauri::Wry>);

/// SIGTERM / Ctrl-C (and, on Windows, log-off and shutdown) quit like the menu does.
async fn quit_on_signal(app: AppHandle) {
    match pispas_modules::signals::shutdown_requested().await {
        Ok(signal) => {
            tracing::info!("{signal} received");
            quit(&app);
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for OS signals"),
    }
}

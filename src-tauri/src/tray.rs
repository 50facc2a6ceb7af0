//! The tray icon: a coloured dot on the app icon tells health at a glance (green ok, amber needs
//! attention, red problem, grey starting); the tooltip and the menu's first line say what is
//! wrong. Menu: status line, Open status, Command log, Configurator, Start at login, Restart
//! service, Quit.
//!
//! The tray only reads the engine (through `health.rs`); the actions go through `lib.rs`.

use crate::health::{Level, Summary};
use crate::windows::{self, Page};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Wry};
use tauri_plugin_autostart::ManagerExt;

pub(crate) const TRAY_ID: &str = "pispas";
const ICON: &[u8] = include_bytes!("../../icons/32x32.png");

/// The menu items the app updates later.
pub(crate) struct TrayItems {
    pub tray: TrayIcon,
    pub status_line: MenuItem<Wry>,
    pub autostart: CheckMenuItem<Wry>,
}

/// Builds the tray icon and its menu.
///
/// Fails when the platform has no tray support at all (the app then runs without one).
pub(crate) fn create(app: &AppHandle) -> tauri::Result<TrayItems> {
    let status_line = MenuItem::with_id(app, "state", "Pispas: starting…", false, None::<&str>)?;
    let autostart_on = app.autolaunch().is_enabled().unwrap_or(false);
    let autostart = CheckMenuItem::with_id(
        app,
        "autostart",
        "Start at login",
        true,
        autostart_on,
        None::<&str>,
    )?;
    let menu = Menu::with_items(
        app,
        &[
            &status_line,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "status", "Open status", true, None::<&str>)?,
            &MenuItem::with_id(app, "log", "Command log", true, None::<&str>)?,
            &MenuItem::with_id(app, "config", "Configurator", true, None::<&str>)?,
            &MenuItem::with_id(app, "kitchen", "Kitchen display", true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &autostart,
            &MenuItem::with_id(app, "restart", "Restart service", true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "quit", "Quit Pispas", true, None::<&str>)?,
        ],
    )?;
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(Level::Starting))
        .tooltip("Pispas local service: starting")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "status" => windows::open(app, Page::Status),
            "log" => windows::open(app, Page::Log),
            "config" => windows::open(app, Page::Config),
            "kitchen" => windows::open(app, Page::Kitchen),
            "autostart" => crate::toggle_autostart(app),
            "restart" => crate::restart_service(app),
            "quit" => crate::quit(app),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                windows::open(tray.app_handle(), Page::Status);
            }
        })
        .build(app)?;
    Ok(TrayItems {
        tray,
        status_line,
        autostart,
    })
}

/// Shows a new summary.
pub(crate) fn show(items: &TrayItems, summary: &Summary) {
    let _ = items.tray.set_icon(Some(icon(summary.level)));
    let _ = items.tray.set_tooltip(Some(&summary.tooltip));
    let _ = items.status_line.set_text(&summary.line);
}

/// The app icon with a status dot in the lower right corner.
pub(crate) fn icon(level: Level) -> Image<'static> {
    let base = match Image::from_bytes(ICON) {
        Ok(i) => i,
        Err(_) => return Image::new_owned(vec![0; 4 * 16 * 16], 16, 16),
    };
    let (w, h) = (base.width(), base.height());
    let mut rgba = base.rgba().to_vec();
    let color: [u8; 3] = match level {
        Level::Ok => [0x2e, 0xa0, 0x43],
        Level::Starting => [0x8b, 0x94, 0x9e],
        Level::Attention => [0xd2, 0x99, 0x22],
        Level::Problem => [0xda, 0x36, 0x33],
    };
    let r = w as f32 * 0.24;
    let (cx, cy) = (w as f32 - r - 0.5, h as f32 - r - 0.5);
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let px = ((y * w + x) * 4) as usize;
            if d <= r - 1.5 {
                rgba[px..px + 4].copy_from_slice(&[color[0], color[1], color[2], 255]);
            } else if d <= r {
                rgba[px..px + 4].copy_from_slice(&[255, 255, 255, 255]);
            }
        }
    }
    Image::new_owned(rgba, w, h)
}

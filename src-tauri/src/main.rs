//! The desktop app's entry point; everything lives in `lib.rs` (as in Tauri's own examples).
// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    pispas_app::run()
}

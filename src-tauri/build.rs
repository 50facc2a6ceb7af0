//! Tauri's build step: reads tauri.conf.json (top level) and the capabilities in
//! src-tauri/capabilities, and embeds the app icon.
fn main() {
    tauri_build::build()
}

pub fn run() -> std::process::ExitCode {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("tauri");
    std::process::ExitCode::SUCCESS
}

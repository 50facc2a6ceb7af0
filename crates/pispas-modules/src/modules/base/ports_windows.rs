//! Windows printers: the names `Get-Printer` lists (the spooler's queues, as `spooler://NAME`
//! expects them). PowerShell is always present on supported Windows versions.

/// The printer names, or why they could not be listed.
pub(crate) async fn printers() -> Result<Vec<String>, String> {
    // CREATE_NO_WINDOW: no console flashes up from the desktop app.
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    let out = tokio::process::Command::new("powershell.exe")
        .creation_flags(CREATE_NO_WINDOW)
        .args([
            "-NoProfile",
            "-NonInteractive",
            "-Command",
            "Get-Printer | Select-Object -ExpandProperty Name",
        ])
        .output()
        .await
        .map_err(|e| format!("powershell: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

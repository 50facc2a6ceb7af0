//! The admin token: from ADMIN_TOKEN when set, otherwise generated on first run and kept in the
//! data folder (`admin_token`, owner-readable only) so it survives restarts and the desktop app can
//! hand it to its own windows.

use std::path::Path;

const FILE: &str = "admin_token";

/// Returns the configured token, or the stored one, or a new random one (stored).
///
/// Fails when the data folder cannot be read or written, or the system has no randomness.
pub fn admin_token(configured: Option<&str>, data_dir: &Path) -> std::io::Result<String> {
    if let Some(t) = configured {
        return Ok(t.to_string());
    }
    let path = data_dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) if t.trim().len() >= 16 => return Ok(t.trim().to_string()),
        Ok(_) => {
            tracing::warn!(path = %path.display(), "stored admin token is too short; generating a new one")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = random_token()?;
    std::fs::create_dir_all(data_dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&path)?, token.as_bytes())?;
    tracing::info!(path = %path.display(), "generated the admin token");
    Ok(token)
}

fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| std::io::Error::other("no system randomness"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_generated_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("pispas-token-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = admin_token(None, &dir).unwrap();
        assert_eq!(first.len(), 48);
        assert_eq!(admin_token(None, &dir).unwrap(), first);
        assert_eq!(
            admin_token(Some("configured-token-123"), &dir).unwrap(),
            "configured-token-123"
        );
    }
}

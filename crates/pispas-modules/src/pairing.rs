//! Kitchen displays paired with this service (tablets on the LAN, `KITCHEN_LAN`): a one-time
//! pairing code, shown on the till as a QR code for a few minutes, is traded once for a display
//! token that the tablet keeps. Tokens are stored as their SHA-256 only (`kitchen_displays`), so
//! the database never holds one that works; revoking a display removes its row and its token
//! stops working at once: a connection already open is refused at its next request and closed at
//! its next event.
//!
//! Shared by the kitchen module (which pairs, lists and revokes, for an administrator) and the
//! kitchen LAN listener (which admits by token). It does not decide who may pair: callers do.

use crate::store::{Store, StoreError};
use rusqlite::params;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

const SCHEMA: &str = "
CREATE TABLE kitchen_displays (
    name TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    paired_at INTEGER NOT NULL
);
";

/// How long a pairing code can be used.
pub const CODE_VALID_MS: u64 = 10 * 60 * 1000;
/// Codes waiting to be used at once; the oldest goes first beyond this.
const MAX_CODES: usize = 16;
/// Characters of a pairing code: no 0/O, 1/I/L, so it can be typed from the screen.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LEN: usize = 8;

/// A code waiting to be traded for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingCode {
    pub code: String,
    /// The name the display will have (its `BY`).
    pub name: String,
    pub expires_at: u64,
}

/// A paired display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Display {
    pub name: String,
    pub paired_at: u64,
}

/// Why a code was not traded.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    #[error("this pairing code is not valid (wrong, already used, or older than 10 minutes): ask for a new one on the till")]
    BadCode,
    #[error("the system gave no randomness for a pairing code or token")]
    NoRandomness,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The paired displays and the codes waiting; cheap to clone (one shared state).
#[derive(Clone)]
pub struct Pairings {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// SHA-256 of each token (hex) → display name.
    tokens: RwLock<HashMap<String, String>>,
    codes: Mutex<Vec<PairingCode>>,
}

impl std::fmt::Debug for Pairings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pairings").finish_non_exhaustive()
    }
}

fn sha256_hex(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], PairError> {
    let mut b = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| PairError::NoRandomness)?;
    Ok(b)
}

impl Pairings {
    /// Creates the table if needed and loads the paired displays.
    ///
    /// Fails when the database cannot be read or written.
    pub fn open(store: Store) -> Result<Pairings, StoreError> {
        store.ensure_schema("kitchen_displays_v1", SCHEMA)?;
        let rows = store.call_blocking(|c| {
            let mut st = c.prepare("SELECT token_sha256, name FROM kitchen_displays")?;
            let rows =
                st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            rows.collect::<rusqlite::Result<HashMap<_, _>>>()
        })?;
        Ok(Pairings {
            inner: Arc::new(Inner {
                store,
                tokens: RwLock::new(rows),
                codes: Mutex::new(Vec::new()),
            }),
        })
    }

    /// A new one-time code for a display to be called `name`, valid [`CODE_VALID_MS`].
    ///
    /// Fails only when the system has no randomness.
    pub fn start(&self, name: &str, now_ms: u64) -> Result<PairingCode, PairError> {
        let raw = random_bytes::<CODE_LEN>()?;
        let code: String = raw
            .iter()
            .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
            .collect();
        let pc = PairingCode {
            code,
            name: name.to_string(),
            expires_at: now_ms + CODE_VALID_MS,
        };
        if let Ok(mut codes) = self.inner.codes.lock() {
            codes.retain(|c| c.expires_at > now_ms);
            if codes.len() >= MAX_CODES {
                codes.remove(0);
            }
            codes.push(pc.clone());
        }
        Ok(pc)
    }

    /// Trades a code (once) for a new display token; a display of the same name paired before
    /// is replaced (its old token stops working). Returns (token, name). Blocking (one commit).
    ///
    /// Fails with [`PairError::BadCode`] for a code that is wrong, used or expired.
    pub fn redeem(&self, code: &str, now_ms: u64) -> Result<(String, String), PairError> {
        let wanted = code.trim().to_ascii_uppercase().replace(['-', ' '], "");
        let found = {
            let Ok(mut codes) = self.inner.codes.lock() else {
                return Err(PairError::BadCode);
            };
            codes.retain(|c| c.expires_at > now_ms);
            // Compared as digests: the time taken says nothing about how much was right.
            let at = codes
                .iter()
                .position(|c| sha256_hex(&c.code) == sha256_hex(&wanted));
            at.map(|i| codes.remove(i))
        };
        let Some(pc) = found else {
            return Err(PairError::BadCode);
        };
        let token: String = random_bytes::<32>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let hash = sha256_hex(&token);
        let (name, h) = (pc.name.clone(), hash.clone());
        self.inner.store.call_blocking(move |c| {
            c.execute(
                "INSERT INTO kitchen_displays (name, token_sha256, paired_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET token_sha256 = excluded.token_sha256, paired_at = excluded.paired_at",
                params![name, h, now_ms as i64],
            )
        })?;
        if let Ok(mut t) = self.inner.tokens.write() {
            t.retain(|_, n| *n != pc.name);
            t.insert(hash, pc.name.clone());
        }
        Ok((token, pc.name))
    }

    /// The display a token belongs to, if it is paired.
    pub fn check(&self, token: &str) -> Option<String> {
        let hash = sha256_hex(token);
        self.inner.tokens.read().ok()?.get(&hash).cloned()
    }

    /// Whether a display of that name is still paired (a connection checks this per request).
    pub fn is_paired(&self, name: &str) -> bool {
        self.inner
            .tokens
            .read()
            .is_ok_and(|t| t.values().any(|n| n == name))
    }

    /// The paired displays, by name.
    ///
    /// Fails when the database cannot be read.
    pub fn list(&self) -> Result<Vec<Display>, StoreError> {
        self.inner.store.call_blocking(|c| {
            let mut st = c.prepare("SELECT name, paired_at FROM kitchen_displays ORDER BY name")?;
            let rows = st.query_map([], |r| {
                Ok(Display {
                    name: r.get(0)?,
                    paired_at: r.get::<_, i64>(1)?.max(0) as u64,
                })
            })?;
            rows.collect()
        })
    }

    /// Unpairs `name`; returns whether it was paired. Blocking (one commit).
    ///
    /// Fails when the database cannot be written (then nothing changed).
    pub fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let n = name.to_string();
        let removed = self.inner.store.call_blocking(move |c| {
            c.execute("DELETE FROM kitchen_displays WHERE name = ?1", [n])
        })?;
        if let Ok(mut t) = self.inner.tokens.write() {
            t.retain(|_, n| n != name);
        }
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairings(name: &str) -> (Pairings, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("pispas-pairing-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (Pairings::open(Store::open(&dir).unwrap()).unwrap(), dir)
    }

    #[test]
    fn a_code_is_traded_once_for_a_token_that_survives_a_restart() {
        let (p, dir) = pairings("once");
        let code = p.start("GRILL-TAB", 1_000).unwrap();
        assert_eq!(code.code.len(), CODE_LEN);
        let (token, name) = p.redeem(&code.code.to_lowercase(), 2_000).unwrap();
        assert_eq!(name, "GRILL-TAB");
        assert_eq!(p.check(&token).as_deref(), Some("GRILL-TAB"));
        assert!(
            matches!(p.redeem(&code.code, 3_000), Err(PairError::BadCode)),
            "one time only"
        );
        assert_eq!(p.check("not-a-token"), None);
        drop(p);
        let again = Pairings::open(Store::open(&dir).unwrap()).unwrap();
        assert_eq!(again.check(&token).as_deref(), Some("GRILL-TAB"));
        assert_eq!(again.list().unwrap()[0].name, "GRILL-TAB");
    }

    #[test]
    fn an_expired_code_is_refused_and_revoking_stops_the_token() {
        let (p, _) = pairings("expired");
        let old = p.start("BAR", 0).unwrap();
        assert!(matches!(
            p.redeem(&old.code, CODE_VALID_MS + 1),
            Err(PairError::BadCode)
        ));
        let code = p.start("BAR", 10).unwrap();
        let (token, _) = p.redeem(&code.code, 20).unwrap();
        assert!(p.is_paired("BAR"));
        assert!(p.revoke("BAR").unwrap());
        assert_eq!(p.check(&token), None);
        assert!(!p.is_paired("BAR"));
        assert!(!p.revoke("BAR").unwrap());
    }

    #[test]
    fn pairing_a_name_again_replaces_its_old_token() {
        let (p, _) = pairings("again");
        let (first, _) = p.redeem(&p.start("EXPO", 0).unwrap().code, 1).unwrap();
        let (second, _) = p.redeem(&p.start("EXPO", 2).unwrap().code, 3).unwrap();
        assert_eq!(p.check(&first), None);
        assert_eq!(p.check(&second).as_deref(), Some("EXPO"));
        assert_eq!(p.list().unwrap().len(), 1);
    }
}

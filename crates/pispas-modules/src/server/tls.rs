//! TLS material: the production certificate from `CERT_DIR`, or a self-signed one generated once
//! for `localhost`, `127.0.0.1` and `local.unpispas.es` and kept in the data folder.
//!
//! Uses rustls with the ring provider (it cross-builds for Windows with mingw; aws-lc-rs does not
//! here). It does not install the certificate in any trust store.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Names the generated certificate is valid for.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "local.unpispas.es"];

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write the generated certificate to {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error(
        "{dir} has {present} but not {missing}; put both cert.pem and key.pem there, or neither"
    )]
    HalfPair {
        dir: PathBuf,
        present: &'static str,
        missing: &'static str,
    },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
    #[error("the certificate and key in {dir} were refused: {message}")]
    Rejected { dir: PathBuf, message: String },
}

/// Where the certificate in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// `cert.pem` + `key.pem` from CERT_DIR.
    Provided(PathBuf),
    /// Generated self-signed, kept in this folder.
    SelfSigned(PathBuf),
}

/// The acceptor plus what the status window and logs show about the certificate.
#[derive(Clone)]
pub struct TlsMaterial {
    pub acceptor: TlsAcceptor,
    pub source: CertSource,
    /// The leaf certificate (tests trust exactly this one).
    pub cert_der: CertificateDer<'static>,
    /// SHA-256 of the leaf certificate, `AB:CD:…`.
    pub fingerprint: String,
}

/// Says loudly when a provided private key can be read by other users of this computer.
fn warn_if_readable_by_others(key: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(key) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %key.display(), mode = format!("{:o}", mode & 0o777), "the TLS private key can be read by other users: chmod 600 it");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = key;
}

/// Loads `cert.pem`/`key.pem` from `cert_dir`, or else the self-signed pair under
/// `<data_dir>/tls`, generating it on first use (and again when it has expired).
///
/// Fails when only one of the pair exists, when the files do not parse, or when the generated
/// pair cannot be written.
pub fn load_or_generate(cert_dir: &Path, data_dir: &Path) -> Result<TlsMaterial, TlsError> {
    match (
        cert_dir.join("cert.pem").exists(),
        cert_dir.join("key.pem").exists(),
    ) {
        (true, true) => {
            warn_if_readable_by_others(&cert_dir.join("key.pem"));
            load(cert_dir, CertSource::Provided(cert_dir.to_path_buf()))
        }
        (true, false) => Err(TlsError::HalfPair {
            dir: cert_dir.into(),
            present: "cert.pem",
            missing: "key.pem",
        }),
        (false, true) => Err(TlsError::HalfPair {
            dir: cert_dir.into(),
            present: "key.pem",
            missing: "cert.pem",
        }),
        (false, false) => self_signed(data_dir),
    }
}

/// [`load_or_generate`], but a provided pair that cannot be used (half a pair, unreadable,
/// refused) falls back to the self-signed one, so the service still starts and prints; the
/// returned warnings say why, for the status window. Also warns when the certificate in use has
/// expired, expires within 21 days, or is not valid yet (a clock set wrong).
///
/// Fails only when the self-signed pair cannot be generated or read either.
pub fn load_for_service(
    cert_dir: &Path,
    data_dir: &Path,
    now_ms: u64,
) -> Result<(TlsMaterial, Vec<String>), TlsError> {
    let mut warnings = Vec::new();
    let material = match load_or_generate(cert_dir, data_dir) {
        Ok(m) => m,
        Err(e) => {
            let msg = format!("the TLS certificate in CERT_DIR cannot be used ({e}): this service uses its own self-signed certificate, which browsers on other computers do not trust, until that is fixed");
            tracing::error!("{msg}");
            warnings.push(msg);
            self_signed(data_dir)?
        }
    };
    if let Some(w) = date_warning(&material, now_ms) {
        tracing::warn!("{w}");
        warnings.push(w);
    }
    Ok((material, warnings))
}

/// What is wrong with the dates of the certificate in use at `now_ms`, if anything.
pub fn date_warning(material: &TlsMaterial, now_ms: u64) -> Option<String> {
    let (not_before, not_after) = validity_ms(&material.cert_der)?;
    let which = match &material.source {
        CertSource::Provided(d) => format!("The TLS certificate in {}", d.display()),
        CertSource::SelfSigned(d) => format!("The generated TLS certificate in {}", d.display()),
    };
    let date = crate::commandlog::iso8601;
    if now_ms > not_after {
        Some(format!("{which} expired on {}: browsers refuse wss:// connections to this service (ws:// still works); put a renewed cert.pem and key.pem there and restart", date(not_after)))
    } else if now_ms < not_before {
        Some(format!("{which} is valid only from {}: is this computer's clock right? Browsers refuse wss:// connections until it is", date(not_before)))
    } else if not_after - now_ms < RENEW_WARNING_MS {
        Some(format!("{which} expires on {}: renew it before then, or browsers will refuse wss:// connections", date(not_after)))
    } else {
        None
    }
}

/// Warn this long before a certificate expires.
const RENEW_WARNING_MS: u64 = 21 * 24 * 3600 * 1000;

/// A certificate's validity, in ms since the epoch; `None` when it cannot be read.
fn validity_ms(der: &[u8]) -> Option<(u64, u64)> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let ms = |t: i64| t.saturating_mul(1000).max(0) as u64;
    let v = cert.validity();
    Some((ms(v.not_before.timestamp()), ms(v.not_after.timestamp())))
}

/// The self-signed pair under `<data_dir>/tls`: generated on first use, and again once it has
/// expired (it is this service's own; nothing else trusts it by its fingerprint).
fn self_signed(data_dir: &Path) -> Result<TlsMaterial, TlsError> {
    let dir = data_dir.join("tls");
    if !dir.join("cert.pem").exists() || !dir.join("key.pem").exists() {
        generate_self_signed(&dir)?;
    }
    let material = load(&dir, CertSource::SelfSigned(dir.clone()))?;
    let expired = validity_ms(&material.cert_der)
        .is_some_and(|(_, not_after)| crate::clock::now_ms() > not_after);
    if !expired {
        return Ok(material);
    }
    tracing::warn!(dir = %dir.display(), "the generated TLS certificate has expired; generating a new one");
    generate_self_signed(&dir)?;
    load(&dir, CertSource::SelfSigned(dir.clone()))
}

/// Reads the pair in `dir`.
fn load(dir: &Path, source: CertSource) -> Result<TlsMaterial, TlsError> {
    let dir = dir.to_path_buf();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    let read_err = |path: &Path, e: &dyn std::fmt::Display| TlsError::Read {
        path: path.into(),
        message: e.to_string(),
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| read_err(&cert_path, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| read_err(&cert_path, &e))?;
    let leaf = certs
        .first()
        .cloned()
        .ok_or_else(|| read_err(&cert_path, &"no certificate in the file"))?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| read_err(&key_path, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| TlsError::Rejected {
            dir: dir.clone(),
            message: e.to_string(),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        source,
        fingerprint: fingerprint(&leaf),
        cert_der: leaf,
    })
}

/// What the configurator shows of a certificate: subject, issuer, validity and names.
/// Fields it cannot read are null (the certificate is still served).
pub fn details(der: &[u8]) -> serde_json::Value {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return serde_json::json!({ "SUBJECT": null, "NOT_AFTER": null });
    };
    let validity = cert.validity();
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => d.to_string(),
                    x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                        4 => std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string(),
                        _ => format!("{ip:02x?}"),
                    },
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let not_after_ms = validity.not_after.timestamp().saturating_mul(1000).max(0) as u64;
    serde_json::json!({
        "SUBJECT": cert.subject().to_string(),
        "ISSUER": cert.issuer().to_string(),
        "NOT_BEFORE": crate::commandlog::iso8601(validity.not_before.timestamp().saturating_mul(1000).max(0) as u64),
        "NOT_AFTER": crate::commandlog::iso8601(not_after_ms),
        "NOT_AFTER_MS": not_after_ms,
        "NAMES": names,
        "FINGERPRINT": fingerprint(der),
    })
}

/// SHA-256 fingerprint as browsers show it.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn generate_self_signed(dir: &Path) -> Result<(), TlsError> {
    let year = current_year();
    write_pair(dir, year - 1, year + 10)
}

/// A self-signed pair valid from January 1st of `from_year` to January 1st of `to_year`.
fn write_pair(dir: &Path, from_year: i32, to_year: i32) -> Result<(), TlsError> {
    let gen = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|s| s.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).map_err(gen)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Pispas local service");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Pispas");
    params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
    params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
    let key = rcgen::KeyPair::generate().map_err(gen)?;
    let cert = params.self_signed(&key).map_err(gen)?;
    let werr = |path: &Path, e: std::io::Error| TlsError::Write {
        path: path.into(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| werr(dir, e))?;
    let key_path = dir.join("key.pem");
    write_private(&key_path, key.serialize_pem().as_bytes()).map_err(|e| werr(&key_path, e))?;
    let cert_path = dir.join("cert.pem");
    std::fs::write(&cert_path, cert.pem()).map_err(|e| werr(&cert_path, e))?;
    tracing::info!(dir = %dir.display(), "generated a self-signed TLS certificate for {}", SELF_SIGNED_NAMES.join(", "));
    Ok(())
}

fn current_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    1970 + (secs / 31_556_952) as i32
}

/// Writes a private key readable by the owner only (on Unix; Windows inherits the profile ACL).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pispas-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_certificate_is_generated_once_and_then_reused() {
        let data = tmp("gen");
        let first = load_or_generate(&data.join("no-certs"), &data).unwrap();
        assert_eq!(first.source, CertSource::SelfSigned(data.join("tls")));
        let second = load_or_generate(&data.join("no-certs"), &data).unwrap();
        assert_eq!(first.fingerprint, second.fingerprint);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
    }

    #[test]
    fn a_provided_pair_wins_over_the_generated_one() {
        let data = tmp("provided");
        let generated = load_or_generate(&data.join("none"), &data).unwrap();
        let certs = data.join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        generate_self_signed(&certs).unwrap();
        let provided = load_or_generate(&certs, &data).unwrap();
        assert_eq!(provided.source, CertSource::Provided(certs));
        assert_ne!(provided.fingerprint, generated.fingerprint);
    }

    #[test]
    fn details_name_the_subject_expiry_and_names() {
        let data = tmp("details");
        let m = load_or_generate(&data.join("none"), &data).unwrap();
        let d = details(&m.cert_der);
        assert!(
            d["SUBJECT"]
                .as_str()
                .unwrap()
                .contains("Pispas local service"),
            "{d}"
        );
        assert!(d["NOT_AFTER"].as_str().unwrap().starts_with("20"), "{d}");
        let names = d["NAMES"].to_string();
        assert!(
            names.contains("local.unpispas.es") && names.contains("127.0.0.1"),
            "{d}"
        );
    }

    #[test]
    fn an_expired_generated_pair_is_replaced_by_a_new_one() {
        let data = tmp("expired-own");
        write_pair(&data.join("tls"), 2015, 2016).unwrap();
        let old = load(&data.join("tls"), CertSource::SelfSigned(data.join("tls"))).unwrap();
        let now = crate::clock::now_ms();
        assert!(date_warning(&old, now).unwrap().contains("expired"));
        let (m, warnings) = load_for_service(&data.join("none"), &data, now).unwrap();
        assert_ne!(m.fingerprint, old.fingerprint);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (_, not_after) = validity_ms(&m.cert_der).unwrap();
        assert!(not_after > now);
    }

    #[test]
    fn a_provided_certificate_out_of_its_dates_is_served_with_a_warning() {
        let data = tmp("expired-provided");
        let certs = data.join("certs");
        write_pair(&certs, 2015, 2016).unwrap();
        let now = crate::clock::now_ms();
        let (m, warnings) = load_for_service(&certs, &data, now).unwrap();
        assert_eq!(m.source, CertSource::Provided(certs.clone()));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("expired on 2016-01-01") && warnings[0].contains("renewed"),
            "{warnings:?}"
        );
        // A clock set years back: the certificate is not valid yet, and the warning says why.
        let (_, warnings) = load_for_service(&certs, &data, 1_300_000_000_000).unwrap();
        assert!(warnings[0].contains("clock"), "{warnings:?}");
        // Ten days before it expires.
        let (_, not_after) = validity_ms(&m.cert_der).unwrap();
        let (_, warnings) =
            load_for_service(&certs, &data, not_after - 10 * 24 * 3600 * 1000).unwrap();
        assert!(
            warnings[0].contains("expires on 2016-01-01"),
            "{warnings:?}"
        );
    }

    #[test]
    fn an_unusable_provided_pair_falls_back_to_the_generated_one_and_says_why() {
        let data = tmp("fallback");
        let certs = data.join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        std::fs::write(certs.join("cert.pem"), "x").unwrap();
        let (m, warnings) = load_for_service(&certs, &data, crate::clock::now_ms()).unwrap();
        assert_eq!(m.source, CertSource::SelfSigned(data.join("tls")));
        assert!(
            warnings.iter().any(|w| w.contains("key.pem")),
            "{warnings:?}"
        );
        std::fs::write(certs.join("key.pem"), "not a key").unwrap();
        let (m, warnings) = load_for_service(&certs, &data, crate::clock::now_ms()).unwrap();
        assert_eq!(m.source, CertSource::SelfSigned(data.join("tls")));
        assert!(
            warnings.iter().any(|w| w.contains("self-signed")),
            "{warnings:?}"
        );
    }

    #[test]
    fn half_a_pair_is_an_error_naming_the_missing_file() {
        let data = tmp("half");
        let certs = data.join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        std::fs::write(certs.join("cert.pem"), "x").unwrap();
        let err = load_or_generate(&certs, &data).err().unwrap();
        assert!(err.to_string().contains("key.pem"), "{err}");
    }
}

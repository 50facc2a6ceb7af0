//! Printer configuration: `PRINTER_<NAME>` keys → [`PrinterConfig`]s with their options
//! (width, code page, cut, drawer pin…), and the PRINT module's own keys.
//!
//! Every error names the key. This file reads configuration only; it opens no device.

use super::codepage::Codepage;
use super::program::CutMode;
use super::render::fetch::FetchPolicy;
use super::render::html::HtmlPolicy;
use super::uri::{self, PrinterAddress, PrinterUri};
use crate::config::ConfigEnv;
use crate::transport::serial::SerialSettings;
use crate::transport::uri::DeviceUri;
use crate::transport::Endpoint;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One configured printer.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterConfig {
    /// The name the POS sends (`RECEIPT`, `KITCHEN`…), upper case.
    pub name: String,
    pub uri: PrinterUri,
    /// Dots per line: 576 (80 mm), 384 (58 mm), 512 on some models.
    pub width: u32,
    pub codepage: Codepage,
    pub cut: CutMode,
    /// Drawer connector pin, 2 or 5.
    pub drawer_pin: u8,
    /// Whether a high drawer sensor level means open.
    pub drawer_open_high: bool,
    /// Ask the printer for `DLE EOT` status before and after a job (two-way transports).
    pub status: bool,
    /// Line settings (serial:// only).
    pub serial: SerialSettings,
    /// Give up connecting or waiting for the printer after this long.
    pub timeout: Duration,
}

/// The PRINT module's configuration.
#[derive(Debug, Clone)]
pub struct PrintConfig {
    pub printers: BTreeMap<String, PrinterConfig>,
    pub default_printer: Option<String>,
    pub resume_window: Duration,
    pub render_timeout: Duration,
    pub max_data_bytes: usize,
    pub max_pages: u32,
    pub reply_timeout: Duration,
    pub chrome_path: Option<PathBuf>,
    pub pdfium_path: Option<PathBuf>,
    /// Start the browser when the module starts, so the first HTML job is fast.
    pub prewarm: bool,
    /// What HTML receipts may do (PRINT_HTML_SCRIPTS, PRINT_HTML_FETCH).
    pub html: HtmlPolicy,
    /// Bytes of documents that may wait to print (PRINT_QUEUE_MAX_MB).
    pub queue_max_bytes: u64,
    /// Documents to render one client may have waiting (PRINT_MAX_PENDING_RENDERS).
    pub max_pending_renders: usize,
    /// Bytes of finished jobs kept for re-sending (PRINT_KEEP_MB).
    pub keep_max_bytes: u64,
}

/// A refused PRINT setting, naming the key.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{key}: {message}")]
pub struct PrintConfigError {
    pub key: String,
    pub message: String,
}

fn invalid(key: &str, message: impl Into<String>) -> PrintConfigError {
    PrintConfigError {
        key: key.to_string(),
        message: message.into(),
    }
}

impl PrintConfig {
    /// Reads `PRINTER_*`, `DEFAULT_PRINTER`, `PRINT_*`, `CHROME_PATH` and `PDFIUM_PATH`.
    ///
    /// Fails on a malformed URI or option, an unknown DEFAULT_PRINTER, or an out-of-range number.
    pub fn from_env(config: &ConfigEnv) -> Result<PrintConfig, PrintConfigError> {
        let values = &config.values;
        let get = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut printers = BTreeMap::new();
        for (key, value) in values {
            let Some(name) = key.strip_prefix("PRINTER_") else {
                continue;
            };
            if value.trim().is_empty() || name.is_empty() {
                continue;
            }
            let printer = printer_from(name, value).map_err(|m| invalid(key, m))?;
            printers.insert(printer.name.clone(), printer);
        }
        let default_printer = match get("DEFAULT_PRINTER") {
            Some(d) => {
                let d = d.to_ascii_uppercase();
                if !printers.contains_key(&d) {
                    return Err(invalid(
                        "DEFAULT_PRINTER",
                        format!("no PRINTER_{d} is configured"),
                    ));
                }
                Some(d)
            }
            None if printers.len() == 1 => printers.keys().next().cloned(),
            None => printers
                .contains_key("RECEIPT")
                .then(|| "RECEIPT".to_string()),
        };
        let num = |key: &str, default: u64, min: u64, max: u64| -> Result<u64, PrintConfigError> {
            match get(key) {
                None => Ok(default),
                Some(v) => {
                    let n: u64 = v
                        .parse()
                        .map_err(|_| invalid(key, format!("{v:?} is not a whole number")))?;
                    if n < min || n > max {
                        return Err(invalid(key, format!("{n} is out of range ({min}–{max})")));
                    }
                    Ok(n)
                }
            }
        };
        let resume_window = Duration::from_secs(num("PRINT_RESUME_WINDOW", 300, 0, 86_400)?);
        let render_timeout =
            Duration::from_millis(num("PRINT_RENDER_TIMEOUT_MS", 10_000, 100, 300_000)?);
        let max_data_bytes = num("PRINT_MAX_DATA_BYTES", 16 * 1024 * 1024, 1024, 1 << 30)? as usize;
        let max_pages = num("PRINT_MAX_PAGES", 50, 1, 10_000)? as u32;
        let reply_timeout =
            Duration::from_millis(num("PRINT_REPLY_TIMEOUT_MS", 30_000, 100, 600_000)?);
        let prewarm = match get("PRINT_PREWARM") {
            None => true,
            Some(v) => {
                parse_bool(v).ok_or_else(|| invalid("PRINT_PREWARM", "must be true or false"))?
            }
        };
        let html_scripts = match get("PRINT_HTML_SCRIPTS") {
            None => false,
            Some(v) => {
                parse_bool(v).ok_or_else(|| invalid("PRINT_HTML_SCRIPTS", "must be on or off"))?
            }
        };
        let html_fetch = match get("PRINT_HTML_FETCH") {
            None => FetchPolicy::Public,
            Some(v) => FetchPolicy::parse(v).map_err(|e| invalid("PRINT_HTML_FETCH", e))?,
        };
        let queue_max_bytes = num("PRINT_QUEUE_MAX_MB", 256, 1, 1 << 20)? * 1024 * 1024;
        let max_pending_renders = num("PRINT_MAX_PENDING_RENDERS", 50, 1, 100_000)? as usize;
        let keep_max_bytes = num("PRINT_KEEP_MB", 512, 1, 1 << 20)? * 1024 * 1024;
        Ok(PrintConfig {
            queue_max_bytes,
            max_pending_renders,
            keep_max_bytes,
            html: HtmlPolicy {
                scripts: html_scripts,
                fetch: html_fetch,
            },
            printers,
            default_printer,
            resume_window,
            render_timeout,
            max_data_bytes,
            max_pages,
            reply_timeout,
            chrome_path: get("CHROME_PATH").map(PathBuf::from),
            pdfium_path: get("PDFIUM_PATH").map(PathBuf::from),
            prewarm,
        })
    }
}

/// Builds one printer from its name and URI text.
///
/// Fails with a message (without the key) when the URI or one of its options is invalid.
pub fn printer_from(name: &str, text: &str) -> Result<PrinterConfig, String> {
    let uri = uri::parse(text)?;
    let o = &uri.options;
    let width = match o.get("width") {
        None => 576,
        Some(w) => {
            let w: u32 = w
                .parse()
                .map_err(|_| format!("width={w:?} is not a number of dots"))?;
            if !(8..=2048).contains(&w) {
                return Err(format!(
                    "width={w} is out of range (8–2048 dots; 576 for 80 mm, 384 for 58 mm)"
                ));
            }
            w
        }
    };
    let codepage = match o.get("codepage") {
        None => Codepage::Cp858,
        Some(c) => Codepage::parse(c)
            .ok_or_else(|| format!("codepage={c:?} is not one of cp858, cp437, cp850, wpc1252"))?,
    };
    let cut = match o.get("cut") {
        None => CutMode::Partial,
        Some(c) => {
            CutMode::parse(c).ok_or_else(|| format!("cut={c:?} is not full, partial or none"))?
        }
    };
    let drawer_pin = match o.get("drawer_pin").map(String::as_str) {
        None | Some("2") => 2,
        Some("5") => 5,
        Some(p) => return Err(format!("drawer_pin={p:?} must be 2 or 5")),
    };
    let drawer_open_high = match o.get("drawer_open").map(|s| s.to_ascii_lowercase()) {
        None => true,
        Some(s) if s == "high" => true,
        Some(s) if s == "low" => false,
        Some(s) => return Err(format!("drawer_open={s:?} must be high or low")),
    };
    let status = match o.get("status") {
        None => uri.address.two_way(),
        Some(s) => {
            parse_bool(s).ok_or_else(|| format!("status={s:?} must be on or off"))?
                && uri.address.two_way()
        }
    };
    let serial = match &uri.address {
        PrinterAddress::Stream(Endpoint::Serial(_)) => {
            let device = DeviceUri::parse(text).map_err(|e| e.to_string())?;
            SerialSettings::DEFAULT
                .with_overrides(&device)
                .map_err(|e| e.to_string())?
        }
        _ => SerialSettings::DEFAULT,
    };
    let timeout = match o.get("timeout_ms") {
        None => Duration::from_millis(if matches!(uri.address, PrinterAddress::Spooler { .. }) {
            10_000
        } else {
            3_000
        }),
        Some(t) => Duration::from_millis(
            t.parse()
                .map_err(|_| format!("timeout_ms={t:?} is not a number"))?,
        ),
    };
    Ok(PrinterConfig {
        name: name.to_ascii_uppercase(),
        uri,
        width,
        codepage,
        cut,
        drawer_pin,
        drawer_open_high,
        status,
        serial,
        timeout,
    })
}

/// An OS printer that is not configured, named exactly as the OS names it: reached through its
/// spooler queue with the default settings (576 dots, CP858, partial cut).
///
/// Fails only if the defaults were invalid (they are not).
pub fn spooler_printer(os_name: &str) -> Result<PrinterConfig, String> {
    let mut config = printer_from("OS", "spooler://os")?;
    config.name = os_name.to_string();
    config.uri.address = PrinterAddress::Spooler {
        queue: os_name.to_string(),
    };
    config.uri.raw = format!("spooler://{os_name}");
    Ok(config)
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_suit_an_80mm_spanish_receipt_printer() {
        let p = printer_from("receipt", "tcp://10.0.0.5").unwrap();
        assert_eq!(p.name, "RECEIPT");
        assert_eq!(
            (p.width, p.codepage, p.cut, p.drawer_pin),
            (576, Codepage::Cp858, CutMode::Partial, 2)
        );
        assert!(p.status);
        assert!(
            !printer_from("x", "spooler://Q").unwrap().status,
            "a spooler cannot answer DLE EOT"
        );
    }

    #[test]
    fn options_are_checked() {
        let p = printer_from(
            "k",
            "serial:///dev/ttyS0?width=384&codepage=wpc1252&cut=full&drawer_pin=5&baud=19200",
        )
        .unwrap();
        assert_eq!(
            (p.width, p.codepage, p.cut, p.drawer_pin, p.serial.baud),
            (384, Codepage::Wpc1252, CutMode::Full, 5, 19200)
        );
        assert!(printer_from("k", "tcp://h?width=abc")
            .unwrap_err()
            .contains("width"));
        assert!(printer_from("k", "tcp://h?drawer_pin=3")
            .unwrap_err()
            .contains("drawer_pin"));
        assert!(printer_from("k", "tcp://h?codepage=utf8")
            .unwrap_err()
            .contains("codepage"));
    }

    #[test]
    fn the_default_printer_must_exist() {
        let dir = std::env::temp_dir();
        let mut c = ConfigEnv::for_tests(&dir);
        c.values.insert("PRINTER_BAR".into(), "tcp://h".into());
        c.values.insert("PRINTER_KITCHEN".into(), "tcp://k".into());
        c.values.insert("DEFAULT_PRINTER".into(), "receipt".into());
        let e = PrintConfig::from_env(&c).unwrap_err();
        assert_eq!(e.key, "DEFAULT_PRINTER");
        c.values.remove("DEFAULT_PRINTER");
        assert_eq!(PrintConfig::from_env(&c).unwrap().default_printer, None);
        c.values.insert("PRINTER_KITCHEN".into(), "lpt://x".into());
        assert_eq!(
            PrintConfig::from_env(&c).unwrap_err().key,
            "PRINTER_KITCHEN"
        );
    }
}

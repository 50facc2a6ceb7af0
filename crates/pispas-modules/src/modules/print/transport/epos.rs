//! Epson ePOS-Print XML over HTTP (`epos://host`): the program becomes `<text>`, `<image>`,
//! `<symbol>`, `<barcode>`, `<feed>`, `<cut>`, `<pulse>` and `<command>` elements in a SOAP
//! envelope POSTed to `/cgi-bin/epos/service.cgi`; the printer's `<response>` carries
//! `success`, `code` and the ASB `status` bits. An empty `<epos-print/>` is the status probe.
//!
//! HTTP goes through the engine's reqwest client (`transport::http`), so `epos+https://` printers
//! work too; their self-signed certificates are accepted only with `?verify=off`.

use super::{Delivery, StatusReport, TransportError};
use crate::modules::print::escpos::status::{Paper, PrinterStatus};
use crate::modules::print::printer::PrinterConfig;
use crate::modules::print::program::{Align, CutMode, Hri, Op, Program, QrEcc, Symbology};
use crate::modules::print::uri::PrinterAddress;
use crate::transport::http::{self, ClientOptions};
use base64::Engine as _;
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

const NS: &str = "http://www.epson-pos.com/schemas/2011/03/epos-print";

/// Prints `program`: probes status first, then sends the document.
///
/// Fails when the printer cannot be reached or answers something that is not ePOS.
pub async fn print(
    program: &Program,
    printer: &PrinterConfig,
    wait: Duration,
) -> Result<Delivery, TransportError> {
    let before = probe(printer, wait, printer.drawer_open_high).await?;
    if let Err(reason) = before.readiness() {
        return Ok(Delivery::NotReady(reason, Some(before)));
    }
    let reply = post(printer, envelope(&body(program)), wait).await?;
    let (success, code, status) = parse_response(&reply)?;
    let st = status_from_asb(status, printer.drawer_open_high);
    if success {
        return Ok(Delivery::Delivered {
            confirmed: true,
            status: Some(st),
        });
    }
    match st.readiness() {
        Err(reason) => Ok(Delivery::NotReady(reason, Some(st))),
        Ok(()) => Err(TransportError::Epos(format!(
            "printer refused the job: {code}"
        ))),
    }
}

/// The printer's status from an empty document.
///
/// Fails when the printer cannot be reached.
pub async fn status(
    printer: &PrinterConfig,
    wait: Duration,
    drawer_high: bool,
) -> Result<StatusReport, TransportError> {
    Ok(StatusReport::Printer(
        probe(printer, wait, drawer_high).await?,
    ))
}

async fn probe(
    printer: &PrinterConfig,
    wait: Duration,
    drawer_high: bool,
) -> Result<PrinterStatus, TransportError> {
    let reply = post(printer, envelope(""), wait).await?;
    let (_, _, status) = parse_response(&reply)?;
    Ok(status_from_asb(status, drawer_high))
}

/// ASB bits of the response's `status` attribute.
pub fn status_from_asb(bits: u64, drawer_high: bool) -> PrinterStatus {
    let paper = if bits & 0x80000 != 0 {
        Paper::Out
    } else if bits & 0x20000 != 0 {
        Paper::NearEnd
    } else {
        Paper::Ok
    };
    PrinterStatus {
        online: bits & (0x8 | 0x1) == 0,
        paper,
        cover_open: bits & 0x20 != 0,
        drawer_open: (bits & 0x4 != 0) == drawer_high,
        error: bits & (0x400 | 0x800 | 0x2000 | 0x4000) != 0,
        feed_button: bits & 0x40 != 0,
    }
}

fn envelope(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><epos-print xmlns=\"{NS}\">{inner}</epos-print></s:Body></s:Envelope>"
    )
}

fn align_attr(a: Align) -> &'static str {
    match a {
        Align::Left => "left",
        Align::Center => "center",
        Align::Right => "right",
    }
}

/// The ePOS elements for a program.
pub fn body(program: &Program) -> String {
    let mut x = String::new();
    for op in &program.ops {
        match op {
            Op::Text { text, style } => {
                let _ = write!(
                    x,
                    "<text align=\"{}\" em=\"{}\" ul=\"{}\" reverse=\"{}\" width=\"{}\" height=\"{}\"/><text>{}</text>",
                    align_attr(style.align), style.bold, style.underline, style.invert, style.width, style.height,
                    escape(&if text.ends_with('\n') { text.clone() } else { format!("{text}\n") })
                );
                x.push_str("<text align=\"left\" em=\"false\" ul=\"false\" reverse=\"false\" width=\"1\" height=\"1\"/>");
            }
            Op::Raster(b) => {
                let data = base64::engine::general_purpose::STANDARD.encode(&b.bits);
                let _ = write!(x, "<image width=\"{}\" height=\"{}\" color=\"color_1\" mode=\"mono\">{data}</image>", b.row_bytes() * 8, b.height);
            }
            Op::Qr {
                data,
                size,
                ecc,
                align,
            } => {
                let level = match ecc {
                    QrEcc::L => "level_l",
                    QrEcc::M => "level_m",
                    QrEcc::Q => "level_q",
                    QrEcc::H => "level_h",
                };
                let _ = write!(x, "<text align=\"{}\"/><symbol type=\"qrcode_model_2\" level=\"{level}\" width=\"{size}\">{}</symbol><feed/><text align=\"left\"/>", align_attr(*align), escape(data));
            }
            Op::Barcode {
                symbology,
                data,
                height,
                width,
                hri,
                align,
            } => {
                let (kind, prefix) = match symbology {
                    Symbology::UpcA => ("upc_a", ""),
                    Symbology::UpcE => ("upc_e", ""),
                    Symbology::Ean13 => ("ean13", ""),
                    Symbology::Ean8 => ("ean8", ""),
                    Symbology::Code39 => ("code39", ""),
                    Symbology::Itf => ("itf", ""),
                    Symbology::Codabar => ("codabar", ""),
                    Symbology::Code93 => ("code93", ""),
                    Symbology::Code128 => ("code128", "{B"),
                };
                let hri = match hri {
                    Hri::None => "none",
                    Hri::Above => "above",
                    Hri::Below => "below",
                    Hri::Both => "both",
                };
                let _ = write!(x, "<text align=\"{}\"/><barcode type=\"{kind}\" hri=\"{hri}\" width=\"{width}\" height=\"{height}\">{prefix}{}</barcode><feed/><text align=\"left\"/>", align_attr(*align), escape(data));
            }
            Op::Feed(n) => {
                let _ = write!(x, "<feed line=\"{n}\"/>");
            }
            Op::Cut(CutMode::None) => {}
            Op::Cut(_) => x.push_str("<cut type=\"feed\"/>"),
            Op::Drawer { pin } => {
                let d = if *pin == 5 { "drawer_2" } else { "drawer_1" };
                let _ = write!(x, "<pulse drawer=\"{d}\" time=\"pulse_100\"/>");
            }
            Op::Raw(bytes) => {
                x.push_str("<command>");
                for b in bytes {
                    let _ = write!(x, "{b:02x}");
                }
                x.push_str("</command>");
            }
        }
    }
    x
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `success`, `code` and `status` of the `<response …/>` element.
///
/// Fails when there is no response element.
pub fn parse_response(xml: &str) -> Result<(bool, String, u64), TransportError> {
    let start = xml
        .find("<response")
        .ok_or_else(|| TransportError::Epos(format!("no <response> in the reply: {:.200}", xml)))?;
    let tag = &xml[start
        ..xml[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(xml.len())];
    let attr = |name: &str| {
        let key = format!("{name}=\"");
        tag.find(&key).map(|i| {
            let v = &tag[i + key.len()..];
            v[..v.find('"').unwrap_or(v.len())].to_string()
        })
    };
    let success = attr("success").is_some_and(|v| v == "true");
    let code = attr("code").unwrap_or_default();
    let status = attr("status").and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((success, code, status))
}

/// The shared client: one that checks certificates, one for `verify=off` printers.
fn client(verify: bool) -> Result<&'static reqwest::Client, TransportError> {
    static CHECKED: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    static UNCHECKED: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let (cell, accept_invalid) = if verify {
        (&CHECKED, false)
    } else {
        (&UNCHECKED, true)
    };
    cell.get_or_init(|| {
        let mut options = ClientOptions::new(Duration::from_secs(60));
        options.accept_invalid_certs = accept_invalid;
        http::client(&options)
    })
    .as_ref()
    .map_err(|e| TransportError::Epos(e.clone()))
}

/// POSTs one SOAP document and returns the reply body.
///
/// Fails when the printer cannot be reached, takes longer than `wait` (plus the time the
/// printer was told it may take), or answers something other than HTTP 200.
async fn post(
    printer: &PrinterConfig,
    body: String,
    wait: Duration,
) -> Result<String, TransportError> {
    let PrinterAddress::Epos {
        host,
        port,
        https,
        verify,
    } = &printer.uri.address
    else {
        return Err(TransportError::Unsupported(format!(
            "{} is not an ePOS printer",
            printer.uri.raw
        )));
    };
    let scheme = if *https { "https" } else { "http" };
    let host_part = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let timeout_ms = wait.as_millis().max(1000);
    let url = format!(
        "{scheme}://{host_part}:{port}/cgi-bin/epos/service.cgi?devid=local_printer&timeout={timeout_ms}"
    );
    let what = format!("{scheme}://{host_part}:{port}");
    let request = client(*verify)?
        .post(url)
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"\"")
        .timeout(wait + Duration::from_secs(2))
        .body(body);
    let reply = request
        .send()
        .await
        .map_err(|e| http_error(&what, wait, e))?;
    let status = reply.status();
    if !status.is_success() {
        return Err(TransportError::Epos(format!("HTTP {status}")));
    }
    reply.text().await.map_err(|e| http_error(&what, wait, e))
}

/// A reqwest error as the worker understands it: a timeout, or a printer it cannot reach.
fn http_error(what: &str, wait: Duration, e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        return TransportError::Timeout(wait);
    }
    // The whole chain, so "certificate unknown" or "connection refused" reaches the log.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    TransportError::Connect {
        what: what.to_string(),
        source: std::io::Error::other(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::print::program::Style;

    #[test]
    fn a_response_gives_success_code_and_status() {
        let xml = r#"<s:Envelope><s:Body><response success="false" code="EPTR_REC_EMPTY" status="524302" battery="0" xmlns="x"/></s:Body></s:Envelope>"#;
        let (ok, code, status) = parse_response(xml).unwrap();
        assert!(!ok);
        assert_eq!(code, "EPTR_REC_EMPTY");
        assert_eq!(status_from_asb(status, true).paper, Paper::Out);
        assert!(parse_response("<html/>").is_err());
    }

    #[test]
    fn text_is_escaped_and_drawers_pulse() {
        let mut p = Program::new();
        p.push(Op::Text {
            text: "A&B <1>".into(),
            style: Style::default(),
        });
        p.push(Op::Drawer { pin: 2 });
        p.push(Op::Cut(CutMode::Partial));
        let x = body(&p);
        assert!(x.contains("<text>A&amp;B &lt;1&gt;&#10;</text>"), "{x}");
        assert!(x.contains("<pulse drawer=\"drawer_1\" time=\"pulse_100\"/><cut type=\"feed\"/>"));
    }
}

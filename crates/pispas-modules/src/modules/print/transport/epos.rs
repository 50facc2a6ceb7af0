//! Epson ePOS-Print XML over HTTP (`epos://host`): the program becomes `<text>`, `<image>`,
//! `<symbol>`, `<barcode>`, `<feed>`, `<cut>`, `<pulse>` and `<command>` elements in a SOAP
//! envelope POSTed to `/cgi-bin/epos/service.cgi`; the printer's `<response>` carries
//! `success`, `code` and the ASB `status` bits. An empty `<epos-print/>` is the status probe.
//!
//! HTTP/1.1 is written by hand (one request per connection) to keep TLS and HTTP stacks out of
//! the engine; https ePOS endpoints are not supported.

use super::{Delivery, StatusReport, TransportError};
use crate::modules::print::escpos::status::{Paper, PrinterStatus};
use crate::modules::print::printer::PrinterConfig;
use crate::modules::print::program::{Align, CutMode, Hri, Op, Program, QrEcc, Symbology};
use base64::Engine as _;
use std::fmt::Write as _;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NS: &str = "http://www.epson-pos.com/schemas/2011/03/epos-print";

/// Prints `program`: probes status first, then sends the document.
///
/// Fails when the printer cannot be reached or answers something that is not ePOS.
pub async fn print(
    host: &str,
    port: u16,
    program: &Program,
    printer: &PrinterConfig,
    wait: Duration,
) -> Result<Delivery, TransportError> {
    let before = probe(host, port, wait, printer.drawer_open_high).await?;
    if let Err(reason) = before.readiness() {
        return Ok(Delivery::NotReady(reason, Some(before)));
    }
    let reply = post(host, port, &envelope(&body(program)), wait).await?;
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
    host: &str,
    port: u16,
    wait: Duration,
    drawer_high: bool,
) -> Result<StatusReport, TransportError> {
    Ok(StatusReport::Printer(
        probe(host, port, wait, drawer_high).await?,
    ))
}

async fn probe(
    host: &str,
    port: u16,
    wait: Duration,
    drawer_high: bool,
) -> Result<PrinterStatus, TransportError> {
    let reply = post(host, port, &envelope(""), wait).await?;
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

async fn post(host: &str, port: u16, body: &str, wait: Duration) -> Result<String, TransportError> {
    let mut s = super::tcp::connect(host, port, wait).await?;
    let timeout_ms = wait.as_millis().max(1000);
    let request = format!(
        "POST /cgi-bin/epos/service.cgi?devid=local_printer&timeout={timeout_ms} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let exchange = async {
        s.write_all(request.as_bytes()).await?;
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).await?;
        Ok::<_, std::io::Error>(reply)
    };
    let reply = tokio::time::timeout(wait + Duration::from_secs(2), exchange)
        .await
        .map_err(|_| TransportError::Timeout(wait))??;
    let text = String::from_utf8_lossy(&reply).into_owned();
    let (head, content) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status_line = head.lines().next().unwrap_or("");
    if !status_line.contains(" 200") {
        return Err(TransportError::Epos(format!("HTTP {status_line}")));
    }
    Ok(content.to_string())
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

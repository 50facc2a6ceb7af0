//! Reads an Epson ePOS-Print XML document (`<epos-print>` inside a SOAP envelope, or bare) into
//! document elements: `<text>`, `<feed>`, `<cut>`, `<pulse>`, `<image>`, `<barcode>`,
//! `<symbol>`, and `<command>` (hex ESC/POS, run through the ESC/POS interpreter). Text
//! attributes persist to later `<text>` elements, as ePOS settings do. Pure: no printer state.

use crate::bitmap::Bitmap;
use crate::document::{
    Align, Barcode, Cut, CutKind, Document, DrawerKick, Element, Image, ImageSource, QrCode, Style,
    StyleChange,
};
use crate::escpos::{Interpreter, Splitter};
use base64::Engine as _;
use roxmltree::Node;

/// Why a request body is not an ePOS-Print document (answered as `SchemaError`).
#[derive(Debug, thiserror::Error)]
pub enum EposXmlError {
    #[error("not XML: {0}")]
    Xml(#[from] roxmltree::Error),
    #[error("no <epos-print> element")]
    NoEposPrint,
}

/// The elements an ePOS-Print document prints, in order.
pub fn read_epos(xml: &str) -> Result<Vec<Element>, EposXmlError> {
    let doc = roxmltree::Document::parse(xml)?;
    let root = doc
        .descendants()
        .find(|n| n.tag_name().name() == "epos-print")
        .ok_or(EposXmlError::NoEposPrint)?;
    let mut reader = Reader::default();
    for node in root.children().filter(Node::is_element) {
        reader.element(node);
    }
    Ok(reader.out.elements)
}

#[derive(Default)]
struct Reader {
    style: Style,
    out: Document,
    escpos: Interpreter,
}

fn attr_u8(node: Node, name: &str) -> Option<u8> {
    node.attribute(name).and_then(|v| v.trim().parse().ok())
}

fn attr_bool(node: Node, name: &str) -> Option<bool> {
    node.attribute(name).map(|v| v == "true")
}

impl Reader {
    fn element(&mut self, node: Node) {
        let text = node.text().unwrap_or("");
        match node.tag_name().name() {
            "text" => self.text(node, text),
            "feed" => self
                .out
                .push(match (attr_u8(node, "line"), node.attribute("unit")) {
                    (Some(n), _) => Element::FeedLines(n),
                    (None, Some(u)) => Element::FeedUnits(u.trim().parse().unwrap_or(0)),
                    (None, None) => Element::LineFeed,
                }),
            "cut" => {
                let kind = node.attribute("type").unwrap_or("feed");
                self.out.push(Element::Cut(Cut {
                    kind: if kind.starts_with("full_cut") {
                        CutKind::Full
                    } else {
                        CutKind::Partial
                    },
                    feed: None,
                    command: format!("<cut type=\"{kind}\"/>").into_bytes(),
                }));
            }
            "pulse" => self.pulse(node),
            "image" => self.image(node, text),
            "barcode" => self.out.push(Element::Barcode(Barcode {
                symbology: epos_symbology(node.attribute("type").unwrap_or("")),
                data: text.as_bytes().to_vec(),
                height: attr_u8(node, "height").unwrap_or(162),
                width: attr_u8(node, "width").unwrap_or(3),
                hri: match node.attribute("hri") {
                    Some("above") => 1,
                    Some("below") => 2,
                    Some("both") => 3,
                    _ => 0,
                },
            })),
            "symbol" => self.symbol(node, text),
            "command" => self.command(text),
            other => self.out.push(Element::Unknown {
                bytes: format!("<{other}>").into_bytes(),
            }),
        }
    }

    fn text(&mut self, node: Node, text: &str) {
        let s = &mut self.style;
        let mut changes = Vec::new();
        if let Some(b) = attr_bool(node, "em") {
            s.bold = b;
            changes.push(StyleChange::Bold(b));
        }
        if let Some(b) = attr_bool(node, "ul") {
            s.underline = u8::from(b);
            changes.push(StyleChange::Underline(s.underline));
        }
        if let Some(b) = attr_bool(node, "reverse") {
            s.reverse = b;
            changes.push(StyleChange::Reverse(b));
        }
        if let Some(a) = node.attribute("align") {
            s.align = match a {
                "center" => Align::Center,
                "right" => Align::Right,
                _ => Align::Left,
            };
            changes.push(StyleChange::Align(s.align));
        }
        let (w, h) = (attr_u8(node, "width"), attr_u8(node, "height"));
        let (dw, dh) = (attr_bool(node, "dw"), attr_bool(node, "dh"));
        if w.is_some() || h.is_some() || dw.is_some() || dh.is_some() {
            s.width = w.or(dw.map(|d| if d { 2 } else { 1 })).unwrap_or(s.width);
            s.height = h.or(dh.map(|d| if d { 2 } else { 1 })).unwrap_or(s.height);
            changes.push(StyleChange::Size {
                width: s.width,
                height: s.height,
            });
        }
        if let Some(font) = node.attribute("font") {
            s.font = font.strip_prefix("font_").map_or(0, |f| {
                f.bytes().next().map_or(0, |c| c.saturating_sub(b'a'))
            });
            changes.push(StyleChange::Font(s.font));
        }
        for change in changes {
            self.out.push(Element::Style(change));
        }
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.out.push(Element::LineFeed);
            }
            if !line.is_empty() {
                self.out.push(Element::Text {
                    text: line.to_string(),
                    style: self.style,
                });
            }
        }
    }

    fn pulse(&mut self, node: Node) {
        let m = u8::from(node.attribute("drawer") == Some("drawer_2"));
        let ms: u16 = node
            .attribute("time")
            .and_then(|t| t.strip_prefix("pulse_"))
            .and_then(|t| t.parse().ok())
            .unwrap_or(100);
        let t = u8::try_from(ms / 2).unwrap_or(u8::MAX);
        self.out.push(Element::DrawerKick(DrawerKick {
            m,
            pin: if m == 0 { 2 } else { 5 },
            t1: t,
            t2: t,
        }));
    }

    fn image(&mut self, node: Node, text: &str) {
        let (width, height) = (
            node.attribute("width")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0),
            node.attribute("height")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0),
        );
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        match base64::engine::general_purpose::STANDARD.decode(compact) {
            Ok(data) if width > 0 && height > 0 => self.out.push(Element::Image(Image {
                bitmap: Bitmap::from_raster(width, width.div_ceil(8), height, &data),
                mode: 0,
                align: self.style.align,
                bands: 1,
                source: ImageSource::Epos,
            })),
            _ => self.out.push(Element::Malformed {
                bytes: b"<image>".to_vec(),
                reason: "ePOS image without width/height or with bad base64".into(),
            }),
        }
    }

    fn symbol(&mut self, node: Node, text: &str) {
        let kind = node.attribute("type").unwrap_or("qrcode_model_2");
        let model = match kind {
            "qrcode_model_1" => 1,
            "qrcode_model_2" => 2,
            "qrcode_micro" => 3,
            _ => {
                return self.out.push(Element::Unknown {
                    bytes: format!("<symbol type=\"{kind}\">").into_bytes(),
                })
            }
        };
        let ecc = match node.attribute("level") {
            Some("level_l") => 'L',
            Some("level_q") => 'Q',
            Some("level_h") => 'H',
            _ => 'M',
        };
        self.out.push(Element::Qr(QrCode {
            data: text.as_bytes().to_vec(),
            model,
            module_size: attr_u8(node, "width").unwrap_or(3),
            ecc,
        }));
    }

    fn command(&mut self, hex: &str) {
        let digits: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).collect();
        let bytes: Vec<u8> = digits
            .chunks(2)
            .filter_map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|s| u8::from_str_radix(s, 16).ok())
            })
            .collect();
        let mut splitter = Splitter::default();
        let commands = splitter.push(&bytes).into_iter().chain(splitter.finish());
        for command in commands {
            if let Some(e) = self.escpos.apply(command) {
                self.out.push(e);
            }
        }
    }
}

/// ePOS barcode type names mapped to the names `GS k` barcodes get.
fn epos_symbology(kind: &str) -> String {
    match kind {
        "upc_a" => "UPC-A",
        "upc_e" => "UPC-E",
        "ean13" | "jan13" => "EAN13",
        "ean8" | "jan8" => "EAN8",
        "code39" => "CODE39",
        "itf" => "ITF",
        "codabar" => "CODABAR",
        "code93" => "CODE93",
        "code128" => "CODE128",
        "gs1_128" => "GS1-128",
        other => return other.to_uppercase(),
    }
    .to_string()
}

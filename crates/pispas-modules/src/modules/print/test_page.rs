//! The TEST_PAGE document: who the printer is, every character Spanish receipts need, text
//! styles, a barcode and a QR code — a RECEIPT, so it exercises the same path as real tickets.

use crate::modules::print::printer::PrinterConfig;
use crate::modules::print::program::CutMode;
use serde_json::{json, Value};

/// The items of the test page for `p`.
pub(crate) fn document(p: &PrinterConfig) -> Value {
    json!([
        { "TYPE": "TEXT", "TEXT": "PISPAS", "ALIGN": "CENTER", "BOLD": true, "SIZE": 2 },
        { "TYPE": "TEXT", "TEXT": "Test page", "ALIGN": "CENTER" },
        { "TYPE": "SEPARATOR" },
        { "TYPE": "COLUMNS", "COLUMNS": [{ "TEXT": "Printer" }, { "TEXT": p.name, "ALIGN": "RIGHT" }] },
        { "TYPE": "COLUMNS", "COLUMNS": [{ "TEXT": "Connection" }, { "TEXT": p.uri.address.kind(), "ALIGN": "RIGHT" }] },
        { "TYPE": "COLUMNS", "COLUMNS": [{ "TEXT": "Width" }, { "TEXT": format!("{} dots", p.width), "ALIGN": "RIGHT" }] },
        { "TYPE": "COLUMNS", "COLUMNS": [{ "TEXT": "Code page" }, { "TEXT": p.codepage.name(), "ALIGN": "RIGHT" }] },
        { "TYPE": "SEPARATOR" },
        { "TYPE": "TEXT", "TEXT": "€ ñ Ñ á é í ó ú ü ¿ ¡ º ª ç" },
        { "TYPE": "TEXT", "TEXT": "Bold", "BOLD": true },
        { "TYPE": "TEXT", "TEXT": "Underline", "UNDERLINE": true },
        { "TYPE": "TEXT", "TEXT": "Inverted", "INVERT": true },
        { "TYPE": "BARCODE", "SYMBOLOGY": "CODE128", "DATA": "PISPAS-123" },
        { "TYPE": "QR", "DATA": "https://app.unpispas.es" },
        { "TYPE": "CUT", "MODE": if p.cut == CutMode::Full { "FULL" } else { "PARTIAL" } }
    ])
}

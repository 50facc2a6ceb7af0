//! RECEIPT documents → programs.

use super::*;
use serde_json::json;

fn texts(p: &Program) -> Vec<String> {
    p.ops
        .iter()
        .filter_map(|op| match op {
            Op::Text { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn columns_fill_the_line_with_the_price_flush_right() {
    let doc = json!({"items": [{"type": "columns", "columns": [
        {"text": "2x Café con leche"}, {"text": "3,00 €", "align": "right", "width": 8}]}]});
    let p = build(&doc, 576, Dither::default()).unwrap();
    let t = texts(&p);
    assert_eq!(t[0], format!("2x Café con leche{}3,00 €\n", " ".repeat(25)));
    assert_eq!(t[0].chars().count(), 49);
}

#[test]
fn a_long_cell_wraps_inside_its_column() {
    let out = layout::columns(
        &[
            Column {
                text: "Hamburguesa completa con patatas".into(),
                ..Default::default()
            },
            Column {
                text: "12,50".into(),
                align: Align::Right,
                width: Some(6),
            },
        ],
        32,
    )
    .unwrap();
    assert_eq!(out, "Hamburguesa completa con   12,50\npatatas\n");
}

#[test]
fn a_separator_spans_the_printer_width() {
    let p = build(
        &json!([{"TYPE": "SEPARATOR", "CHAR": "="}]),
        384,
        Dither::default(),
    )
    .unwrap();
    assert_eq!(texts(&p), vec!["=".repeat(32)]);
}

#[test]
fn every_item_type_builds() {
    let png = {
        let mut buf = Vec::new();
        let img = image::GrayImage::from_pixel(16, 8, image::Luma([0u8]));
        image::DynamicImage::ImageLuma8(img)
            .write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png)
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(buf)
    };
    let doc = json!({"ITEMS": [
        {"TYPE": "TEXT", "TEXT": "Hi", "SIZE": 2, "BOLD": true},
        {"TYPE": "FEED", "LINES": 2},
        {"TYPE": "BARCODE", "SYMBOLOGY": "ean13", "DATA": "841234567890"},
        {"TYPE": "QR", "DATA": "https://unpispas.es", "ECC": "H"},
        {"TYPE": "IMAGE", "DATA": png, "ALIGN": "RIGHT"},
        {"TYPE": "DRAWER", "PIN": 5},
        {"TYPE": "CUT", "MODE": "full"}]});
    let p = build(&doc, 576, Dither::default()).unwrap();
    assert_eq!(p.ops.len(), 7);
    match &p.ops[4] {
        Op::Raster(b) => {
            assert_eq!((b.width, b.height), (576, 8));
            assert!(b.is_black(575, 0) && b.is_black(560, 7) && !b.is_black(559, 0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.ops[5], Op::Drawer { pin: 5 });
    assert_eq!(p.ops[6], Op::Cut(CutMode::Full));
}

#[test]
fn mistakes_name_the_item() {
    let bad = json!({"ITEMS": [{"TYPE": "TEXT", "TEXT": "ok"}, {"TYPE": "BARCODE", "SYMBOLOGY": "EAN13", "DATA": "12AB"}]});
    let e = build(&bad, 576, Dither::default()).unwrap_err();
    assert!(matches!(e, ReceiptError::Item { index: 1, .. }), "{e}");
    assert_eq!(
        build(&json!({"ITEMS": []}), 576, Dither::default()),
        Err(ReceiptError::Empty)
    );
    assert!(build(
        &json!({"ITEMS": [{"TYPE": "BANNER"}]}),
        576,
        Dither::default()
    )
    .is_err());
    assert!(build(&json!(42), 576, Dither::default()).is_err());
}

#[test]
fn a_json_string_is_accepted_as_the_document() {
    let doc = Value::String(r#"{"ITEMS":[{"TYPE":"TEXT","TEXT":"x"}]}"#.into());
    assert_eq!(
        texts(&build(&doc, 576, Dither::default()).unwrap()),
        vec!["x"]
    );
}

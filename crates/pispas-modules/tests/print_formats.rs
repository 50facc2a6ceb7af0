//! Every PRINT format end to end over TCP to the virtual printer (written from the ESC/POS spec,
//! not from our encoder): checked by the text it decodes and by raster pixels.
// Needs Chromium, pdfium, CUPS, ptys or Unix signals from the host: Linux only (docs/windows.md).
#![cfg(not(windows))]

mod print_support;

use pispas_sim::document::Element;
use pispas_testkit::client::Client;
use print_support::*;
use serde_json::json;

#[tokio::test]
async fn raw_bytes_reach_the_printer_untouched() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-raw",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let bytes = b"\x1b@Hola\n\x1dV\x42\x00".to_vec();
    let r = print(&mut c, "RECEIPT", "RAW", json!(b64(&bytes)), json!({})).await;
    let data = delivered(&r);
    assert_eq!(data["BYTES"], bytes.len());
    assert_eq!(data["TIMINGS"]["CONFIRMED"], true);
    let received: Vec<u8> = sim.received_bytes().into_iter().filter(|_| true).collect();
    // Status requests (DLE EOT) go around the job; the job itself is byte for byte.
    assert!(
        received.windows(bytes.len()).any(|w| w == bytes.as_slice()),
        "{received:02x?}"
    );
    assert_eq!(sim.cuts().len(), 1);
}

#[tokio::test]
async fn text_prints_euro_and_enye_in_cp858() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-text",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(
        &mut c,
        "RECEIPT",
        "TEXT",
        json!("Año: 2 cañas 3,50 €\n¡Gracias!"),
        json!({}),
    )
    .await;
    delivered(&r);
    let bytes = sim.received_bytes();
    assert!(
        bytes.windows(3).any(|w| w == [0x1B, 0x74, 19]),
        "ESC t 19 selects PC858"
    );
    assert!(bytes.windows(2).any(|w| w == [b'A', 0xA4]), "ñ is 0xA4");
    assert!(
        bytes.windows(3).any(|w| w == [b'0', b' ', 0xD5]),
        "€ is 0xD5"
    );
    let text = sim.text();
    assert!(text.contains("Año: 2 cañas 3,50 €"), "{text}");
    assert!(text.contains("¡Gracias!"), "{text}");
    assert_eq!(sim.cuts().len(), 1, "TEXT is cut by default");
}

#[tokio::test]
async fn a_receipt_document_prints_styles_columns_codes_and_a_cut() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-receipt",
        &[("RECEIPT", format!("tcp://{}?cut=full", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let doc = json!({"ITEMS": [
        {"TYPE": "TEXT", "TEXT": "BAR PEPE", "ALIGN": "CENTER", "BOLD": true, "SIZE": 2},
        {"TYPE": "COLUMNS", "COLUMNS": [{"TEXT": "2x Caña"}, {"TEXT": "3,00 €", "ALIGN": "RIGHT", "WIDTH": 8}]},
        {"TYPE": "SEPARATOR"},
        {"TYPE": "BARCODE", "SYMBOLOGY": "EAN13", "DATA": "841234567890"},
        {"TYPE": "QR", "DATA": "https://app.unpispas.es/t/123"}
    ]});
    delivered(&print(&mut c, "RECEIPT", "RECEIPT", doc, json!({})).await);
    let text = sim.text();
    assert!(text.contains("BAR PEPE"), "{text}");
    assert!(
        text.contains(&format!("2x Caña{}3,00 €", " ".repeat(35))),
        "{text}"
    );
    assert!(text.contains(&"-".repeat(48)), "{text}");
    let doc = sim.document();
    let qr = doc.elements.iter().find_map(|e| match e {
        Element::Qr(q) => Some(q.data.clone()),
        _ => None,
    });
    assert_eq!(qr.as_deref(), Some(&b"https://app.unpispas.es/t/123"[..]));
    let bar = doc.elements.iter().find_map(|e| match e {
        Element::Barcode(b) => Some((b.symbology.clone(), b.data.clone())),
        _ => None,
    });
    assert_eq!(bar, Some(("EAN13".to_string(), b"841234567890".to_vec())));
    let cuts = sim.cuts();
    assert_eq!(cuts.len(), 1);
    assert_eq!(
        cuts[0].command,
        [0x1D, 0x56, 0x41, 0x00],
        "full cut from the URI option"
    );
}

#[tokio::test]
async fn an_image_of_the_printer_width_comes_out_bit_exact() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-image",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let (w, h) = (576, 300);
    delivered(
        &print(
            &mut c,
            "RECEIPT",
            "IMAGE",
            json!(b64(&pattern_png(w, h))),
            json!({}),
        )
        .await,
    );
    let images = sim.images();
    let total: usize = images.iter().map(|i| i.height).sum();
    assert_eq!(total, h as usize, "300 rows, sent in bands");
    assert!(images.iter().all(|i| i.width == 576), "72-byte rows");
    let mut y0 = 0;
    for img in &images {
        for y in 0..img.height {
            for x in 0..img.width {
                assert_eq!(
                    img.bits[y * img.width + x],
                    pattern_black(x as u32, (y0 + y) as u32),
                    "dot {x},{}",
                    y0 + y
                );
            }
        }
        y0 += img.height;
    }
}

#[tokio::test]
async fn a_58mm_printer_gets_48_byte_rows_and_a_wide_image_is_scaled_to_fit() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-58",
        &[("SMALL", format!("tcp://{}?width=384", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    delivered(
        &print(
            &mut c,
            "SMALL",
            "IMAGE",
            json!(b64(&pattern_png(768, 100))),
            json!({}),
        )
        .await,
    );
    let images = sim.images();
    assert_eq!(images.len(), 1);
    assert_eq!((images[0].width, images[0].height), (384, 50));
}

#[tokio::test]
async fn the_drawer_kick_is_esc_p_with_both_pulse_times() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-drawer",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c.call("PRINT", "OPEN_DRAWER", json!({})).await.unwrap();
    delivered(&r);
    let r = c
        .call("PRINT", "openDrawer", json!({ "PIN": 5 }))
        .await
        .unwrap();
    delivered(&r);
    let bytes = sim.received_bytes();
    assert!(
        bytes.windows(5).any(|w| w == [0x1B, 0x70, 0, 50, 50]),
        "{bytes:02x?}"
    );
    assert!(
        bytes.windows(5).any(|w| w == [0x1B, 0x70, 1, 50, 50]),
        "{bytes:02x?}"
    );
    let kicks = sim.drawer_kicks();
    assert_eq!(kicks.iter().map(|k| k.pin).collect::<Vec<_>>(), [2, 5]);
    assert!(sim.cuts().is_empty(), "opening the drawer wastes no paper");
}

#[tokio::test]
async fn a_receipt_can_open_the_drawer_after_printing_and_print_copies() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-copies",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(
        &mut c,
        "RECEIPT",
        "TEXT",
        json!("ticket"),
        json!({ "COPIES": 2, "OPEN_DRAWER": true }),
    )
    .await;
    delivered(&r);
    assert_eq!(sim.cuts().len(), 2);
    assert_eq!(sim.text().matches("ticket").count(), 2);
    assert_eq!(sim.drawer_kicks().len(), 2, "each copy is the whole job");
}

#[tokio::test]
async fn cut_and_test_page_print() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-cut",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    delivered(
        &c.call("PRINT", "CUT", json!({ "MODE": "FULL" }))
            .await
            .unwrap(),
    );
    assert_eq!(sim.cuts()[0].command, [0x1D, 0x56, 0x41, 0]);
    delivered(
        &c.call("PRINT", "TEST_PAGE", json!({ "PRINTER": "receipt" }))
            .await
            .unwrap(),
    );
    let text = sim.text();
    assert!(text.contains("€ ñ Ñ á é í ó ú ü ¿ ¡"), "{text}");
    assert!(text.contains("RECEIPT"), "{text}");
    assert_eq!(sim.cuts().len(), 2);
}

#[tokio::test]
async fn status_is_asked_of_the_printer_itself() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-status",
        &[("RECEIPT", format!("tcp://{}", sim.addr()))],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let s = c.call("PRINT", "STATUS", json!({})).await.unwrap();
    let d = &s["MESSAGE_DATA"];
    assert_eq!(
        (
            d["SOURCE"].as_str(),
            d["STATE"].as_str(),
            d["ONLINE"].as_bool()
        ),
        (Some("PRINTER"), Some("READY"), Some(true)),
        "{s:#}"
    );
    assert_eq!(d["PAPER"], "OK");
    sim.set_paper(Paper::NearEnd);
    sim.set_drawer_open(true);
    let d = c.call("PRINT", "STATUS", json!({})).await.unwrap()["MESSAGE_DATA"].clone();
    assert_eq!(
        (
            d["STATE"].as_str(),
            d["PAPER"].as_str(),
            d["DRAWER_OPEN"].as_bool()
        ),
        (Some("PAPER_NEAR_END"), Some("NEAR_END"), Some(true))
    );
    sim.set_cover_open(true);
    let d = c.call("PRINT", "STATUS", json!({})).await.unwrap()["MESSAGE_DATA"].clone();
    assert_eq!(
        (d["STATE"].as_str(), d["COVER_OPEN"].as_bool()),
        (Some("COVER_OPEN"), Some(true))
    );
    assert!(sim.status_requests().contains(&4), "DLE EOT 4 asked");
    let printers = c.call("PRINT", "getPrinters", json!({})).await.unwrap();
    let p = &printers["MESSAGE_DATA"]["PRINTERS"][0];
    assert_eq!(
        (p["NAME"].as_str(), p["STATE"].as_str(), p["WIDTH"].as_u64()),
        (Some("RECEIPT"), Some("COVER_OPEN"), Some(576))
    );
    assert_eq!(printers["MESSAGE_DATA"]["DEFAULT"], "RECEIPT");
}

#[tokio::test]
async fn an_unknown_printer_is_printer_not_found_naming_the_configured_ones() {
    let sim = tcp_printer().await;
    let server = engine(
        "print-unknown",
        &[
            ("RECEIPT", format!("tcp://{}", sim.addr())),
            ("BAR", format!("tcp://{}", sim.addr())),
        ],
        &[],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = print(&mut c, "KITCHEN", "TEXT", json!("x"), json!({})).await;
    failed_with(&r, "PRINTER_NOT_FOUND");
    assert_eq!(
        r["MESSAGE_DATA"]["DETAILS"]["PRINTERS"],
        json!(["BAR", "RECEIPT"])
    );
}

#[tokio::test]
async fn lan_discovery_probes_only_the_given_range_and_recognises_escpos() {
    let sim = VirtualPrinter::start_tcp("127.0.0.1:0").await.unwrap();
    let server = engine("print-scan", &[], &[]).await;
    let port = sim.addr().port();
    // Another subnet or port is a network scan: the admin token's call.
    let mut plain = Client::plain(server.addr()).await.unwrap();
    let r = plain
        .call(
            "PRINT",
            "GET_PRINTERS",
            json!({ "SCAN": true, "SUBNET": "127.0.0.1/32", "PORT": port }),
        )
        .await
        .unwrap();
    failed_with(&r, "UNAUTHORIZED");
    let opts = pispas_testkit::client::Connect {
        token: Some(server.engine.admin_token()),
        ..Default::default()
    };
    let mut c = Client::connect(server.addr(), opts).await.unwrap();
    let r = c
        .call(
            "PRINT",
            "GET_PRINTERS",
            json!({ "SCAN": true, "SUBNET": "127.0.0.1/32", "PORT": port }),
        )
        .await
        .unwrap();
    let found = &r["MESSAGE_DATA"]["NETWORK"]["FOUND"];
    assert_eq!(found[0]["URI"], format!("tcp://127.0.0.1:{port}"), "{r:#}");
    assert_eq!(found[0]["ESCPOS"], true);
    let r = c
        .call(
            "PRINT",
            "GET_PRINTERS",
            json!({ "SCAN": true, "SUBNET": "10.0.0.0/8" }),
        )
        .await
        .unwrap();
    failed_with(&r, "BAD_PARAMS");
}

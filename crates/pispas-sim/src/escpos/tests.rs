//! Spec examples, byte for byte: each test builds the bytes the ESC/POS manuals (and
//! device-protocols.md §6) describe and checks what the sim makes of them.

use super::*;
use crate::document::{Align, CutKind, Document, Element};

fn print(chunks: &[&[u8]]) -> Document {
    let mut splitter = Splitter::default();
    let mut interp = Interpreter::default();
    let mut doc = Document::default();
    for chunk in chunks {
        for command in splitter.push(chunk) {
            if let Some(e) = interp.apply(command) {
                doc.push(e);
            }
        }
    }
    if let Some(e) = splitter.finish().and_then(|c| interp.apply(c)) {
        doc.push(e);
    }
    doc
}

fn raster_header(row_bytes: u16, height: u16) -> Vec<u8> {
    let [xl, xh] = row_bytes.to_le_bytes();
    let [yl, yh] = height.to_le_bytes();
    vec![0x1D, 0x76, 0x30, 0x00, xl, xh, yl, yh]
}

#[test]
fn an_empty_buffer_and_a_lone_escape_are_incomplete() {
    assert_eq!(parse_command(&[]), Parsed::Incomplete);
    assert_eq!(parse_command(&[0x1B]), Parsed::Incomplete);
    assert_eq!(parse_command(&[0x1B, b'p', 0]), Parsed::Incomplete);
}

#[test]
fn a_576_dot_raster_band_has_72_byte_rows() {
    let mut bytes = raster_header(72, 2);
    let mut data = vec![0u8; 144];
    data[0] = 0x80; // row 0, leftmost dot
    data[72 + 71] = 0x01; // row 1, rightmost dot
    bytes.extend_from_slice(&data);
    let images = print(&[&bytes]).images();
    assert_eq!(images.len(), 1);
    assert_eq!((images[0].width, images[0].height), (576, 2));
    assert!(images[0].get(0, 0));
    assert!(images[0].get(575, 1));
    assert_eq!(images[0].black_dots(), 2);
}

#[test]
fn consecutive_bands_of_one_width_stack_into_one_image() {
    let mut bytes = raster_header(2, 3);
    bytes.extend_from_slice(&[0xFF; 6]);
    bytes.extend(raster_header(2, 1));
    bytes.extend_from_slice(&[0x00, 0x01]);
    let doc = print(&[&bytes]);
    let images = doc.images();
    assert_eq!(images.len(), 1);
    assert_eq!((images[0].width, images[0].height), (16, 4));
    assert!(images[0].get(15, 3));
    assert!(!images[0].get(0, 3));
}

#[test]
fn bands_of_different_widths_are_separate_images() {
    let mut bytes = raster_header(2, 1);
    bytes.extend_from_slice(&[0xFF; 2]);
    bytes.extend(raster_header(3, 1));
    bytes.extend_from_slice(&[0xFF; 3]);
    let images = print(&[&bytes]).images();
    assert_eq!(images.iter().map(|i| i.width).collect::<Vec<_>>(), [16, 24]);
}

#[test]
fn a_band_split_across_reads_waits_for_its_data() {
    let mut bytes = raster_header(1, 2);
    bytes.extend_from_slice(&[0xAA, 0x55]);
    let doc = print(&[&bytes[..5], &bytes[5..9], &bytes[9..]]);
    assert_eq!(doc.images().len(), 1);
    assert_eq!(doc.images()[0].to_raster(), [0xAA, 0x55]);
}

#[test]
fn drawer_kick_1b_70_00_19_fa_is_pin_2_for_50_ms_then_500_ms() {
    let kicks = print(&[&[0x1B, 0x70, 0x00, 0x19, 0xFA]]).drawer_kicks();
    assert_eq!(kicks.len(), 1);
    assert_eq!(
        (kicks[0].pin, kicks[0].on_ms(), kicks[0].off_ms()),
        (2, 50, 500)
    );
}

#[test]
fn drawer_kick_m_49_is_pin_5() {
    let kicks = print(&[&[0x1B, 0x70, 49, 0x32, 0x32]]).drawer_kicks();
    assert_eq!((kicks[0].pin, kicks[0].m), (5, 49));
}

#[test]
fn a_kick_without_its_pulse_bytes_at_the_end_of_the_stream_is_malformed() {
    let doc = print(&[&[0x1B, 0x70, 0x00]]);
    assert!(doc.drawer_kicks().is_empty());
    assert!(matches!(
        doc.elements.as_slice(),
        [Element::Malformed { bytes, .. }] if bytes == &[0x1B, 0x70, 0x00]
    ));
}

#[test]
fn a_kick_with_an_undefined_pin_is_malformed() {
    let doc = print(&[&[0x1B, 0x70, 0x07, 0x19, 0xFA]]);
    assert!(doc.drawer_kicks().is_empty());
    assert_eq!(doc.oddities().len(), 1);
}

#[test]
fn euro_prints_from_0xd5_in_pc858() {
    let doc = print(&[&[0x1B, 0x74, 19, b'5', 0xD5, b' ', 0xA4]]);
    assert_eq!(doc.text(), "5€ ñ");
}

#[test]
fn euro_prints_from_0x80_in_wpc1252_and_init_returns_to_pc437() {
    let doc = print(&[&[0x1B, 0x74, 16, 0x80, 0x0A, 0x1B, 0x40, 0x80]]);
    assert_eq!(doc.text(), "€\nÇ");
}

#[test]
fn dle_eot_between_text_is_a_status_request() {
    let mut s = Splitter::default();
    let commands = s.push(b"ab\x10\x04\x04cd");
    assert_eq!(
        commands,
        [
            Command::Text(b"ab".to_vec()),
            Command::StatusRequest(4),
            Command::Text(b"cd".to_vec())
        ]
    );
}

#[test]
fn dle_eot_bytes_inside_raster_data_are_data() {
    let mut bytes = raster_header(3, 1);
    bytes.extend_from_slice(&[0x10, 0x04, 0x01]);
    let mut s = Splitter::default();
    let commands = s.push(&bytes);
    assert_eq!(commands.len(), 1);
    assert!(matches!(commands[0], Command::Raster { .. }));
}

#[test]
fn every_cut_form_is_recorded_with_its_kind_and_feed() {
    let doc = print(&[&[
        0x1D, 0x56, 0x00, 0x1D, 0x56, 0x01, 0x1D, 0x56, 48, 0x1D, 0x56, 49, 0x1D, 0x56, 65, 3,
        0x1D, 0x56, 66, 10,
    ]]);
    let cuts: Vec<_> = doc.cuts().into_iter().map(|c| (c.kind, c.feed)).collect();
    use CutKind::*;
    assert_eq!(
        cuts,
        [
            (Full, None),
            (Partial, None),
            (Full, None),
            (Partial, None),
            (Full, Some(3)),
            (Partial, Some(10))
        ]
    );
}

#[test]
fn a_qr_code_prints_the_data_stored_by_fn_80() {
    let data = b"https://unpispas.es/t/42";
    let len = (data.len() + 3) as u16;
    let mut bytes = vec![0x1D, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0x00];
    bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x43, 6]);
    bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x45, 0x31]);
    bytes.extend_from_slice(&[
        0x1D,
        0x28,
        0x6B,
        len as u8,
        (len >> 8) as u8,
        0x31,
        0x50,
        0x30,
    ]);
    bytes.extend_from_slice(data);
    bytes.extend_from_slice(&[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30]);
    let qrs = print(&[&bytes]).qr_codes();
    assert_eq!(qrs.len(), 1);
    assert_eq!(qrs[0].data, data);
    assert_eq!((qrs[0].model, qrs[0].module_size, qrs[0].ecc), (2, 6, 'M'));
}

#[test]
fn a_qr_print_with_nothing_stored_is_malformed() {
    let doc = print(&[&[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30]]);
    assert!(doc.qr_codes().is_empty());
    assert!(matches!(doc.oddities()[0], Element::Malformed { .. }));
}

#[test]
fn barcodes_of_type_a_and_b_carry_the_height_width_and_hri_set_before() {
    let mut bytes = vec![0x1D, b'h', 80, 0x1D, b'w', 2, 0x1D, b'H', 2];
    bytes.extend_from_slice(b"\x1Dk\x024006381333931\x00");
    bytes.extend_from_slice(b"\x1Dk\x49\x06{B1234");
    let codes = print(&[&bytes]).barcodes();
    assert_eq!(codes.len(), 2);
    assert_eq!(codes[0].symbology, "EAN13");
    assert_eq!(codes[0].data, b"4006381333931");
    assert_eq!((codes[0].height, codes[0].width, codes[0].hri), (80, 2, 2));
    assert_eq!(codes[1].symbology, "CODE128");
    assert_eq!(codes[1].data, b"{B1234");
}

#[test]
fn an_unknown_command_is_recorded_and_printing_goes_on() {
    let doc = print(&[b"\x1B\x07after\x1D\x99x"]);
    assert_eq!(doc.text(), "afterx");
    assert_eq!(doc.oddities().len(), 2);
}

#[test]
fn style_commands_shape_the_text_runs() {
    let doc = print(&[b"\x1Ba\x01\x1BE\x01\x1D!\x11Big\x1BE\x00\x1D!\x00small"]);
    let runs: Vec<_> = doc
        .elements
        .iter()
        .filter_map(|e| match e {
            Element::Text { text, style } => {
                Some((text.as_str(), style.bold, style.width, style.align))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        runs,
        [
            ("Big", true, 2, Align::Center),
            ("small", false, 1, Align::Center)
        ]
    );
}

#[test]
fn esc_d_feeds_lines_after_the_printed_line() {
    assert_eq!(print(&[b"a\x1Bd\x03b\n"]).text(), "a\n\n\nb\n");
    assert_eq!(print(&[b"a\n\x1Bd\x02"]).text(), "a\n\n\n");
}

#[test]
fn esc_star_column_images_decode_with_msb_at_the_top() {
    let doc = print(&[&[0x1B, b'*', 0, 2, 0, 0x80, 0x01]]);
    let images = doc.images();
    assert_eq!((images[0].width, images[0].height), (2, 8));
    assert!(images[0].get(0, 0));
    assert!(images[0].get(1, 7));
}

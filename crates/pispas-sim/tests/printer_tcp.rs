//! The virtual printer over a real TCP socket, as the engine will use it: receipts decode to
//! text, cuts and kicks; DLE EOT is answered from the settable condition; ASB is pushed; output
//! sent while not ready is held; drop_after hangs up mid-job.

use pispas_sim::document::CutKind;
use pispas_sim::printer::{Paper, VirtualPrinter};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

async fn printer() -> (VirtualPrinter, TcpStream) {
    let printer = VirtualPrinter::start_tcp("127.0.0.1:0")
        .await
        .expect("bind");
    let socket = TcpStream::connect(printer.addr()).await.expect("connect");
    (printer, socket)
}

#[tokio::test]
async fn a_receipt_decodes_to_text_a_cut_and_a_drawer_kick() {
    let (printer, mut socket) = printer().await;
    let mut job = b"\x1B@\x1Bt\x13Total 5".to_vec();
    job.extend_from_slice(&[0xD5, b'\n']);
    job.extend_from_slice(&[0x1D, 0x56, 66, 3, 0x1B, 0x70, 0x00, 0x19, 0xFA]);
    socket.write_all(&job).await.expect("write");
    drop(socket);
    let jobs = printer.wait_for_jobs(1, WAIT).await.expect("job");
    assert_eq!(jobs[0].bytes, job);
    assert_eq!(printer.text(), "Total 5€\n");
    let cuts = printer.cuts();
    assert_eq!((cuts[0].kind, cuts[0].feed), (CutKind::Partial, Some(3)));
    let kick = printer.drawer_kicks()[0];
    assert_eq!((kick.pin, kick.on_ms(), kick.off_ms()), (2, 50, 500));
    assert!(printer.document().oddities().is_empty());
}

#[tokio::test]
async fn dle_eot_is_answered_from_the_condition_at_once() {
    let (printer, mut socket) = printer().await;
    printer.set_paper(Paper::Out);
    socket
        .write_all(&[0x10, 0x04, 0x04, 0x10, 0x04, 0x01])
        .await
        .expect("write");
    let mut answer = [0u8; 2];
    socket.read_exact(&mut answer).await.expect("answer");
    assert_eq!(answer, [0x72, 0x1A]);
    printer.set_paper(Paper::NearEnd);
    printer.set_drawer_open(true);
    socket
        .write_all(&[0x10, 0x04, 0x04, 0x10, 0x04, 0x01])
        .await
        .expect("write");
    socket.read_exact(&mut answer).await.expect("answer");
    assert_eq!(answer, [0x1E, 0x16]);
    assert_eq!(printer.status_requests(), [4, 1, 4, 1]);
}

#[tokio::test]
async fn output_sent_while_the_paper_is_out_prints_when_paper_is_back() {
    let (printer, mut socket) = printer().await;
    printer.set_paper(Paper::Out);
    socket.write_all(b"held\n\x1DV\x00").await.expect("write");
    printer.wait_for_bytes(8, WAIT).await.expect("bytes");
    assert!(printer.cuts().is_empty());
    assert_eq!(printer.held().len(), 3);
    printer.set_paper(Paper::Ok);
    printer
        .wait_for_cuts(1, WAIT)
        .await
        .expect("cut after paper is back");
    assert_eq!(printer.text(), "held\n");
}

#[tokio::test]
async fn drop_after_hangs_up_mid_job_and_marks_the_job_dropped() {
    let (printer, mut socket) = printer().await;
    printer.drop_after(10);
    let _ = socket.write_all(&[b'x'; 100]).await;
    let mut rest = Vec::new();
    let _ = socket.read_to_end(&mut rest).await;
    let jobs = printer.wait_for_jobs(1, WAIT).await.expect("job");
    assert!(jobs[0].dropped);
    assert_eq!(printer.received_bytes().len(), 10);
    // The fault fires once: the next connection prints normally.
    let mut again = TcpStream::connect(printer.addr()).await.expect("connect");
    again.write_all(b"ok\n").await.expect("write");
    drop(again);
    let jobs = printer.wait_for_jobs(2, WAIT).await.expect("second job");
    assert!(!jobs[1].dropped);
}

#[tokio::test]
async fn a_raster_image_comes_out_bit_exact() {
    let (printer, mut socket) = printer().await;
    let rows: Vec<u8> = (0..72 * 24).map(|i| (i * 7 % 251) as u8).collect();
    let mut job = vec![0x1D, 0x76, 0x30, 0x00, 72, 0, 24, 0];
    job.extend_from_slice(&rows);
    socket.write_all(&job).await.expect("write");
    let images = printer.wait_for_images(1, WAIT).await.expect("image");
    assert_eq!((images[0].width, images[0].height), (576, 24));
    assert_eq!(images[0].to_raster(), rows);
}

#[tokio::test]
async fn asb_sends_the_status_when_enabled_and_on_every_change() {
    let (printer, mut socket) = printer().await;
    socket.write_all(&[0x1D, 0x61, 0xFF]).await.expect("write");
    let mut block = [0u8; 4];
    socket.read_exact(&mut block).await.expect("first block");
    assert_eq!(block, [0x10, 0, 0, 0]);
    printer.set_cover_open(true);
    socket
        .read_exact(&mut block)
        .await
        .expect("block on change");
    assert_eq!(block[0], 0x10 | 0x08 | 0x20);
}

#[tokio::test]
async fn a_kick_cut_short_by_the_connection_closing_is_malformed() {
    let (printer, mut socket) = printer().await;
    socket.write_all(&[0x1B, 0x70, 0x00]).await.expect("write");
    drop(socket);
    printer.wait_for_jobs(1, WAIT).await.expect("job");
    assert!(printer.drawer_kicks().is_empty());
    assert_eq!(printer.document().oddities().len(), 1);
}

#[tokio::test]
async fn a_slow_printer_still_receives_every_byte() {
    let (printer, mut socket) = printer().await;
    printer.set_slow(Some(2_000));
    let job: Vec<u8> = b"0123456789\n".repeat(20);
    socket.write_all(&job).await.expect("write");
    printer
        .wait_for_bytes(job.len(), WAIT)
        .await
        .expect("all bytes");
    assert_eq!(printer.text(), String::from_utf8_lossy(&job));
}

#[tokio::test]
async fn clear_forgets_finished_jobs_and_later_jobs_still_record() {
    let (printer, mut socket) = printer().await;
    socket.write_all(b"first\n").await.expect("write");
    drop(socket);
    printer.wait_for_jobs(1, WAIT).await.expect("first job");
    printer.clear();
    assert!(printer.jobs().is_empty());
    let mut again = TcpStream::connect(printer.addr()).await.expect("connect");
    again.write_all(b"second\n").await.expect("write");
    drop(again);
    let jobs = printer.wait_for_jobs(1, WAIT).await.expect("second job");
    assert_eq!(
        (jobs[0].id, jobs[0].document.text().as_str()),
        (2, "second\n")
    );
    assert_eq!(printer.text(), "second\n");
}

//! RFID reader simulators on a real pty: a held tag repeats its frame, remove stops it, a bad
//! checksum frame and unplug/replug behave as documented.
#![cfg(unix)]

use pispas_sim::rfid::{RfidProtocol, RfidSim, TagId};
use std::time::Duration;
use tokio::io::AsyncReadExt;

const WAIT: Duration = Duration::from_secs(10);

fn link(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pispas-sim-test-{name}-{}", std::process::id()))
}

async fn read_frame(port: &mut tokio::fs::File) -> Vec<u8> {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(WAIT, async {
        while byte[0] != 0x03 {
            port.read_exact(&mut byte).await.expect("read");
            out.push(byte[0]);
        }
    })
    .await
    .expect("a frame within the wait");
    out
}

async fn open(path: &std::path::Path) -> tokio::fs::File {
    tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .await
        .expect("open")
}

#[tokio::test]
async fn a_held_tag_repeats_its_frame_until_removed() {
    let path = link("rfid-held");
    let reader = RfidSim::start_pty(RfidProtocol::Em4100Short, &path)
        .await
        .expect("pty");
    let mut port = open(&path).await;
    let tag = TagId::parse("62E3086CED").expect("tag");
    reader.present(tag);
    for _ in 0..3 {
        assert_eq!(read_frame(&mut port).await, b"\x0262E3086CED08\x03");
    }
    reader.remove();
    let sent = reader.log().sent.len();
    // After removal no new frame is produced; presenting again resumes at once.
    reader.present(TagId::parse("0100000001").expect("tag"));
    let log = reader
        .wait_for_frames(sent / 14 + 1, WAIT)
        .await
        .expect("frame");
    assert!(log.sent.ends_with(b"\x02010000000100\x03"));
}

#[tokio::test]
async fn the_long_format_and_a_bad_checksum() {
    let path = link("rfid-long");
    let reader = RfidSim::start_pty(RfidProtocol::Em4100Long, &path)
        .await
        .expect("pty");
    let mut port = open(&path).await;
    reader.send_bad_checksum(TagId::parse("62E3086CED").expect("tag"));
    assert_eq!(read_frame(&mut port).await, b"\x0262E3086CED09\r\n\x03");
}

#[tokio::test]
async fn a_tag_held_through_unplug_repeats_on_the_new_line_after_replug() {
    let path = link("rfid-replug");
    let reader = RfidSim::start_pty(RfidProtocol::Em4100Short, &path)
        .await
        .expect("pty");
    reader.present(TagId::parse("62E3086CED").expect("tag"));
    reader.unplug().await;
    assert!(std::fs::symlink_metadata(&path).is_err());
    reader.replug().await.expect("replug");
    let mut port = open(&path).await;
    assert_eq!(read_frame(&mut port).await, b"\x0262E3086CED08\x03");
}

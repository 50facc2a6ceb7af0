//! Scale simulators on a real pty, driven as the engine would drive them: open the link,
//! write the documented request, read the documented frame.
#![cfg(unix)]

use pispas_sim::scale::{ScaleSim, PROTOCOLS};
use std::path::PathBuf;
use std::time::Duration;
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);

fn link(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pispas-sim-test-{name}-{}", std::process::id()))
}

async fn open(path: &std::path::Path) -> File {
    tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .await
        .expect("open the pty link")
}

/// Reads until `end` arrives (inclusive), like a framing decoder would.
async fn read_until(port: &mut File, end: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(WAIT, async {
        loop {
            port.read_exact(&mut byte).await.expect("read");
            out.push(byte[0]);
            if byte[0] == end {
                break;
            }
        }
    })
    .await
    .expect("a frame within the wait");
    out
}

async fn ask(port: &mut File, request: &[u8], end: u8) -> Vec<u8> {
    port.write_all(request).await.expect("write");
    port.flush().await.expect("flush");
    read_until(port, end).await
}

#[tokio::test]
async fn toledo_answers_w_with_the_weight_then_a_status_while_moving() {
    let path = link("toledo");
    let scale = ScaleSim::start_pty("toledo8217", &path).await.expect("pty");
    let mut port = open(&path).await;
    scale.set_weight(1234);
    assert_eq!(ask(&mut port, b"W", b'\r').await, b"\x02 1.234\r");
    scale.set_stable(false);
    assert_eq!(ask(&mut port, b"W", b'\r').await, b"\x02?\x01\r");
    scale.set_stable(true);
    assert_eq!(ask(&mut port, b"W", b'\r').await, b"\x02 1.234\r");
}

#[tokio::test]
async fn toledo_tare_over_the_line_switches_to_net() {
    let path = link("toledo-tare");
    let scale = ScaleSim::start_pty("toledo8217", &path).await.expect("pty");
    let mut port = open(&path).await;
    scale.set_weight(150);
    port.write_all(b"T").await.expect("write");
    scale
        .wait_for_received(1, WAIT)
        .await
        .expect("tare received");
    scale.set_weight(1150);
    assert_eq!(ask(&mut port, b"W", b'\r').await, b"\x02 1.000N\r");
}

#[tokio::test]
async fn every_protocol_sends_its_documented_frame_for_one_kilo() {
    for protocol in PROTOCOLS {
        let path = link(&format!("all-{protocol}"));
        let scale = ScaleSim::start_pty(protocol, &path).await.expect("pty");
        scale.set_weight(1000);
        let mut port = open(&path).await;
        let frame = match protocol {
            "toledo8217" => ask(&mut port, b"W", b'\r').await,
            "caspd2" => ask(&mut port, b"W", b'\r').await,
            "castext" => read_until(&mut port, b'\r').await,
            "dialog02" | "dialog04" => ask(&mut port, b"\x04\x05", 0x03).await,
            "dibal" => ask(&mut port, b"98000001\r\n", b'\n').await,
            "epelsa" => {
                // Skip the power-on `I` frames.
                loop {
                    let f = read_until(&mut port, 0x03).await;
                    if f.get(1) != Some(&b'I') {
                        break f;
                    }
                }
            }
            "adam" => ask(&mut port, b"P\r\n", b'\n').await,
            other => panic!("no expectation for {other}"),
        };
        let expected: &[u8] = match protocol {
            "toledo8217" => b"\x02 1.000\r",
            "caspd2" => b"\x0201000\r",
            "castext" => b"ST,GS,+  1.000 kg\r",
            "dialog02" | "dialog04" => b"\x0202\x1b3\x1b01000\x1b000000\x1b000000\x03",
            "dibal" => b"9900100000000001\r\n",
            "epelsa" => b"\x02A  1.000\r\x03",
            _ => b"  1.000kg\r\n",
        };
        assert_eq!(frame, expected, "{protocol}");
    }
}

#[tokio::test]
async fn adam_stays_silent_when_the_weight_is_unchanged() {
    let path = link("adam-silent");
    let scale = ScaleSim::start_pty("adam", &path).await.expect("pty");
    let mut port = open(&path).await;
    scale.set_weight(500);
    assert_eq!(ask(&mut port, b"P\r\n", b'\n').await, b"  0.500kg\r\n");
    port.write_all(b"P\r\n").await.expect("write");
    let log = scale
        .wait_for_received(6, WAIT)
        .await
        .expect("second request");
    assert_eq!(log.sent, b"  0.500kg\r\n", "no second answer");
}

#[tokio::test]
async fn dialog_naks_an_overloaded_scale() {
    let path = link("dialog-ol");
    let scale = ScaleSim::start_pty("dialog02", &path).await.expect("pty");
    let mut port = open(&path).await;
    scale.set_weight(500);
    scale.set_overload(true);
    assert_eq!(ask(&mut port, b"\x04\x05", 0x15).await, [0x15]);
    assert_eq!(
        ask(&mut port, b"\x04\x0208\x03", 0x03).await,
        b"\x0209\x1b32\x03"
    );
}

#[tokio::test]
async fn garbage_and_a_corrupt_frame_reach_the_host() {
    let path = link("garbage");
    let scale = ScaleSim::start_pty("toledo8217", &path).await.expect("pty");
    let mut port = open(&path).await;
    scale.send_garbage();
    assert_eq!(
        read_until(&mut port, b'z').await,
        b"\xFF\x00#x\x02?1\x7F\xFE\r\n\x03z"
    );
    assert_eq!(read_until(&mut port, b'z').await, b"z");
    scale.set_weight(2000);
    scale.corrupt_next();
    assert_eq!(ask(&mut port, b"W", b'\r').await, b"\x02 x.000\r");
    assert_eq!(ask(&mut port, b"W", b'\r').await, b"\x02 2.000\r");
}

#[tokio::test]
async fn unplug_breaks_the_open_port_and_replug_serves_the_same_path_again() {
    let path = link("replug");
    let scale = ScaleSim::start_pty("toledo8217", &path).await.expect("pty");
    let mut port = open(&path).await;
    scale.set_weight(700);
    assert_eq!(ask(&mut port, b"W", b'\r').await, b"\x02 0.700\r");
    scale.unplug().await;
    assert!(std::fs::symlink_metadata(&path).is_err(), "link removed");
    let mut byte = [0u8; 1];
    assert!(
        matches!(port.read(&mut byte).await, Err(_) | Ok(0)),
        "the old port is dead"
    );
    scale.replug().await.expect("replug");
    let mut port = open(&path).await;
    assert_eq!(ask(&mut port, b"W", b'\r').await, b"\x02 0.700\r");
}

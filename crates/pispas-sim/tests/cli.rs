//! The real `pispas-sim` binary: its first stdout line is the engine configuration to use, and
//! `quit` on stdin ends it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn first_line(args: &[&str]) -> String {
    first_lines(args, 1).remove(0)
}

/// The first `n` stdout lines of `pispas-sim args`, after which it is told to `quit`.
fn first_lines(args: &[&str], n: usize) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pispas-sim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pispas-sim");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut lines = Vec::new();
    for _ in 0..n {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a line");
        lines.push(line.trim_end().to_string());
    }
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"quit\n");
    }
    let status = child.wait().expect("exit");
    assert!(status.success(), "{args:?} exited with {status}");
    lines
}

#[test]
fn the_printer_prints_its_tcp_uri_first() {
    let line = first_line(&["printer", "--port", "0"]);
    assert!(line.starts_with("PRINTER_SIM=tcp://127.0.0.1:"), "{line}");
}

#[cfg(unix)]
#[test]
fn the_scale_prints_its_serial_uri_with_the_protocol_first() {
    let link = std::env::temp_dir().join(format!("pispas-sim-cli-scale-{}", std::process::id()));
    let link = link.to_string_lossy().into_owned();
    let line = first_line(&["scale", "--protocol", "adam", "--link", &link]);
    assert_eq!(line, format!("SCALE=serial://{link}?protocol=adam"));
}

#[cfg(unix)]
#[test]
fn the_rfid_reader_prints_its_serial_uri_first() {
    let link = std::env::temp_dir().join(format!("pispas-sim-cli-rfid-{}", std::process::id()));
    let link = link.to_string_lossy().into_owned();
    let line = first_line(&["rfid", "--protocol", "em4100-16", "--link", &link]);
    assert_eq!(line, format!("RFID=serial://{link}?protocol=em4100"));
}

#[test]
fn an_unknown_protocol_is_refused() {
    let status = Command::new(env!("CARGO_BIN_EXE_pispas-sim"))
        .args(["scale", "--protocol", "nope"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run");
    assert!(!status.success());
}

#[test]
fn the_paytef_pinpad_prints_its_url_first() {
    let line = first_line(&["paytef", "--port", "0"]);
    assert!(line.starts_with("PAYTEF=http://127.0.0.1:"), "{line}");
    assert!(!line.contains('?'), "{line}");
}

#[test]
fn paytef_cloud_prints_the_url_with_the_pinpad_then_the_keys() {
    let lines = first_lines(&["paytef", "--port", "0", "--cloud"], 3);
    assert!(
        lines[0].starts_with("PAYTEF=http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines[0].ends_with("?pinpad=SIM00001"), "{lines:?}");
    assert_eq!(lines[1], "PAYTEF_ACCESS_KEY=sim-access-key");
    assert_eq!(lines[2], "PAYTEF_SECRET_KEY=sim-secret-key");
}

#[test]
fn the_mypos_terminal_prints_its_tcp_uri_first() {
    let line = first_line(&["mypos", "--port", "0", "--scenario", "declined"]);
    assert!(line.starts_with("MYPOS=tcp://127.0.0.1:"), "{line}");
}

#[cfg(unix)]
#[test]
fn the_mypos_terminal_on_a_pty_prints_its_serial_uri_with_the_baud_rate() {
    let link = std::env::temp_dir().join(format!("pispas-sim-cli-mypos-{}", std::process::id()));
    let link = link.to_string_lossy().into_owned();
    let line = first_line(&["mypos", "--pty", &link]);
    assert_eq!(line, format!("MYPOS=serial://{link}?baud=115200"));
}

#[test]
fn an_unknown_payment_scenario_is_refused() {
    for args in [
        ["paytef", "--scenario", "nope"],
        ["mypos", "--scenario", "nope"],
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_pispas-sim"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run");
        assert!(!status.success(), "{args:?}");
    }
}

//! The real `pispas-sim` binary: its first stdout line is the engine configuration to use, and
//! `quit` on stdin ends it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn first_line(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pispas-sim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pispas-sim");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"quit\n");
    }
    let status = child.wait().expect("exit");
    assert!(status.success(), "{args:?} exited with {status}");
    line.trim_end().to_string()
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

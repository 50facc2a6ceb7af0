//! The myPOS IPP simulator on a pty (Unix): the same framing over a serial line, opened the
//! way the engine opens a ttyACM device.
#![cfg(unix)]

mod common;

use common::ipp::{stages, Client};
use pispas_sim::mypos::{MyposOptions, MyposScenario, MyposSim, MyposTransport};
use std::time::Duration;

fn link(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pispas-sim-test-{name}-{}", std::process::id()))
}

async fn sim(name: &str, scenario: MyposScenario) -> (MyposSim, Client<tokio::fs::File>) {
    let path = link(name);
    let sim = MyposSim::start(MyposOptions {
        transport: MyposTransport::Pty(path.clone()),
        scenario,
        step: Duration::from_millis(10),
        ..MyposOptions::default()
    })
    .await
    .expect("pty");
    let file = tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .expect("open the link");
    (sim, Client { stream: file })
}

#[tokio::test]
async fn a_purchase_over_the_serial_line_goes_1_11_2_3_5() {
    let (sim, mut port) = sim("mypos-purchase", MyposScenario::Approved).await;
    let frames = port
        .call(
            "PURCHASE",
            &[("SID", "S-1"), ("AMOUNT", "0.01"), ("CURRENCY", "978")],
        )
        .await;
    assert_eq!(stages(&frames), [1, 11, 2, 3, 5]);
    assert!(sim
        .config_line()
        .ends_with(&format!("{}?baud=115200", link("mypos-purchase").display())));
}

#[tokio::test]
async fn a_lost_reply_on_a_serial_line_is_silence_and_the_line_keeps_working() {
    let (sim, mut port) = sim("mypos-lost", MyposScenario::ReplyLost).await;
    port.send(
        "PURCHASE",
        &[("SID", "S-1"), ("AMOUNT", "1"), ("CURRENCY", "978")],
    )
    .await;
    for _ in 0..4 {
        port.read().await.expect("a progress frame");
    }
    sim.wait_for_idle(common::ipp::FRAME_WAIT)
        .await
        .expect("approved");
    let status = port.call("GET_STATUS", &[("SID", "Q")]).await;
    assert_eq!(status.last().and_then(|f| f.get("TX_STATUS")), Some("0"));
    assert_eq!(
        status.last().and_then(|f| f.get("SID_ORIGINAL")),
        Some("S-1")
    );
}

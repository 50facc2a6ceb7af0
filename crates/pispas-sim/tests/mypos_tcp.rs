//! The myPOS IPP simulator over real TCP, driven by a plain client: the stage order, every
//! scenario, BUSY from a second connection, STATUS=20 after a missing COMPLETE_TX, GET_STATUS
//! reconciliation, and framing errors.

mod common;

use common::ipp::{frame, request, stages, Client, Frame};
use pispas_sim::mypos::{
    Completion, MyposOptions, MyposScenario, MyposSim, MyposState, MyposTransport, Status,
    TxOutcome,
};
use pispas_sim::payment::TEST_PANS;
use std::time::Duration;
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);
/// How long "silence" is listened to where a test checks that nothing comes.
const QUIET: Duration = Duration::from_millis(300);

async fn sim(scenario: MyposScenario) -> MyposSim {
    MyposSim::start(MyposOptions {
        transport: MyposTransport::Tcp("127.0.0.1:0".into()),
        scenario,
        step: Duration::from_millis(10),
        slow: Duration::from_millis(200),
        timeout_secs: 2,
        ..MyposOptions::default()
    })
    .await
    .expect("start")
}

async fn client(sim: &MyposSim) -> Client<TcpStream> {
    let addr = sim.addr().expect("tcp");
    Client {
        stream: TcpStream::connect(addr).await.expect("connect"),
    }
}

const PURCHASE: &[(&str, &str)] = &[
    ("VERSION", "202"),
    ("SID", "P-1"),
    ("AMOUNT", "12.34"),
    ("CURRENCY", "978"),
    ("REFERENCE", "ORDER-1"),
];

fn with_sid(sid: &str) -> Vec<(&str, &str)> {
    vec![
        ("VERSION", "202"),
        ("SID", sid),
        ("AMOUNT", "1.00"),
        ("CURRENCY", "978"),
    ]
}

async fn purchase(sim: &MyposSim) -> Vec<Frame> {
    client(sim).await.call("PURCHASE", PURCHASE).await
}

async fn get_status(sim: &MyposSim) -> Frame {
    let frames = client(sim)
        .await
        .call("GET_STATUS", &[("SID", "Q-1")])
        .await;
    frames.last().cloned().expect("a GET_STATUS answer")
}

async fn complete(sim: &MyposSim, original: &str) -> Frame {
    let fields = [("SID", "C-1"), ("SID_ORIGINAL", original)];
    let frames = client(sim).await.call("COMPLETE_TX", &fields).await;
    frames.last().cloned().expect("a COMPLETE_TX answer")
}

#[tokio::test]
async fn an_approved_chip_purchase_goes_through_stages_1_11_2_3_5() {
    let sim = sim(MyposScenario::Approved).await;
    let frames = purchase(&sim).await;
    assert_eq!(stages(&frames), [1, 11, 2, 3, 5]);
    for f in &frames {
        assert_eq!(f.0[0], ("PROTOCOL".into(), "IPP".into()));
        assert_eq!(f.0[1], ("METHOD".into(), "PURCHASE".into()));
        assert_eq!(f.get("SID"), Some("P-1"));
        assert_eq!(f.status(), 0);
        assert!(f.get("TIMEOUT").is_some());
    }
    let last = frames.last().expect("final");
    assert_eq!(last.get("TX_STATUS"), Some("0"));
    assert_eq!(last.get("APPROVAL"), Some("00"));
    assert_eq!(last.get("AMOUNT"), Some("12.34"));
    assert_eq!(last.get("PAN_MASKED"), Some("476173******0010"));
    for name in [
        "AUTH_CODE",
        "RRN",
        "STAN",
        "ENTRY_MODE",
        "AID",
        "AID_NAME",
        "TERMINAL_ID",
        "TX_DATE_LOCAL",
        "TX_TIME_LOCAL",
        "RECEIPT_DATA",
    ] {
        assert!(last.get(name).is_some_and(|v| !v.is_empty()), "{name}");
    }
    assert_eq!(sim.purchases(), 1);
    assert_eq!(sim.charged().len(), 1);
}

#[tokio::test]
async fn a_contactless_card_skips_the_pin_stage() {
    let sim = sim(MyposScenario::Approved).await;
    sim.set_card(pispas_sim::payment::TestCard::by_name("mastercard").expect("card"));
    let frames = purchase(&sim).await;
    assert_eq!(stages(&frames), [1, 11, 2, 5]);
    assert_eq!(frames[3].get("ENTRY_MODE"), Some("CONTACTLESS"));
}

#[tokio::test]
async fn a_declined_purchase_has_tx_status_1_and_no_auth_code() {
    let sim = sim(MyposScenario::Declined).await;
    let frames = purchase(&sim).await;
    let last = frames.last().expect("final");
    assert_eq!((last.stage(), last.status()), (5, 0));
    assert_eq!(last.get("TX_STATUS"), Some("1"));
    assert_eq!(last.get("APPROVAL"), Some("05"));
    assert_eq!(last.get("AUTH_CODE"), None);
    assert!(sim.charged().is_empty());
}

#[tokio::test]
async fn the_customer_cancelling_ends_at_stage_2_with_status_13() {
    let sim = sim(MyposScenario::CancelledByCustomer).await;
    let frames = purchase(&sim).await;
    let last = frames.last().expect("final");
    assert_eq!((last.stage(), last.status()), (2, 13));
    assert_eq!(stages(&frames), [1, 11, 2, 2]);
}

#[tokio::test]
async fn a_slow_card_read_waits_at_stage_11_then_approves() {
    let sim = sim(MyposScenario::SlowCard).await;
    let mut c = client(&sim).await;
    c.send("PURCHASE", PURCHASE).await;
    sim.wait_until("stage 11", WAIT, |s| {
        matches!(s.state(), MyposState::Running { stage: 11, .. }).then_some(())
    })
    .await
    .expect("at stage 11");
    let frames = c.read_flow().await;
    assert_eq!(frames.last().and_then(|f| f.get("TX_STATUS")), Some("0"));
}

#[tokio::test]
async fn timeout_goes_silent_after_stage_1_until_the_customer_cancels() {
    let sim = sim(MyposScenario::Timeout).await;
    let mut c = client(&sim).await;
    c.send("PURCHASE", PURCHASE).await;
    let first = c.read().await.expect("stage 1");
    assert_eq!((first.stage(), first.status()), (1, 0));
    assert_eq!(first.get("TIMEOUT"), Some("2"));
    assert!(
        c.read_within(QUIET).await.is_none(),
        "silence after stage 1"
    );
    assert!(sim.customer_cancel());
    let last = c.read().await.expect("the cancel");
    assert_eq!(last.status(), 13);
}

#[tokio::test]
async fn a_second_connections_purchase_while_one_runs_gets_status_1() {
    let sim = sim(MyposScenario::Timeout).await;
    let mut first = client(&sim).await;
    first.send("PURCHASE", PURCHASE).await;
    first.read().await.expect("stage 1");
    let frames = client(&sim).await.call("PURCHASE", &with_sid("P-2")).await;
    assert_eq!(frames.len(), 1);
    assert_eq!((frames[0].stage(), frames[0].status()), (1, 1));
    assert_eq!(frames[0].get("SID"), Some("P-2"));
    assert_eq!(sim.purchases(), 2);
    assert_eq!(sim.transactions().len(), 1);
}

#[tokio::test]
async fn busy_answers_status_1_to_everything_until_the_keypad_transaction_is_cancelled() {
    let sim = sim(MyposScenario::Busy).await;
    assert_eq!(purchase(&sim).await[0].status(), 1);
    let ping = client(&sim).await.call("PING", &[("SID", "X")]).await;
    assert_eq!(ping[0].status(), 1);
    assert!(sim.customer_cancel());
    let frames = purchase(&sim).await;
    assert_eq!(frames.last().and_then(|f| f.get("TX_STATUS")), Some("0"));
}

#[tokio::test]
async fn without_complete_tx_the_next_purchase_is_refused_with_status_20() {
    let sim = sim(MyposScenario::Approved).await;
    let first = purchase(&sim).await;
    let rrn = first
        .last()
        .and_then(|f| f.get("RRN"))
        .expect("rrn")
        .to_string();
    let refused = client(&sim).await.call("PURCHASE", &with_sid("P-2")).await;
    assert_eq!((refused[0].stage(), refused[0].status()), (1, 20));
    let status = get_status(&sim).await;
    assert_eq!(status.get("SID_ORIGINAL"), Some("P-1"));
    assert_eq!(status.get("TX_STATUS"), Some("0"));
    assert_eq!(status.get("RRN"), Some(rrn.as_str()));
    let done = complete(&sim, "P-1").await;
    assert_eq!((done.stage(), done.status()), (5, 0));
    let frames = client(&sim).await.call("PURCHASE", &with_sid("P-3")).await;
    assert_eq!(frames.last().map(Frame::stage), Some(5));
    assert_eq!(sim.completes(), ["P-1"]);
}

#[tokio::test]
async fn complete_tx_with_the_wrong_sid_original_is_transaction_not_found() {
    let sim = sim(MyposScenario::Approved).await;
    purchase(&sim).await;
    let answer = complete(&sim, "NOT-IT").await;
    assert_eq!(answer.status(), 17);
    assert!(sim.pending().is_some());
}

#[tokio::test]
async fn cancel_tx_reverses_the_uncompleted_purchase() {
    let sim = sim(MyposScenario::Approved).await;
    purchase(&sim).await;
    let fields = [("SID", "K-1"), ("SID_ORIGINAL", "P-1")];
    let frames = client(&sim).await.call("CANCEL_TX", &fields).await;
    assert_eq!(frames.last().map(|f| (f.stage(), f.status())), Some((5, 0)));
    assert!(sim.charged().is_empty());
    assert_eq!(sim.cancels(), ["P-1"]);
    assert_eq!(get_status(&sim).await.get("TX_STATUS"), Some("3"));
}

#[tokio::test]
async fn cancel_fails_answers_15_and_the_charge_stays() {
    let sim = sim(MyposScenario::CancelFails).await;
    purchase(&sim).await;
    let fields = [("SID", "K-1"), ("SID_ORIGINAL", "P-1")];
    let frames = client(&sim).await.call("CANCEL_TX", &fields).await;
    assert_eq!(frames.last().map(Frame::status), Some(15));
    assert_eq!(sim.charged().len(), 1);
    assert_eq!(sim.pending().map(|p| p.sid), Some("P-1".into()));
}

#[tokio::test]
async fn reversal_voids_the_last_approved_purchase_once() {
    let sim = sim(MyposScenario::Approved).await;
    purchase(&sim).await;
    let frames = client(&sim).await.call("REVERSAL", &[("SID", "V-1")]).await;
    let last = frames.last().expect("final");
    assert_eq!((last.stage(), last.status()), (5, 0));
    assert_eq!(last.get("SID_ORIGINAL"), Some("P-1"));
    assert!(sim.charged().is_empty());
    let again = client(&sim).await.call("REVERSAL", &[("SID", "V-2")]).await;
    assert_eq!(again[0].status(), 18);
}

#[tokio::test]
async fn reply_lost_closes_before_the_final_frame_but_get_status_shows_the_approval() {
    let sim = sim(MyposScenario::ReplyLost).await;
    let frames = purchase(&sim).await;
    assert!(frames.iter().all(|f| f.stage() != 5), "{frames:?}");
    let status = get_status(&sim).await;
    assert_eq!(status.get("SID_ORIGINAL"), Some("P-1"));
    assert_eq!(status.get("TX_STATUS"), Some("0"));
    assert_eq!(sim.charged().len(), 1);
    assert_eq!(sim.pending().map(|p| p.sid), Some("P-1".into()));
}

#[tokio::test]
async fn a_restart_mid_payment_closes_the_connection_and_forgets_the_purchase() {
    let sim = sim(MyposScenario::Restarted).await;
    let frames = purchase(&sim).await;
    assert_eq!(stages(&frames), [1, 11, 2]);
    let status = get_status(&sim).await;
    assert_eq!(status.get("SID_ORIGINAL"), None, "nothing to report");
    assert!(sim.pending().is_none());
    sim.set_scenario(MyposScenario::Approved);
    let next = client(&sim).await.call("PURCHASE", &with_sid("P-2")).await;
    assert_eq!(
        next.last().map(Frame::stage),
        Some(5),
        "no status 20 after a restart"
    );
    assert_eq!(sim.transactions()[0].outcome, TxOutcome::Forgotten);
}

#[tokio::test]
async fn restart_by_hand_keeps_the_previous_result_in_get_status() {
    let sim = sim(MyposScenario::Approved).await;
    purchase(&sim).await;
    complete(&sim, "P-1").await;
    sim.set_scenario(MyposScenario::Timeout);
    let mut c = client(&sim).await;
    c.send("PURCHASE", &with_sid("P-2")).await;
    c.read().await.expect("stage 1");
    sim.restart();
    assert_eq!(c.read().await, None, "the connection is closed");
    assert_eq!(get_status(&sim).await.get("SID_ORIGINAL"), Some("P-1"));
}

#[tokio::test]
async fn stuck_refuses_the_purchase_with_20_and_get_status_names_the_stuck_sid() {
    let sim = sim(MyposScenario::Stuck).await;
    let frames = purchase(&sim).await;
    assert_eq!(frames[0].status(), 20);
    let status = get_status(&sim).await;
    let stuck = status.get("SID_ORIGINAL").expect("a stuck SID").to_string();
    assert!(stuck.starts_with("STUCK-"));
    assert_eq!(status.get("TX_STATUS"), Some("0"));
    assert!(status.get("RRN").is_some());
    assert_eq!(complete(&sim, &stuck).await.status(), 0);
    let frames = client(&sim).await.call("PURCHASE", &with_sid("P-2")).await;
    assert_eq!(frames.last().and_then(|f| f.get("TX_STATUS")), Some("0"));
}

#[tokio::test]
async fn a_host_receive_error_is_status_12_and_nothing_is_charged() {
    let sim = sim(MyposScenario::HostError).await;
    let frames = purchase(&sim).await;
    let last = frames.last().expect("final");
    assert_eq!((last.stage(), last.status()), (5, 12));
    assert_eq!(get_status(&sim).await.get("TX_STATUS"), Some("4"));
    assert!(sim.charged().is_empty());
}

#[tokio::test]
async fn a_communication_error_is_status_15_though_the_card_was_charged() {
    let sim = sim(MyposScenario::CommError).await;
    let frames = purchase(&sim).await;
    let last = frames.last().expect("final");
    assert_eq!((last.stage(), last.status()), (5, 15));
    assert_eq!(get_status(&sim).await.get("TX_STATUS"), Some("0"));
    assert_eq!(sim.charged().len(), 1);
}

#[tokio::test]
async fn slave_mode_asks_the_caller_to_relay_with_process_stage_4() {
    let sim = sim(MyposScenario::Slave).await;
    let mut c = client(&sim).await;
    c.send("PURCHASE", PURCHASE).await;
    let relay = loop {
        let f = c.read().await.expect("a frame");
        if f.get("METHOD") == Some("PROCESS") {
            break f;
        }
    };
    assert_eq!(relay.stage(), 4);
    assert_eq!(relay.get("IP"), Some("pos1.mypos.com"));
    assert_eq!(relay.get("PORT"), Some("3012"));
    assert!(relay.get("DATA").is_some_and(|d| !d.is_empty()));
    c.send("PROCESS", &[("SID", "P-1"), ("DATA", "16030100AA")])
        .await;
    let last = c.read().await.expect("final");
    assert_eq!((last.stage(), last.get("TX_STATUS")), (5, Some("0")));
}

#[tokio::test]
async fn slave_mode_refused_by_hanging_up_leaves_nothing_charged() {
    let sim = sim(MyposScenario::Slave).await;
    let mut c = client(&sim).await;
    c.send("PURCHASE", PURCHASE).await;
    while c
        .read()
        .await
        .is_some_and(|f| f.get("METHOD") != Some("PROCESS"))
    {}
    drop(c);
    sim.wait_for_idle(WAIT).await.expect("ended");
    assert_eq!(sim.transactions()[0].outcome, TxOutcome::Failed);
}

#[tokio::test]
async fn declined_then_approved_sends_a_wrong_pin_status_then_approves() {
    let sim = sim(MyposScenario::DeclinedThenApproved).await;
    let mut c = client(&sim).await;
    c.send("PURCHASE", PURCHASE).await;
    let mut frames = Vec::new();
    while let Some(f) = c.read().await {
        let done = f.stage() == 5;
        frames.push(f);
        if done {
            break;
        }
    }
    let seen: Vec<(u8, u16)> = frames.iter().map(|f| (f.stage(), f.status())).collect();
    assert_eq!(
        seen,
        [(1, 0), (11, 0), (2, 0), (3, 0), (3, 9), (3, 0), (5, 0)]
    );
    assert_eq!(frames.last().and_then(|f| f.get("TX_STATUS")), Some("0"));
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_payment_still_gets_charged() {
    let sim = sim(MyposScenario::Approved).await;
    let mut c = client(&sim).await;
    c.send("PURCHASE", PURCHASE).await;
    c.read().await.expect("stage 1");
    drop(c);
    sim.wait_for_idle(WAIT).await.expect("finished");
    assert_eq!(sim.charged().len(), 1);
    assert_eq!(
        sim.pending().map(|p| p.completion),
        Some(Completion::Pending)
    );
}

#[tokio::test]
async fn ping_and_reprint_answer_stage_1_then_5() {
    let sim = sim(MyposScenario::Approved).await;
    let ping = client(&sim).await.call("PING", &[("SID", "X")]).await;
    assert_eq!(stages(&ping), [1, 5]);
    let none = client(&sim)
        .await
        .call("REPRINT_RECEIPT", &[("SID", "R")])
        .await;
    assert_eq!(none[0].status(), 17);
    purchase(&sim).await;
    let reprint = client(&sim)
        .await
        .call("REPRINT_RECEIPT", &[("SID", "R")])
        .await;
    assert!(reprint[1].get("RECEIPT_DATA").is_some());
}

#[tokio::test]
async fn bad_requests_get_their_documented_statuses() {
    let sim = sim(MyposScenario::Approved).await;
    let mut c = client(&sim).await;
    let no_sid = c.call("PING", &[]).await;
    assert_eq!(no_sid[0].status(), 2);
    let amount = c
        .call(
            "PURCHASE",
            &[("SID", "A"), ("AMOUNT", "1,50"), ("CURRENCY", "978")],
        )
        .await;
    assert_eq!(amount[0].status(), 19);
    let method = c.call("COMPLETE_PREAUTH", &[("SID", "A")]).await;
    assert_eq!(method[0].status(), 4);
    assert!(sim.transactions().is_empty());
}

#[tokio::test]
async fn a_frame_with_method_before_protocol_is_a_syntax_error_and_the_connection_goes_on() {
    let sim = sim(MyposScenario::Approved).await;
    let mut c = client(&sim).await;
    c.write(&frame(b"METHOD=PING\r\nPROTOCOL=IPP\r\nSID=S1\r\n"))
        .await;
    let refused = c.read().await.expect("an answer");
    assert_eq!((refused.stage(), refused.status()), (1, 2));
    assert_eq!(refused.get("SID"), Some("S1"));
    assert_eq!(stages(&c.call("PING", &[("SID", "S2")]).await), [1, 5]);
    assert!(sim.requests()[0].syntax_error.is_some());
}

#[tokio::test]
async fn lines_without_cr_lf_are_a_syntax_error() {
    let sim = sim(MyposScenario::Approved).await;
    let mut c = client(&sim).await;
    c.write(&frame(b"PROTOCOL=IPP\nMETHOD=PING\nSID=1\n")).await;
    assert_eq!(c.read().await.map(|f| f.status()), Some(2));
}

#[tokio::test]
async fn a_length_shorter_than_its_header_is_refused_and_the_connection_closed() {
    let sim = sim(MyposScenario::Approved).await;
    let mut c = client(&sim).await;
    c.write(&[0x00, 0x01, b'x']).await;
    assert_eq!(c.read().await.map(|f| f.status()), Some(2));
    assert_eq!(c.read().await, None);
}

#[tokio::test]
async fn two_frames_in_one_write_get_two_answers() {
    let sim = sim(MyposScenario::Approved).await;
    let mut c = client(&sim).await;
    let mut bytes = request("PING", &[("SID", "A")]);
    bytes.extend(request("PING", &[("SID", "B")]));
    c.write(&bytes).await;
    let mut sids = Vec::new();
    for _ in 0..4 {
        let f = c.read().await.expect("a frame");
        sids.push(f.get("SID").unwrap_or("").to_string());
    }
    assert_eq!(sids, ["A", "A", "B", "B"]);
}

#[tokio::test]
async fn a_frame_sent_one_byte_at_a_time_is_answered() {
    let sim = sim(MyposScenario::Approved).await;
    let mut c = client(&sim).await;
    for byte in request("PING", &[("SID", "A")]) {
        c.write(&[byte]).await;
    }
    assert_eq!(c.read().await.map(|f| f.stage()), Some(1));
}

#[tokio::test]
async fn no_frame_ever_contains_a_full_test_pan() {
    let sim = sim(MyposScenario::Approved).await;
    purchase(&sim).await;
    get_status(&sim).await;
    for reply in sim.replies() {
        let body = String::from_utf8(reply.message.to_body()).expect("ascii");
        for pan in TEST_PANS {
            assert!(!body.contains(pan), "{pan} in {body}");
        }
    }
}

#[tokio::test]
async fn the_config_line_names_the_tcp_address() {
    let sim = sim(MyposScenario::Approved).await;
    let addr = sim.addr().expect("tcp");
    assert_eq!(sim.config_line(), format!("MYPOS=tcp://{addr}"));
    let _ = Status::Ok;
}

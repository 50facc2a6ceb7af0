//! ORDER_KITCHEN end to end over the WebSocket: a POS client sends tickets, display clients
//! subscribe, mark lines done, bump, recall and serve; the POS hears every cook action as a
//! KITCHEN event with its SEND's UUIDV4. Idempotency (the same SEND twice, the same TICKET under
//! a new UUIDV4), LAST_SEQ replay, routing, bad tickets, and the real binary SIGKILLed after
//! acknowledged SENDs and restarted: nothing lost, nothing twice.

use pispas_testkit::client::{next_uuid, Client};
use pispas_testkit::{start_engine, TestEngine};
use serde_json::{json, Value};

fn ok(r: &Value) -> &Value {
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    &r["MESSAGE_DATA"]
}

fn code(r: &Value) -> &str {
    assert_eq!(r["MESSAGE_EXEC"], "FAILURE", "{r:#}");
    r["MESSAGE_DATA"]["CODE"].as_str().unwrap()
}

fn burger(ticket: &str) -> Value {
    json!({
        "TICKET": ticket, "TABLE": "7", "ORDER": "A-101", "CHANNEL": "dine-in",
        "LINES": [
            {"LINE": "1", "QTY": 2, "NAME": "Burger", "MODIFIERS": ["no onion"], "ALLERGENS": ["gluten"]},
            {"LINE": "2", "QTY": 1, "NAME": "Cola", "CATEGORY": "drinks"}
        ]
    })
}

async fn kitchen(extra: &[(&str, &str)]) -> TestEngine {
    let mut env = vec![("MODULES", "base,order_kitchen")];
    env.extend_from_slice(extra);
    start_engine("kitchen", &env).await
}

/// A KITCHEN event with this ACTION for this ticket.
async fn event(c: &mut Client, action: &str, ticket: &str) -> Value {
    let (a, t) = (action.to_string(), ticket.to_string());
    c.wait_for(move |v| {
        v["MESSAGE_TYPE"] == "EVENT"
            && v["MESSAGE_DATA"]["EVENT"] == "KITCHEN"
            && v["MESSAGE_DATA"]["ACTION"] == a.as_str()
            && v["MESSAGE_DATA"]["TICKET"] == t.as_str()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_ticket_reaches_two_displays_and_the_cooks_actions_reach_the_pos() {
    let engine = kitchen(&[]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let mut d1 = Client::plain(engine.addr()).await.unwrap();
    let mut d2 = Client::plain(engine.addr()).await.unwrap();
    for d in [&mut d1, &mut d2] {
        let r = d
            .call("ORDER_KITCHEN", "SUBSCRIBE", json!({"STATION": "KITCHEN"}))
            .await
            .unwrap();
        assert_eq!(ok(&r)["SNAPSHOT"], json!([]));
    }
    let send = next_uuid();
    let r = pos
        .call_with_uuid(&send, "ORDER_KITCHEN", "SEND", burger("T1"))
        .await
        .unwrap();
    assert_eq!(ok(&r)["STAGE"], "NEW");
    for d in [&mut d1, &mut d2] {
        let e = event(d, "SENT", "T1").await;
        assert_eq!(e["MESSAGE_DATA"]["CARD"]["LINES"][0]["NAME"], "Burger");
        assert_eq!(e["MESSAGE_DATA"]["SEQ"], 1);
    }
    let status = pos
        .call("ORDER_KITCHEN", "STATUS", json!({}))
        .await
        .unwrap();
    assert_eq!(ok(&status)["STATIONS"][0]["DISPLAYS"], 2);
    assert_eq!(ok(&status)["OPEN"], 1);

    // The cook taps a line done, then bumps: the POS hears both under its SEND's UUIDV4.
    ok(&d1
        .call(
            "ORDER_KITCHEN",
            "LINE_DONE",
            json!({"TICKET": "T1", "LINE": "1", "BY": "GRILL-1"}),
        )
        .await
        .unwrap());
    let e = event(&mut pos, "LINE_DONE", "T1").await;
    assert_eq!(e["MESSAGE_UUID"], send.as_str());
    assert_eq!(e["MESSAGE_DATA"]["BY"], "GRILL-1");
    assert_eq!(e["MESSAGE_DATA"]["LINE"], "1");
    ok(&d1
        .call(
            "ORDER_KITCHEN",
            "BUMP",
            json!({"TICKET": "T1", "BY": "GRILL-1"}),
        )
        .await
        .unwrap());
    let e = event(&mut pos, "BUMPED", "T1").await;
    assert_eq!(e["MESSAGE_DATA"]["STAGE"], "PREPARING");
    event(&mut d2, "BUMPED", "T1").await;

    // The last line done: READY by itself.
    ok(&d1
        .call(
            "ORDER_KITCHEN",
            "LINE_DONE",
            json!({"TICKET": "T1", "LINE": "2", "BY": "GRILL-1"}),
        )
        .await
        .unwrap());
    let e = event(&mut pos, "BUMPED", "T1").await;
    assert_eq!(e["MESSAGE_DATA"]["STAGE"], "READY");
    assert_eq!(e["MESSAGE_DATA"]["BY"], "AUTO");

    // Served, then recalled by the display that served it: back on the screens.
    ok(&d1
        .call(
            "ORDER_KITCHEN",
            "BUMP",
            json!({"TICKET": "T1", "BY": "GRILL-1"}),
        )
        .await
        .unwrap());
    event(&mut pos, "SERVED", "T1").await;
    let list = d1.call("ORDER_KITCHEN", "LIST", json!({})).await.unwrap();
    assert_eq!(ok(&list)["TICKETS"], json!([]));
    let r = d2
        .call("ORDER_KITCHEN", "RECALL", json!({"BY": "GRILL-2"}))
        .await
        .unwrap();
    assert_eq!(code(&r), "NOTHING_TO_RECALL");
    ok(&d1
        .call("ORDER_KITCHEN", "RECALL", json!({"BY": "GRILL-1"}))
        .await
        .unwrap());
    let e = event(&mut pos, "RECALLED", "T1").await;
    assert_eq!(e["MESSAGE_DATA"]["STAGE"], "READY");
    let list = d1.call("ORDER_KITCHEN", "LIST", json!({})).await.unwrap();
    assert_eq!(ok(&list)["TICKETS"][0]["TICKET"], "T1");
}

#[tokio::test]
async fn the_same_send_twice_is_one_ticket_and_a_resent_ticket_id_is_marked_duplicate() {
    let engine = kitchen(&[]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let mut d = Client::plain(engine.addr()).await.unwrap();
    ok(&d
        .call("ORDER_KITCHEN", "SUBSCRIBE", json!({}))
        .await
        .unwrap());
    let uuid = next_uuid();
    let first = pos
        .call_with_uuid(&uuid, "ORDER_KITCHEN", "SEND", burger("T9"))
        .await
        .unwrap();
    let again = pos
        .call_with_uuid(&uuid, "ORDER_KITCHEN", "SEND", burger("T9"))
        .await
        .unwrap();
    assert_eq!(ok(&again)["REPLAYED"], true);
    assert_eq!(ok(&again)["SEQ"], ok(&first)["SEQ"]);
    // A different UUIDV4, the same TICKET: the kiosk fired it again. One card, marked.
    let dup = pos
        .call("ORDER_KITCHEN", "SEND", burger("T9"))
        .await
        .unwrap();
    assert_eq!(ok(&dup)["DUPLICATE"], true);
    let e = event(&mut d, "SENT", "T9").await;
    assert_eq!(e["MESSAGE_DATA"]["DUPLICATE"], false);
    let e = event(&mut d, "SENT", "T9").await;
    assert_eq!(e["MESSAGE_DATA"]["DUPLICATE"], true);
    assert_eq!(
        e["MESSAGE_DATA"]["SEQ"], 2,
        "the replayed SEND made no event"
    );
    let list = pos.call("ORDER_KITCHEN", "LIST", json!({})).await.unwrap();
    let tickets = ok(&list)["TICKETS"].as_array().unwrap().clone();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["DUPLICATE"], true);
    assert_eq!(tickets[0]["DUPLICATES"], 1);
}

#[tokio::test]
async fn a_display_offline_during_three_events_gets_exactly_those_or_a_snapshot() {
    let engine = kitchen(&[]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let mut d = Client::plain(engine.addr()).await.unwrap();
    ok(&d
        .call("ORDER_KITCHEN", "SUBSCRIBE", json!({}))
        .await
        .unwrap());
    ok(&pos
        .call("ORDER_KITCHEN", "SEND", burger("A"))
        .await
        .unwrap());
    let seen = event(&mut d, "SENT", "A").await["MESSAGE_DATA"]["SEQ"]
        .as_u64()
        .unwrap();
    d.close().await;
    ok(&pos
        .call("ORDER_KITCHEN", "SEND", burger("B"))
        .await
        .unwrap());
    ok(&pos
        .call("ORDER_KITCHEN", "BUMP", json!({"TICKET": "A"}))
        .await
        .unwrap());
    ok(&pos
        .call("ORDER_KITCHEN", "VOID", json!({"TICKET": "B", "LINE": "2"}))
        .await
        .unwrap());
    let mut back = Client::plain(engine.addr()).await.unwrap();
    let r = back
        .call("ORDER_KITCHEN", "SUBSCRIBE", json!({"LAST_SEQ": seen}))
        .await
        .unwrap();
    let missed: Vec<(u64, String)> = ok(&r)["EVENTS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["SEQ"].as_u64().unwrap(),
                e["ACTION"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        missed,
        vec![
            (seen + 1, "SENT".into()),
            (seen + 2, "BUMPED".into()),
            (seen + 3, "VOIDED".into())
        ]
    );
    // A sequence this database never had (the till was reinstalled): a snapshot, not a gap.
    let r = back
        .call("ORDER_KITCHEN", "SUBSCRIBE", json!({"LAST_SEQ": 999}))
        .await
        .unwrap();
    assert_eq!(ok(&r)["SNAPSHOT"].as_array().unwrap().len(), 2);
    assert!(ok(&r).get("EVENTS").is_none());
}

#[tokio::test]
async fn updates_and_voids_show_on_the_card_and_lines_are_routed_to_stations() {
    let engine = kitchen(&[
        ("KITCHEN_STATIONS", "GRILL,BAR"),
        ("KITCHEN_ROUTE_DRINKS", "BAR"),
    ])
    .await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    ok(&pos
        .call("ORDER_KITCHEN", "SEND", burger("R"))
        .await
        .unwrap());
    let bar = pos
        .call("ORDER_KITCHEN", "LIST", json!({"STATION": "BAR"}))
        .await
        .unwrap();
    let lines = ok(&bar)["TICKETS"][0]["LINES"].as_array().unwrap().clone();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["NAME"], "Cola");
    let r = pos
        .call(
            "ORDER_KITCHEN",
            "UPDATE",
            json!({"TICKET": "R", "LINES": [
                {"LINE": "1", "CANCEL_QTY": 1},
                {"LINE": "3", "QTY": 1, "NAME": "Fries", "STATION": "GRILL"}
            ]}),
        )
        .await
        .unwrap();
    assert_eq!(ok(&r)["VERSION"], 2);
    ok(&pos
        .call("ORDER_KITCHEN", "VOID", json!({"TICKET": "R", "LINE": "2"}))
        .await
        .unwrap());
    let card = pos
        .call("ORDER_KITCHEN", "GET", json!({"TICKET": "R"}))
        .await
        .unwrap();
    let lines = &ok(&card)["LINES"];
    assert_eq!(
        (lines[0]["QTY"].clone(), lines[0]["CANCELLED"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(lines[1]["VOIDED"], true);
    assert_eq!(lines[1]["ACKED"], false);
    assert_eq!(lines[2]["ADDED"], true);
    // A void of the whole ticket stays on the screens until a cook acknowledges it.
    ok(&pos
        .call("ORDER_KITCHEN", "VOID", json!({"TICKET": "R"}))
        .await
        .unwrap());
    let r = pos
        .call("ORDER_KITCHEN", "BUMP", json!({"TICKET": "R"}))
        .await
        .unwrap();
    assert_eq!(code(&r), "TICKET_CLOSED");
    let list = pos.call("ORDER_KITCHEN", "LIST", json!({})).await.unwrap();
    assert_eq!(ok(&list)["TICKETS"][0]["VOIDED"], true);
    ok(&pos
        .call("ORDER_KITCHEN", "ACK", json!({"TICKET": "R"}))
        .await
        .unwrap());
    let list = pos.call("ORDER_KITCHEN", "LIST", json!({})).await.unwrap();
    assert_eq!(ok(&list)["TICKETS"], json!([]));
}

#[tokio::test]
async fn bad_tickets_get_a_clear_failure() {
    let engine = kitchen(&[]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let line = json!({"LINE": "1", "QTY": 1, "NAME": "x"});
    let many: Vec<Value> = (0..10_000)
        .map(|i| json!({"LINE": i, "QTY": 1, "NAME": "x"}))
        .collect();
    let cases = [
        (json!({"TICKET": "1", "LINES": []}), "BAD_PARAMS", "LINES"),
        (
            json!({"TICKET": "1", "LINES": [{"LINE": "1", "QTY": -2, "NAME": "x"}]}),
            "BAD_PARAMS",
            "LINES[0].QTY",
        ),
        (json!({"TICKET": "1", "LINES": many}), "BAD_PARAMS", "LINES"),
        (
            json!({"TICKET": "1", "NOTE": "n".repeat(1 << 20), "LINES": [line.clone()]}),
            "BAD_PARAMS",
            "NOTE",
        ),
        (
            json!({"TICKET": "1", "LINES": [{"LINE": "1", "QTY": 1, "NAME": "x", "STATION": "PASTRY"}]}),
            "BAD_PARAMS",
            "STATION",
        ),
    ];
    for (params, want, field) in cases {
        let r = pos.call("ORDER_KITCHEN", "SEND", params).await.unwrap();
        assert_eq!(code(&r), want);
        let msg = r["MESSAGE_DATA"]["MESSAGE"].as_str().unwrap();
        assert!(msg.contains(field), "{msg}");
    }
    let r = pos
        .call("ORDER_KITCHEN", "BUMP", json!({"TICKET": "nope"}))
        .await
        .unwrap();
    assert_eq!(code(&r), "TICKET_NOT_FOUND");
    let list = pos.call("ORDER_KITCHEN", "LIST", json!({})).await.unwrap();
    assert_eq!(
        ok(&list)["TICKETS"],
        json!([]),
        "nothing of a bad ticket was kept"
    );
}

#[cfg(unix)]
mod crash {
    use super::*;
    use std::net::SocketAddr;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    struct Engine(Option<Child>);

    impl Drop for Engine {
        fn drop(&mut self) {
            if let Some(mut c) = self.0.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    fn start(dir: &Path, run: u32) -> (Engine, SocketAddr) {
        let port = pispas_testkit::free_port();
        let stderr = std::fs::File::create(dir.join(format!("stderr-{run}.txt"))).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pispas-modules"))
            .arg("--config")
            .arg(dir.join(".env"))
            .arg("--data-dir")
            .arg(dir)
            .env("LOCAL_PORT", port.to_string())
            .env("MODULES", "base,order_kitchen")
            .env("VIEWER_PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("binary");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let t = Instant::now();
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(child.try_wait().unwrap().is_none(), "the engine exited");
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "the engine did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        (Engine(Some(child)), addr)
    }

    #[tokio::test]
    async fn acknowledged_sends_survive_sigkill_and_a_retry_after_restart_cooks_nothing_twice() {
        let dir = pispas_testkit::test_dir("kitchen-crash");
        let (mut engine, addr) = start(&dir, 1);
        let mut pos = Client::plain(addr).await.unwrap();
        let mut uuids = Vec::new();
        for i in 0..20 {
            let uuid = next_uuid();
            // Pipelined: the replies arrive once each row is committed.
            pos.send_text(pispas_testkit::client::request_text(
                &uuid,
                "ORDER_KITCHEN",
                "SEND",
                burger(&format!("K{i}")),
            ))
            .await
            .unwrap();
            uuids.push(uuid);
        }
        for u in &uuids {
            ok(&pos.reply_to(u).await.unwrap());
        }
        ok(&pos
            .call(
                "ORDER_KITCHEN",
                "BUMP",
                json!({"TICKET": "K3", "BY": "GRILL"}),
            )
            .await
            .unwrap());
        let mut child = engine.0.take().unwrap();
        child.kill().unwrap(); // SIGKILL: no shutdown, no flush
        child.wait().unwrap();

        let (_engine, addr) = start(&dir, 2);
        let mut pos = Client::plain(addr).await.unwrap();
        let list = pos.call("ORDER_KITCHEN", "LIST", json!({})).await.unwrap();
        let tickets = ok(&list)["TICKETS"].as_array().unwrap().clone();
        assert_eq!(tickets.len(), 20);
        let order: Vec<&str> = tickets
            .iter()
            .map(|t| t["TICKET"].as_str().unwrap())
            .collect();
        let want: Vec<String> = (0..20).map(|i| format!("K{i}")).collect();
        assert_eq!(
            order,
            want.iter().map(String::as_str).collect::<Vec<_>>(),
            "arrival order kept"
        );
        assert_eq!(tickets[3]["STAGE"], "PREPARING");
        // The POS never saw a reply it was waiting for and retries with the same UUIDV4.
        let r = pos
            .call_with_uuid(&uuids[5], "ORDER_KITCHEN", "SEND", burger("K5"))
            .await
            .unwrap();
        assert_eq!(ok(&r)["REPLAYED"], true);
        // A display that saw everything before the crash misses nothing after it.
        let r = pos
            .call("ORDER_KITCHEN", "SUBSCRIBE", json!({"LAST_SEQ": 20}))
            .await
            .unwrap();
        let events = ok(&r)["EVENTS"].as_array().unwrap().clone();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["ACTION"], "BUMPED");
        assert_eq!(events[0]["SEQ"], 21);
        let list = pos.call("ORDER_KITCHEN", "LIST", json!({})).await.unwrap();
        assert_eq!(
            ok(&list)["TICKETS"].as_array().unwrap().len(),
            20,
            "no second card"
        );
    }
}

/// KITCHEN_RETENTION is held while the service runs, not only at its next start: a till runs
/// for weeks, and served tickets kept in memory grew the service without end (the soak's RSS).
#[tokio::test]
async fn served_tickets_past_retention_are_forgotten_while_running_and_open_ones_stay() {
    let engine = kitchen(&[("KITCHEN_RETENTION", "0")]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    for t in ["T1", "T2"] {
        let r = pos.call("ORDER_KITCHEN", "SEND", burger(t)).await.unwrap();
        ok(&r);
    }
    let r = pos
        .call("ORDER_KITCHEN", "SERVE", json!({"TICKET": "T1"}))
        .await
        .unwrap();
    ok(&r);
    // Retention 0: swept within about a second. Bounded so a sweep that never comes fails.
    let mut gone = false;
    for _ in 0..300 {
        let r = pos
            .call("ORDER_KITCHEN", "GET", json!({"TICKET": "T1"}))
            .await
            .unwrap();
        if r["MESSAGE_EXEC"] == "FAILURE" {
            assert_eq!(code(&r), "TICKET_NOT_FOUND");
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the served ticket is still kept after 30 s");
    let r = pos
        .call("ORDER_KITCHEN", "GET", json!({"TICKET": "T2"}))
        .await
        .unwrap();
    assert_eq!(ok(&r)["TICKET"], "T2", "{r:#}");
}

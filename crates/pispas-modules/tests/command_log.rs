//! The command log over real sockets: another client's request is recorded with its reply, the
//! log survives an engine restart, secrets and card numbers are redacted, and reading it needs the
//! admin token. Also the in-process restart after CONFIG_SAVE, through the same Host the binaries
//! use.

use pispas_modules::{ConfigEnv, Host, HostOptions, HostState, LoadOptions};
use pispas_testkit::client::{Client, Connect};
use pispas_testkit::{start_engine, test_dir};
use serde_json::{json, Value};
use std::time::Duration;

async fn admin(addr: std::net::SocketAddr, token: &str) -> Client {
    Client::connect(
        addr,
        Connect {
            token: Some(token),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// Polls LOG_QUERY until an entry matching `pred` is there (the writer is asynchronous).
async fn find(client: &mut Client, filter: Value, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let r = client
            .call("BASE", "LOG_QUERY", filter.clone())
            .await
            .unwrap();
        assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r}");
        if let Some(e) = r["MESSAGE_DATA"]["ENTRIES"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| pred(e))
        {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no matching entry in the command log");
}

#[tokio::test]
async fn a_request_and_its_reply_are_recorded_redacted_and_survive_a_restart() {
    let first = start_engine("cmdlog-restart", &[]).await;
    let token = first.engine.admin_token().to_string();
    let mut pos = Client::plain(first.addr()).await.unwrap();
    let echo = pos
        .call(
            "BASE",
            "ECHO",
            json!({ "DATA": { "TEXT": "paid with 4111 1111 1111 1111", "PIN": "1234" }, "API_TOKEN": "abcdefabcdefabcdef" }),
        )
        .await
        .unwrap();
    assert_eq!(echo["MESSAGE_EXEC"], "SUCCESS");
    let uuid = echo["MESSAGE_UUID"].as_str().unwrap().to_string();
    let mut support = admin(first.addr(), &token).await;
    let entry = find(&mut support, json!({ "TEXT": uuid }), |e| {
        e["UUID"] == uuid.as_str() && e["RESULT"] == "SUCCESS"
    })
    .await;
    assert_eq!(entry["TARGET"], "BASE");
    assert_eq!(entry["ACTION"], "ECHO");
    assert!(entry["CLIENT"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(entry["DURATION_US"].as_i64().is_some());
    let id = entry["ID"].clone();
    drop((pos, support));
    let dir = first.dir.clone();
    first.engine.shutdown().await;

    // Same data folder, new engine.
    let mut values = std::collections::BTreeMap::new();
    values.insert("LOCAL_PORT".to_string(), "0".to_string());
    values.insert("VIEWER_PORT".to_string(), "off".to_string());
    values.insert("DATA_DIR".to_string(), dir.display().to_string());
    let config = ConfigEnv::from_values(values, &dir.join(".env")).unwrap();
    let second = pispas_modules::Engine::start(config).await.unwrap();
    let mut support = admin(second.local_addr(), second.admin_token()).await;
    let full = support
        .call("BASE", "LOG_GET", json!({ "ID": id }))
        .await
        .unwrap();
    assert_eq!(full["MESSAGE_EXEC"], "SUCCESS", "{full}");
    let text = full["MESSAGE_DATA"].to_string();
    assert!(!text.contains("4111 1111 1111 1111"), "{text}");
    assert!(text.contains("**** **** **** 1111"), "{text}");
    assert!(!text.contains("abcdefabcdefabcdef"), "{text}");
    assert!(!text.contains("1234\""), "{text}");
    assert_eq!(full["MESSAGE_DATA"]["REQUEST"]["DATA"]["PIN"], "***");
    assert_eq!(full["MESSAGE_DATA"]["REPLY"]["MESSAGE_EXEC"], "SUCCESS");
    second.shutdown().await;
}

#[tokio::test]
async fn reading_the_log_needs_the_admin_token() {
    let engine = start_engine("cmdlog-auth", &[]).await;
    let mut anon = Client::plain(engine.addr()).await.unwrap();
    for action in [
        "LOG_QUERY",
        "LOG_GET",
        "LOG_EXPORT",
        "LOG_SUBSCRIBE",
        "CONFIG_SCHEMA",
        "CONFIG_SAVE",
    ] {
        let r = anon
            .call("BASE", action, json!({ "ID": 1, "VALUES": {} }))
            .await
            .unwrap();
        assert_eq!(r["MESSAGE_DATA"]["CODE"], "UNAUTHORIZED", "{action}: {r}");
    }
}

#[tokio::test]
async fn a_live_watcher_gets_entries_as_they_happen_and_bad_frames_are_recorded() {
    let engine = start_engine("cmdlog-live", &[]).await;
    let mut support = admin(engine.addr(), engine.engine.admin_token()).await;
    let sub = support
        .call("BASE", "LOG_SUBSCRIBE", json!({}))
        .await
        .unwrap();
    assert_eq!(sub["MESSAGE_EXEC"], "SUCCESS");
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    pos.send_text("{this is not json").await.unwrap();
    let _ = pos.next().await.unwrap();
    let live = support
        .wait_for(|v| {
            v["MESSAGE_TYPE"] == "EVENT" && v["MESSAGE_DATA"]["ENTRY"]["CODE"] == "BAD_JSON"
        })
        .await
        .unwrap();
    assert_eq!(live["MESSAGE_DATA"]["EVENT"], "LOG_ENTRY");
    assert_eq!(live["MESSAGE_DATA"]["ENTRY"]["RESULT"], "FAILURE");
}

#[tokio::test]
async fn the_log_is_trimmed_by_size() {
    let engine = start_engine("cmdlog-trim", &[("COMMAND_LOG_MAX_MB", "1")]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let big = "x".repeat(8000);
    for _ in 0..200 {
        pos.call("BASE", "ECHO", json!({ "DATA": big }))
            .await
            .unwrap();
    }
    let store = engine.engine.command_log().store().unwrap().clone();
    // Trimming runs at start and every few minutes; run it the way a restart would.
    engine.engine.shutdown().await;
    let mut values = std::collections::BTreeMap::new();
    values.insert("LOCAL_PORT".to_string(), "0".to_string());
    values.insert("VIEWER_PORT".to_string(), "off".to_string());
    values.insert("COMMAND_LOG_MAX_MB".to_string(), "1".to_string());
    values.insert("DATA_DIR".to_string(), engine.dir.display().to_string());
    let config = ConfigEnv::from_values(values, &engine.dir.join(".env")).unwrap();
    let again = pispas_modules::Engine::start(config).await.unwrap();
    let bytes: i64 = store
        .call(|c| {
            c.query_row("SELECT COALESCE(SUM(bytes),0) FROM command_log", [], |r| {
                r.get(0)
            })
        })
        .await
        .unwrap();
    assert!(bytes <= 1024 * 1024, "{bytes} bytes kept");
    assert!(bytes > 0);
    again.shutdown().await;
}

#[tokio::test]
async fn config_save_restarts_the_engine_in_place_on_the_new_port() {
    let dir = test_dir("host-restart");
    let env = dir.join(".env");
    std::fs::write(
        &env,
        format!(
            "LOCAL_PORT={}\nVIEWER_PORT=off\nMODULES=base\nHEARTBEAT_SECS=0\n",
            pispas_testkit::free_port()
        ),
    )
    .unwrap();
    let host = Host::new(
        LoadOptions {
            config_path: Some(env.clone()),
            data_dir: Some(dir.join("data")),
            use_process_env: false,
        },
        HostOptions::default(),
    );
    let mut state = host.subscribe();
    let control = host.control();
    let running = tokio::spawn(host.run());
    let first = loop {
        if let HostState::Running(h) = &*state.borrow_and_update() {
            break h.clone();
        }
        state.changed().await.unwrap();
    };
    let mut support = admin(first.local_addr(), &first.admin_token).await;
    let refused = support
        .call(
            "BASE",
            "CONFIG_SAVE",
            json!({ "VALUES": { "LOCAL_PORT": "99999" } }),
        )
        .await
        .unwrap();
    assert_eq!(refused["MESSAGE_DATA"]["CODE"], "INVALID_CONFIG");
    assert_eq!(refused["MESSAGE_DATA"]["DETAILS"]["KEY"], "LOCAL_PORT");
    let new_port = pispas_testkit::free_port();
    let saved = support
        .call(
            "BASE",
            "CONFIG_SAVE",
            json!({ "VALUES": { "LOCAL_PORT": new_port.to_string(), "VIEWER_PORT": "off", "MODULES": "base", "HEARTBEAT_SECS": "0" } }),
        )
        .await
        .unwrap();
    assert_eq!(saved["MESSAGE_DATA"]["RESTARTING"], true, "{saved}");
    let second = loop {
        state.changed().await.unwrap();
        if let HostState::Running(h) = &*state.borrow_and_update() {
            break h.clone();
        }
    };
    assert_eq!(second.local_addr().port(), new_port);
    assert_eq!(second.generation, first.generation + 1);
    let mut c = Client::plain(second.local_addr()).await.unwrap();
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
    assert!(dir.join(".env.bak").exists());
    control.stop();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_device_state_event_shows_in_status_and_in_the_log() {
    use pispas_modules::events::{Audience, Event};
    let engine = start_engine("device-state", &[]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    engine.engine.events().publish(Event {
        service: "PRINT".into(),
        uuid: Value::Null,
        audience: Audience::All,
        data: json!({ "EVENT": "DEVICE_STATE", "DEVICE": "KITCHEN", "STATE": "PAPER_OUT", "DETAIL": "Kitchen printer: out of paper" }),
    });
    let ev = pos
        .wait_for(|v| v["MESSAGE_DATA"]["EVENT"] == "DEVICE_STATE")
        .await
        .unwrap();
    assert_eq!(ev["SERVICE_NAME"], "PRINT");
    let mut status = Value::Null;
    for _ in 0..50 {
        status = pos.call("BASE", "STATUS", json!({})).await.unwrap()["MESSAGE_DATA"].clone();
        if status["DEVICES"].as_array().is_some_and(|d| !d.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status["DEVICES"][0]["DEVICE"], "KITCHEN");
    assert_eq!(status["DEVICES"][0]["STATE"], "PAPER_OUT");
    assert_eq!(status["DEVICES"][0]["SERVICE"], "PRINT");
    let mut support = admin(engine.addr(), engine.engine.admin_token()).await;
    let entry = find(&mut support, json!({ "KIND": "EVENT" }), |e| {
        e["ACTION"] == "DEVICE_STATE"
    })
    .await;
    assert_eq!(entry["TARGET"], "PRINT");
    assert_eq!(entry["CLIENT"], "all clients");
}

#[tokio::test]
async fn a_30_mib_frame_of_semicolons_does_not_hold_up_printing() {
    // Before: the writer redacted this frame quadratically while holding the database the print
    // queue commits to, so the PRINT below waited for many minutes.
    let sim = pispas_sim::printer::VirtualPrinter::start_tcp("127.0.0.1:0")
        .await
        .unwrap();
    let engine = start_engine(
        "cmdlog-hostile",
        &[("PRINTER_RECEIPT", &format!("tcp://{}", sim.addr()))],
    )
    .await;
    let mut hostile = Client::plain(engine.addr()).await.unwrap();
    hostile
        .send_text(";".repeat(30 * 1024 * 1024))
        .await
        .unwrap();
    let bad = hostile.next().await.unwrap();
    assert_eq!(bad["MESSAGE_DATA"]["CODE"], "BAD_JSON");
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let r = pos
        .call(
            "PRINT",
            "PRINT",
            json!({ "PRINTER": "RECEIPT", "FORMAT": "TEXT", "DATA": "after the flood" }),
        )
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_DATA"]["STATE"], "DELIVERED", "{r}");
    // The frame is in the log as a summary of its size, not as 30 MiB.
    let mut admin = admin(engine.addr(), engine.engine.admin_token()).await;
    let entry = find(&mut admin, json!({ "RESULT": "FAILURE" }), |e| {
        e["CODE"] == "BAD_JSON"
    })
    .await;
    let full = admin
        .call("BASE", "LOG_GET", json!({ "ID": entry["ID"] }))
        .await
        .unwrap();
    let request = full["MESSAGE_DATA"]["REQUEST"].to_string();
    assert!(request.len() < 4096, "{} bytes kept", request.len());
    assert!(request.contains("TRUNCATED"), "{request}");
}

#[tokio::test]
async fn the_size_limit_holds_while_the_log_writes() {
    let engine = start_engine("cmdlog-live-trim", &[("COMMAND_LOG_MAX_MB", "1")]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let big = "x".repeat(8000);
    for _ in 0..400 {
        pos.call("BASE", "ECHO", json!({ "DATA": big }))
            .await
            .unwrap();
    }
    let store = engine.engine.command_log().store().unwrap().clone();
    let sum = || async {
        store
            .call(|c| {
                c.query_row(
                    "SELECT COALESCE(SUM(bytes),0), COUNT(*) FROM command_log",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )
            })
            .await
            .unwrap()
    };
    // 400 entries of ~16 KB (request and reply) is ~6 MB: the writer trims after each batch,
    // not only at the next restart. Wait until every entry has been written.
    let mut last = (0, 0);
    for _ in 0..200 {
        last = sum().await;
        let ids: i64 = store
            .call(|c| {
                c.query_row("SELECT COALESCE(MAX(id),0) FROM command_log", [], |r| {
                    r.get(0)
                })
            })
            .await
            .unwrap();
        if ids >= 400 && last.0 <= 1024 * 1024 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        last.0 <= 1024 * 1024,
        "{} bytes in {} entries",
        last.0,
        last.1
    );
    assert!(last.1 > 0);
}

/// Found by the kill campaign ("UNIQUE constraint failed: command_log.id" after a restart):
/// an event row took the id the next request already held, and that request's whole batch
/// was lost.
#[tokio::test]
async fn requests_after_a_logged_event_are_all_recorded() {
    use pispas_modules::events::{Audience, Event};
    let engine = start_engine("event-then-requests", &[]).await;
    let mut pos = Client::plain(engine.addr()).await.unwrap();
    let mut support = admin(engine.addr(), engine.engine.admin_token()).await;
    let first = pos.call("BASE", "PING", json!({})).await.unwrap();
    let first = first["MESSAGE_UUID"].as_str().unwrap().to_string();
    find(&mut support, json!({ "TEXT": first }), |e| {
        e["UUID"] == first.as_str()
    })
    .await;
    engine.engine.events().publish(Event {
        service: "PRINT".into(),
        uuid: Value::Null,
        audience: Audience::All,
        data: json!({ "EVENT": "DEVICE_STATE", "DEVICE": "BAR", "STATE": "OFFLINE" }),
    });
    find(&mut support, json!({ "KIND": "EVENT" }), |e| {
        e["ACTION"] == "DEVICE_STATE"
    })
    .await;
    for _ in 0..3 {
        let r = pos.call("BASE", "PING", json!({})).await.unwrap();
        let uuid = r["MESSAGE_UUID"].as_str().unwrap().to_string();
        find(&mut support, json!({ "TEXT": uuid }), |e| {
            e["UUID"] == uuid.as_str() && e["RESULT"] == "SUCCESS"
        })
        .await;
    }
}

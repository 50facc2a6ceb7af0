//! CACHE over the wire: every action, compare-and-set, TTL expiry, origin namespaces, limits,
//! SUBSCRIBE events, LIST paging, concurrent writers, and acknowledged SETs surviving SIGKILL of
//! the real binary.

use futures_util::future::join_all;
use pispas_testkit::client::{Client, Connect};
use pispas_testkit::{start_engine, TestEngine};
use serde_json::{json, Value};
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::Path;
use std::time::{Duration, Instant};

const A: &str = "https://a.example";
const B: &str = "https://b.example";

async fn engine(name: &str, extra: &[(&str, &str)]) -> TestEngine {
    let origins = format!("{A},{B}");
    let mut o = vec![
        ("MODULES", "base,cache"),
        ("ALLOWED_ORIGINS", origins.as_str()),
    ];
    o.extend_from_slice(extra);
    start_engine(name, &o).await
}

async fn client(addr: SocketAddr, origin: Option<&str>) -> Client {
    Client::connect(
        addr,
        Connect {
            origin,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn ok(reply: &Value) -> &Value {
    assert_eq!(reply["MESSAGE_EXEC"], "SUCCESS", "{reply:#}");
    &reply["MESSAGE_DATA"]
}

fn code(reply: &Value) -> &str {
    assert_eq!(reply["MESSAGE_EXEC"], "FAILURE", "{reply:#}");
    reply["MESSAGE_DATA"]["CODE"].as_str().unwrap()
}

#[tokio::test]
async fn set_get_delete_list_clear_and_stats_do_what_they_say() {
    let e = engine("cache-actions", &[]).await;
    let mut c = client(e.addr(), None).await;
    let set = c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "cart/1", "VALUE": {"items": [1, 2]}}),
        )
        .await
        .unwrap();
    let v1 = ok(&set)["VERSION"].as_u64().unwrap();
    let got = c
        .call("CACHE", "GET", json!({"KEY": "cart/1"}))
        .await
        .unwrap();
    let got = ok(&got);
    assert_eq!(got["FOUND"], true);
    assert_eq!(got["VALUE"], json!({"items": [1, 2]}));
    assert_eq!(got["VERSION"], v1);
    assert!(got["UPDATED_AT"].as_i64().unwrap() > 0);
    assert_eq!(got["EXPIRES_AT"], Value::Null);

    let missing = c
        .call("CACHE", "GET", json!({"KEY": "nope"}))
        .await
        .unwrap();
    assert_eq!(ok(&missing)["FOUND"], false, "a missing key is a SUCCESS");

    c.call("CACHE", "SET", json!({"KEY": "cart/2", "VALUE": "two"}))
        .await
        .unwrap();
    c.call("CACHE", "SET", json!({"KEY": "note", "VALUE": null}))
        .await
        .unwrap();
    let stats = c.call("CACHE", "STATS", json!({})).await.unwrap();
    assert_eq!(ok(&stats)["KEYS"], 3);
    assert_eq!(ok(&stats)["MAX_VALUE_BYTES"], 1_048_576);

    let del = c
        .call("CACHE", "DELETE", json!({"KEY": "note"}))
        .await
        .unwrap();
    assert_eq!(ok(&del)["DELETED"], true);
    let again = c
        .call("CACHE", "DELETE", json!({"KEY": "note"}))
        .await
        .unwrap();
    assert_eq!(ok(&again)["DELETED"], false);

    let list = c
        .call("CACHE", "LIST", json!({"PREFIX": "cart/", "VALUES": true}))
        .await
        .unwrap();
    let items = ok(&list)["ITEMS"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["VALUE"], "two");
    assert_eq!(ok(&list)["NEXT"], Value::Null);

    let clear = c
        .call("CACHE", "CLEAR", json!({"PREFIX": "cart/"}))
        .await
        .unwrap();
    assert_eq!(ok(&clear)["DELETED"], 2);
    let stats = c.call("CACHE", "STATS", json!({})).await.unwrap();
    assert_eq!(ok(&stats)["KEYS"], 0);
    assert_eq!(ok(&stats)["BYTES"], 0);
    e.engine.shutdown().await;
}

#[tokio::test]
async fn if_version_refuses_a_stale_write_and_names_the_current_version() {
    let e = engine("cache-cas", &[]).await;
    let mut tab1 = client(e.addr(), Some(A)).await;
    let mut tab2 = client(e.addr(), Some(A)).await;
    let created = tab1
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "order", "VALUE": 1, "IF_VERSION": 0}),
        )
        .await
        .unwrap();
    let v1 = ok(&created)["VERSION"].as_u64().unwrap();
    let create_again = tab2
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "order", "VALUE": 9, "IF_VERSION": 0}),
        )
        .await
        .unwrap();
    assert_eq!(code(&create_again), "VERSION_CONFLICT");
    let won = tab2
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "order", "VALUE": 2, "IF_VERSION": v1}),
        )
        .await
        .unwrap();
    let v2 = ok(&won)["VERSION"].as_u64().unwrap();
    assert!(v2 > v1);
    let lost = tab1
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "order", "VALUE": 3, "IF_VERSION": v1}),
        )
        .await
        .unwrap();
    assert_eq!(code(&lost), "VERSION_CONFLICT");
    assert_eq!(lost["MESSAGE_DATA"]["DETAILS"]["VERSION"], v2);
    let stale_delete = tab1
        .call("CACHE", "DELETE", json!({"KEY": "order", "IF_VERSION": v1}))
        .await
        .unwrap();
    assert_eq!(code(&stale_delete), "VERSION_CONFLICT");
    let got = tab1
        .call("CACHE", "GET", json!({"KEY": "order"}))
        .await
        .unwrap();
    assert_eq!(ok(&got)["VALUE"], 2, "neither refused write was stored");
    e.engine.shutdown().await;
}

#[tokio::test]
async fn an_expired_key_is_gone_for_readers_and_then_from_the_disk() {
    let e = engine("cache-ttl", &[("CACHE_SWEEP_SECS", "1")]).await;
    let mut c = client(e.addr(), None).await;
    let set = c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "session", "VALUE": "x", "TTL_S": 1}),
        )
        .await
        .unwrap();
    let expires = ok(&set)["EXPIRES_AT"].as_i64().unwrap();
    assert!(expires > ok(&set)["UPDATED_AT"].as_i64().unwrap());
    c.call("CACHE", "SET", json!({"KEY": "keep", "VALUE": "y"}))
        .await
        .unwrap();
    // Poll until the key is gone for readers (it must go: TTL 1 s).
    let started = Instant::now();
    loop {
        let got = c
            .call("CACHE", "GET", json!({"KEY": "session"}))
            .await
            .unwrap();
        if ok(&got)["FOUND"] == false {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list = c.call("CACHE", "LIST", json!({})).await.unwrap();
    assert_eq!(ok(&list)["ITEMS"].as_array().unwrap().len(), 1);
    // The sweep removes the row itself: the store's total drops to the one live key.
    let keep_bytes = ("keep".len() + "\"y\"".len()) as u64;
    let started = Instant::now();
    loop {
        let stats = e.engine.directory().modules();
        let cache = stats.iter().find(|m| m.target == "CACHE").unwrap();
        let rows: i64 = e
            .engine
            .store()
            .call(|c| c.query_row("SELECT COUNT(*) FROM cache_entries", [], |r| r.get(0)))
            .await
            .unwrap();
        if rows == 1 {
            assert!(
                cache.health.detail.contains("0.0 of"),
                "{}",
                cache.health.detail
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never swept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stats = c.call("CACHE", "STATS", json!({})).await.unwrap();
    assert_eq!(ok(&stats)["TOTAL_BYTES"], keep_bytes);
    e.engine.shutdown().await;
}

#[tokio::test]
async fn one_origin_cannot_read_another_origins_keys_but_shared_keys_are_shared() {
    let e = engine("cache-origins", &[]).await;
    let mut a = client(e.addr(), Some(A)).await;
    let mut b = client(e.addr(), Some(B)).await;
    let mut native = client(e.addr(), None).await;
    ok(&a
        .call("CACHE", "SET", json!({"KEY": "k", "VALUE": "from a"}))
        .await
        .unwrap());
    for (who, c) in [("b", &mut b), ("native", &mut native)] {
        let got = c.call("CACHE", "GET", json!({"KEY": "k"})).await.unwrap();
        assert_eq!(ok(&got)["FOUND"], false, "{who} must not see a's key");
        let list = c.call("CACHE", "LIST", json!({})).await.unwrap();
        assert_eq!(ok(&list)["ITEMS"], json!([]), "{who} lists nothing of a's");
        let clear = c.call("CACHE", "CLEAR", json!({})).await.unwrap();
        assert_eq!(ok(&clear)["DELETED"], 0, "{who} clears nothing of a's");
    }
    ok(&b
        .call("CACHE", "SET", json!({"KEY": "k", "VALUE": "from b"}))
        .await
        .unwrap());
    let mine = a.call("CACHE", "GET", json!({"KEY": "k"})).await.unwrap();
    assert_eq!(
        ok(&mine)["VALUE"],
        "from a",
        "same key, separate namespaces"
    );

    ok(&a
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "till", "VALUE": 7, "SHARED": true}),
        )
        .await
        .unwrap());
    for c in [&mut b, &mut native] {
        let got = c
            .call("CACHE", "GET", json!({"KEY": "till", "SHARED": true}))
            .await
            .unwrap();
        assert_eq!(ok(&got)["VALUE"], 7);
        let own = c
            .call("CACHE", "GET", json!({"KEY": "till"}))
            .await
            .unwrap();
        assert_eq!(
            ok(&own)["FOUND"],
            false,
            "shared keys are not in the own namespace"
        );
    }
    e.engine.shutdown().await;
}

#[tokio::test]
async fn keys_values_and_the_total_over_their_limits_are_refused_and_nothing_is_written() {
    let e = engine(
        "cache-limits",
        &[
            ("CACHE_MAX_VALUE_BYTES", "1000"),
            ("CACHE_MAX_BYTES", "2048"),
        ],
    )
    .await;
    let mut c = client(e.addr(), None).await;
    let long_key = c
        .call("CACHE", "SET", json!({"KEY": "k".repeat(257), "VALUE": 1}))
        .await
        .unwrap();
    assert_eq!(code(&long_key), "BAD_PARAMS");
    assert!(long_key["MESSAGE_DATA"]["MESSAGE"]
        .as_str()
        .unwrap()
        .starts_with("KEY"));
    let big = c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "big", "VALUE": "x".repeat(1000)}),
        )
        .await
        .unwrap();
    assert_eq!(code(&big), "VALUE_TOO_LARGE");
    ok(&c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "a", "VALUE": "x".repeat(900)}),
        )
        .await
        .unwrap());
    ok(&c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "b", "VALUE": "x".repeat(900)}),
        )
        .await
        .unwrap());
    let full = c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "c", "VALUE": "x".repeat(900)}),
        )
        .await
        .unwrap();
    assert_eq!(code(&full), "CACHE_FULL");
    let stats = c.call("CACHE", "STATS", json!({})).await.unwrap();
    assert_eq!(
        ok(&stats)["KEYS"],
        2,
        "nothing of the refused writes was stored"
    );
    for k in ["big", "c"] {
        let got = c.call("CACHE", "GET", json!({"KEY": k})).await.unwrap();
        assert_eq!(ok(&got)["FOUND"], false);
    }
    // Deleting makes room again.
    ok(&c
        .call("CACHE", "DELETE", json!({"KEY": "a"}))
        .await
        .unwrap());
    ok(&c
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "c", "VALUE": "x".repeat(900)}),
        )
        .await
        .unwrap());
    e.engine.shutdown().await;
}

#[tokio::test]
async fn subscribers_hear_of_other_clients_changes_under_their_prefix_only() {
    let e = engine("cache-subscribe", &[]).await;
    let mut watcher = client(e.addr(), Some(A)).await;
    let mut writer = client(e.addr(), Some(A)).await;
    let mut stranger = client(e.addr(), Some(B)).await;
    let sub = watcher
        .call("CACHE", "SUBSCRIBE", json!({"PREFIX": "table/"}))
        .await
        .unwrap();
    let sub_uuid = sub["MESSAGE_UUID"].as_str().unwrap().to_string();
    ok(&sub);
    // The writer watches too: it must not hear its own changes.
    ok(&writer
        .call("CACHE", "SUBSCRIBE", json!({"PREFIX": "table/"}))
        .await
        .unwrap());
    ok(&stranger
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "table/1", "VALUE": "other origin"}),
        )
        .await
        .unwrap());
    ok(&writer
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "menu", "VALUE": "not watched"}),
        )
        .await
        .unwrap());
    ok(&writer
        .call(
            "CACHE",
            "SET",
            json!({"KEY": "table/1", "VALUE": {"seats": 4}}),
        )
        .await
        .unwrap());
    ok(&writer
        .call("CACHE", "DELETE", json!({"KEY": "table/1"}))
        .await
        .unwrap());
    let ev = watcher
        .wait_for(|v| v["MESSAGE_TYPE"] == "EVENT")
        .await
        .unwrap();
    assert_eq!(ev["SERVICE_NAME"], "CACHE");
    assert_eq!(ev["MESSAGE_UUID"], sub_uuid.as_str());
    assert_eq!(ev["MESSAGE_DATA"]["EVENT"], "CACHE");
    assert_eq!(ev["MESSAGE_DATA"]["CHANGE"], "SET");
    assert_eq!(ev["MESSAGE_DATA"]["KEY"], "table/1");
    assert_eq!(
        ev["MESSAGE_DATA"]["VALUE"],
        json!({"seats": 4}),
        "not the other origin's write"
    );
    let ev = watcher
        .wait_for(|v| v["MESSAGE_TYPE"] == "EVENT")
        .await
        .unwrap();
    assert_eq!(ev["MESSAGE_DATA"]["CHANGE"], "DELETE");
    // Events reach each connection in the order they were published: if the writer had heard
    // its own SET or DELETE, that would come before this later change by the watcher.
    ok(&watcher
        .call("CACHE", "SET", json!({"KEY": "table/marker", "VALUE": 0}))
        .await
        .unwrap());
    let first = writer
        .wait_for(|v| v["MESSAGE_TYPE"] == "EVENT")
        .await
        .unwrap();
    assert_eq!(
        first["MESSAGE_DATA"]["KEY"], "table/marker",
        "the writer heard its own change: {first:#}"
    );
    e.engine.shutdown().await;
}

#[tokio::test]
async fn list_pages_through_every_key_once_in_order() {
    let e = engine("cache-list", &[]).await;
    let mut c = client(e.addr(), None).await;
    let keys: Vec<String> = (0..25).map(|i| format!("item/{i:03}")).collect();
    for k in &keys {
        ok(&c
            .call("CACHE", "SET", json!({"KEY": k, "VALUE": k}))
            .await
            .unwrap());
    }
    ok(&c
        .call("CACHE", "SET", json!({"KEY": "other", "VALUE": 0}))
        .await
        .unwrap());
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = c
            .call(
                "CACHE",
                "LIST",
                json!({"PREFIX": "item/", "LIMIT": 10, "AFTER": after}),
            )
            .await
            .unwrap();
        let data = ok(&page).clone();
        let items = data["ITEMS"].as_array().unwrap();
        assert!(items.len() <= 10);
        seen.extend(items.iter().map(|i| i["KEY"].as_str().unwrap().to_string()));
        if data["NEXT"].is_null() {
            break;
        }
        after = data["NEXT"].clone();
    }
    assert_eq!(seen, keys);
    e.engine.shutdown().await;
}

#[tokio::test]
async fn a_thousand_concurrent_sets_on_one_key_end_with_one_value_and_consistent_versions() {
    let e = engine("cache-concurrent", &[]).await;
    let addr = e.addr();
    let writers = (0..10).map(|w| async move {
        let mut c = client(addr, None).await;
        let mut uuids = Vec::new();
        for i in 0..100 {
            let uuid = c
                .send(
                    "CACHE",
                    "SET",
                    json!({"KEY": "hot", "VALUE": format!("{w}-{i}")}),
                )
                .await
                .unwrap();
            uuids.push((uuid, format!("{w}-{i}")));
        }
        let mut acks = Vec::new();
        for (uuid, value) in uuids {
            let r = c.reply_to(&uuid).await.unwrap();
            acks.push((ok(&r)["VERSION"].as_u64().unwrap(), value));
        }
        acks
    });
    let mut acks: Vec<(u64, String)> = join_all(writers).await.into_iter().flatten().collect();
    assert_eq!(acks.len(), 1000);
    acks.sort();
    let mut versions: Vec<u64> = acks.iter().map(|a| a.0).collect();
    versions.dedup();
    assert_eq!(
        versions.len(),
        1000,
        "every acknowledged SET has its own version"
    );
    let mut c = client(addr, None).await;
    let got = c.call("CACHE", "GET", json!({"KEY": "hot"})).await.unwrap();
    let (last_version, last_value) = acks.last().unwrap();
    assert_eq!(
        ok(&got)["VERSION"],
        *last_version,
        "the key holds the newest version"
    );
    assert_eq!(
        ok(&got)["VALUE"],
        last_value.as_str(),
        "and that version's value"
    );
    let stats = c.call("CACHE", "STATS", json!({})).await.unwrap();
    assert_eq!(ok(&stats)["KEYS"], 1);
    e.engine.shutdown().await;
}

// SIGKILL needs Unix signals from the host (std's kill is SIGKILL there).
#[cfg(unix)]
mod crash {
    use super::*;
    use pispas_testkit::BinaryServer;

    fn start(data_dir: &Path) -> BinaryServer {
        BinaryServer::start_in(
            Path::new(env!("CARGO_BIN_EXE_pispas-modules")),
            data_dir,
            &[("MODULES", "base,cache")],
        )
        .expect("the engine binary starts")
    }

    #[tokio::test]
    async fn sets_acknowledged_before_sigkill_are_all_there_after_restart() {
        let dir = pispas_testkit::test_dir("cache-crash");
        let engine = start(&dir);
        let mut c = client(engine.addr, None).await;
        let mut uuids = Vec::new();
        for i in 0..300 {
            let uuid = c
                .send(
                    "CACHE",
                    "SET",
                    json!({"KEY": format!("k{i}"), "VALUE": {"n": i}}),
                )
                .await
                .unwrap();
            uuids.push((uuid, i));
        }
        let mut acked = Vec::new();
        for (uuid, i) in uuids {
            let r = c.reply_to(&uuid).await.unwrap();
            acked.push((i, ok(&r)["VERSION"].as_u64().unwrap()));
        }
        // Killed the moment the last acknowledgement arrived: no shutdown code runs.
        engine.kill().unwrap();
        let engine = start(&dir);
        let mut c = client(engine.addr, None).await;
        for (i, version) in acked {
            let got = c
                .call("CACHE", "GET", json!({"KEY": format!("k{i}")}))
                .await
                .unwrap();
            let got = ok(&got);
            assert_eq!(got["VALUE"], json!({"n": i}), "k{i} lost");
            assert_eq!(got["VERSION"], version);
        }
        // Versions keep growing after the restart.
        let next = c
            .call("CACHE", "SET", json!({"KEY": "after", "VALUE": 1}))
            .await
            .unwrap();
        assert!(ok(&next)["VERSION"].as_u64().unwrap() > 300);
    }
}

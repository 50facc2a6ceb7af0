//! The server end to end over real sockets: TLS and plain on one port, concurrency, ordering,
//! admission by Origin and token, events.

use pispas_testkit::client::{Client, Connect};
use pispas_testkit::{start_engine, TestEngine};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

#[tokio::test]
async fn plain_and_tls_clients_are_served_on_the_same_port() {
    let server = start_engine("same-port", &[]).await;
    let mut plain = Client::plain(server.addr()).await.unwrap();
    let mut tls = Client::tls(server.addr(), server.engine.cert_der())
        .await
        .unwrap();
    let p = plain.call("BASE", "CHECK", json!({})).await.unwrap();
    let t = tls.call("BASE", "CHECK", json!({})).await.unwrap();
    assert_eq!(p["MESSAGE_EXEC"], "SUCCESS");
    assert_eq!(p["MESSAGE_DATA"]["TLS"], false);
    assert_eq!(t["MESSAGE_DATA"]["TLS"], true);
    assert_eq!(t["MESSAGE_DATA"]["SERVICE"], "pispas-local-service");
    assert_eq!(t["SERVICE_NAME"], "BASE");
    assert_eq!(t["SERVICE_VERS"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn a_configured_wildcard_admits_subdomains_but_not_the_bare_domain() {
    let server = start_engine(
        "origin-wild",
        &[("ALLOWED_ORIGINS", "https://*.unpispas.es")],
    )
    .await;
    let try_origin = |o: &'static str| {
        let addr = server.addr();
        async move {
            Client::connect(
                addr,
                Connect {
                    origin: Some(o),
                    ..Default::default()
                },
            )
            .await
            .is_ok()
        }
    };
    assert!(try_origin("https://bar.unpispas.es").await);
    assert!(!try_origin("https://unpispas.es").await);
}

#[tokio::test]
async fn a_browser_opening_the_port_gets_the_landing_page_over_tls_and_plain() {
    let server = start_engine("landing", &[]).await;
    let over_tls = pispas_testkit::http_get(server.addr(), "/", Some(server.engine.cert_der()))
        .await
        .unwrap();
    assert!(over_tls.starts_with("HTTP/1.1 200"), "{over_tls}");
    assert!(
        over_tls.contains("The Pispas service is running"),
        "{over_tls}"
    );
    assert!(over_tls.contains(env!("CARGO_PKG_VERSION")));
    assert!(over_tls.contains("trusts the service's certificate"));
    let plain = pispas_testkit::http_get(server.addr(), "/", None)
        .await
        .unwrap();
    assert!(plain.starts_with("HTTP/1.1 200"), "{plain}");
    assert!(
        !plain.to_ascii_lowercase().contains("token"),
        "no admin data on it"
    );
    // The same port still takes WebSockets afterwards.
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_DATA"], "PONG");
}

#[tokio::test]
async fn ping_answers_pong_and_action_case_and_underscores_do_not_matter() {
    let server = start_engine("ping", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    for action in ["PING", "ping", "Pi_Ng"] {
        let r = c.call("base", action, json!({})).await.unwrap();
        assert_eq!(r["MESSAGE_DATA"], "PONG", "{action}");
    }
}

#[tokio::test]
async fn check_lists_the_enabled_modules_and_unbuilt_ones_say_they_are_unavailable() {
    let server = start_engine("modules", &[("MODULES", "base,print,scale,rfid")]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c.call("BASE", "CHECK", json!({})).await.unwrap();
    let targets: Vec<&str> = r["MESSAGE_DATA"]["MODULES"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["TARGET"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["BASE", "PRINT", "RFID", "SCALE"]);
    let r = c.call("CACHE", "GET", json!({})).await.unwrap();
    assert_eq!(
        r["MESSAGE_DATA"]["CODE"], "UNKNOWN_TARGET",
        "cache is not enabled"
    );
}

#[tokio::test]
async fn a_hundred_clients_with_a_hundred_requests_each_get_every_reply_matched() {
    let server = start_engine("hundred", &[]).await;
    let addr = server.addr();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        tasks.push(tokio::spawn(async move {
            let mut c = Client::plain(addr).await.unwrap();
            let mut sent = Vec::new();
            for i in 0..100 {
                let uuid = c.send("BASE", "ECHO", json!({ "DATA": i })).await.unwrap();
                sent.push((uuid, i));
            }
            for (uuid, i) in sent {
                let r = c.reply_to(&uuid).await.unwrap();
                assert_eq!(r["MESSAGE_DATA"], i);
            }
            100
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 10_000);
}

#[tokio::test]
async fn a_slow_request_does_not_hold_up_a_ping_behind_it_on_the_same_socket() {
    let server = start_engine("slow", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let slow = c
        .send("BASE", "ECHO", json!({ "DELAY_MS": 3000, "DATA": "slow" }))
        .await
        .unwrap();
    let ping = c.send("BASE", "PING", json!({})).await.unwrap();
    let first = c.next().await.unwrap();
    assert_eq!(
        first["MESSAGE_UUID"],
        ping.as_str(),
        "the PING must overtake the slow request"
    );
    let second = c.next().await.unwrap();
    assert_eq!(second["MESSAGE_UUID"], slow.as_str());
}

#[tokio::test]
async fn an_allowed_origin_is_admitted_and_another_gets_403() {
    let server = start_engine("origin", &[]).await;
    let ok = Client::connect(
        server.addr(),
        Connect {
            origin: Some("https://app.unpispas.es"),
            ..Default::default()
        },
    )
    .await;
    assert!(ok.is_ok());
    // The default is the POS's exact origin: no other subdomain, not local.unpispas.es itself
    // (a page served from it could drive the devices).
    for other in ["https://bar.unpispas.es", "https://local.unpispas.es"] {
        let sub = Client::connect(
            server.addr(),
            Connect {
                origin: Some(other),
                ..Default::default()
            },
        )
        .await;
        assert!(
            sub.err().expect("refused").to_string().contains("403"),
            "{other}"
        );
    }
    let denied = Client::connect(
        server.addr(),
        Connect {
            origin: Some("https://evil.example"),
            ..Default::default()
        },
    )
    .await;
    let err = denied.err().expect("refused").to_string();
    assert!(err.contains("403"), "{err}");
    // The refusal is per connection: the server still serves.
    let mut c = Client::plain(server.addr()).await.unwrap();
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
}

#[tokio::test]
async fn a_configured_developer_origin_is_admitted_over_tls_too() {
    let server = start_engine(
        "dev-origin",
        &[("ALLOWED_ORIGINS", "http://localhost:4200")],
    )
    .await;
    let opts = Connect {
        origin: Some("http://localhost:4200"),
        tls_cert: Some(server.engine.cert_der()),
        ..Default::default()
    };
    assert!(Client::connect(server.addr(), opts).await.is_ok());
    let opts = Connect {
        origin: Some("https://app.unpispas.es"),
        ..Default::default()
    };
    assert!(
        Client::connect(server.addr(), opts).await.is_err(),
        "defaults are replaced, not extended"
    );
}

#[tokio::test]
async fn the_admin_token_marks_the_connection_as_admin() {
    let server = start_engine("admin", &[]).await;
    let token = server.engine.admin_token().to_string();
    let mut admin = Client::connect(
        server.addr(),
        Connect {
            token: Some(&token),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let r = admin.call("BASE", "CHECK", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_DATA"]["ADMIN"], true);
    let mut plain = Client::plain(server.addr()).await.unwrap();
    assert_eq!(
        plain.call("BASE", "CHECK", json!({})).await.unwrap()["MESSAGE_DATA"]["ADMIN"],
        false
    );
    assert!(std::fs::read_to_string(server.dir.join("admin_token"))
        .unwrap()
        .contains(&token));
}

#[tokio::test]
async fn config_is_returned_with_secrets_redacted() {
    let secret = "super-secret-admin-token-42-long-enough";
    let server = start_engine(
        "config",
        &[
            ("ADMIN_TOKEN", secret),
            ("PRINTER_RECEIPT", "tcp://127.0.0.1:9100"),
        ],
    )
    .await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let r = c.call("BASE", "CONFIG", json!({})).await.unwrap();
    assert_eq!(r["MESSAGE_DATA"]["ADMIN_TOKEN"], "***");
    assert_eq!(r["MESSAGE_DATA"]["PRINTER_RECEIPT"], "tcp://127.0.0.1:9100");
    assert!(!r.to_string().contains(secret));
}

#[tokio::test]
async fn heartbeat_events_reach_subscribers_with_the_subscription_uuid() {
    let server = start_engine("heartbeat", &[("HEARTBEAT_SECS", "1")]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let mut other = Client::plain(server.addr()).await.unwrap();
    let sub = c.send("BASE", "SUBSCRIBE", json!({})).await.unwrap();
    c.reply_to(&sub).await.unwrap();
    let ev = c.wait_for(|v| v["MESSAGE_TYPE"] == "EVENT").await.unwrap();
    assert_eq!(ev["MESSAGE_UUID"], sub.as_str());
    assert_eq!(ev["MESSAGE_DATA"]["EVENT"], "HEARTBEAT");
    assert_eq!(ev["MESSAGE_DATA"]["CONNECTIONS"], 2);
    // The unsubscribed client only ever sees its own reply.
    let ping = other.call("BASE", "PING", json!({})).await.unwrap();
    assert_eq!(ping["MESSAGE_TYPE"], "RESPONSE");
    let stray = tokio::time::timeout(Duration::from_millis(1500), other.next()).await;
    assert!(
        stray.is_err(),
        "no event for a client that did not subscribe: {stray:?}"
    );
}

#[tokio::test]
async fn an_on_demand_heartbeat_goes_only_to_the_caller() {
    let server = start_engine("heartbeat-now", &[]).await;
    let mut c = Client::plain(server.addr()).await.unwrap();
    let uuid = c.send("BASE", "HEARTBEAT", json!({})).await.unwrap();
    let ev = c.wait_for(|v| v["MESSAGE_TYPE"] == "EVENT").await.unwrap();
    assert_eq!(ev["MESSAGE_UUID"], uuid.as_str());
    assert_eq!(c.reply_to(&uuid).await.unwrap()["MESSAGE_EXEC"], "SUCCESS");
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_and_then_closes() {
    let server = start_engine("shutdown", &[("SHUTDOWN_GRACE_MS", "5000")]).await;
    let addr = server.addr();
    let mut c = Client::plain(addr).await.unwrap();
    let slow = c
        .send("BASE", "ECHO", json!({ "DELAY_MS": 300, "DATA": "done" }))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stopping = tokio::spawn(server.engine.shutdown());
    let r = c.reply_to(&slow).await.unwrap();
    assert_eq!(r["MESSAGE_DATA"], "done");
    assert_eq!(c.closed().await.unwrap(), Some(1001), "going away");
    stopping.await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens after shutdown"
    );
}

const LAN_TOKEN: &str = "lan-token-for-tests-1-long-enough-now";

/// An engine listening on every address, and its address as seen from the LAN.
async fn lan_engine(name: &str, extra: &[(&str, &str)]) -> Option<(TestEngine, SocketAddr)> {
    let Some(lan_ip) = non_loopback_ip() else {
        eprintln!("skipped: this machine has no non-loopback address");
        return None;
    };
    let mut env = vec![("LOCAL_HOST", "0.0.0.0"), ("LAN_TOKEN", LAN_TOKEN)];
    env.extend_from_slice(extra);
    let server = start_engine(name, &env).await;
    let addr = SocketAddr::new(lan_ip, server.addr().port());
    Some((server, addr))
}

#[tokio::test]
async fn a_lan_client_needs_a_token_over_tls_and_is_not_an_administrator() {
    let Some((server, addr)) = lan_engine("lan", &[]).await else {
        return;
    };
    let err = Client::plain(addr)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("401"), "{err}");
    // Over ws:// the token would cross the LAN in clear: refused, right or wrong.
    let plain = Connect {
        token: Some(LAN_TOKEN),
        ..Default::default()
    };
    let err = Client::connect(addr, plain)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("426"), "{err}");
    let cert = server.engine.cert_der();
    let opts = Connect {
        token: Some(LAN_TOKEN),
        tls_cert: Some(cert),
        ..Default::default()
    };
    let mut c = Client::connect(addr, opts).await.unwrap();
    assert_eq!(
        c.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
    // The admin token from another computer admits it, without administrative rights.
    let admin = Connect {
        token: Some(server.engine.admin_token()),
        tls_cert: Some(cert),
        ..Default::default()
    };
    let mut a = Client::connect(addr, admin).await.unwrap();
    let check = a.call("BASE", "CHECK", json!({})).await.unwrap();
    assert_eq!(check["MESSAGE_DATA"]["ADMIN"], false, "{check}");
    let config = a
        .call("BASE", "CONFIG_SAVE", json!({ "VALUES": {} }))
        .await
        .unwrap();
    assert_eq!(config["MESSAGE_EXEC"], "FAILURE", "{config}");
}

#[tokio::test]
async fn wrong_tokens_from_one_address_get_it_turned_away_for_a_while() {
    let Some((server, addr)) = lan_engine("lan-guess", &[]).await else {
        return;
    };
    let cert = server.engine.cert_der();
    let attempt = |token: &'static str| {
        let opts = Connect {
            token: Some(token),
            tls_cert: Some(cert),
            ..Default::default()
        };
        Client::connect(addr, opts)
    };
    for _ in 0..pispas_modules::server::lan::FAILURES_ALLOWED {
        let err = attempt("wrong-token-wrong-token-wrong-token")
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("401"), "{err}");
    }
    // Blocked now: even the right token is refused until the block ends.
    let err = attempt(LAN_TOKEN).await.err().unwrap().to_string();
    assert!(err.contains("429"), "{err}");
    // This computer is never blocked.
    assert!(Client::plain(server.addr()).await.is_ok());
}

#[tokio::test]
async fn a_silent_lan_connection_is_closed_and_one_that_answers_pings_stays() {
    let Some((server, addr)) = lan_engine("lan-idle", &[("LAN_IDLE_TIMEOUT_S", "2")]).await else {
        return;
    };
    let cert = server.engine.cert_der();
    let opts = || Connect {
        token: Some(LAN_TOKEN),
        tls_cert: Some(cert),
        ..Default::default()
    };
    // Reading answers the server's pings (tungstenite replies as it reads).
    let mut alive = Client::connect(addr, opts()).await.unwrap();
    // Never reads, so never answers a ping: its pongs never come.
    let silent = pispas_testkit::client::connect_raw(addr, opts())
        .await
        .unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(6), alive.next()).await;
    assert!(
        waited.is_err(),
        "a connection answering pings got {waited:?}"
    );
    assert_eq!(
        alive.call("BASE", "PING", json!({})).await.unwrap()["MESSAGE_DATA"],
        "PONG"
    );
    // The silent one: the server has closed it. Reading now gives the pings it ignored, then
    // the close frame, or an error where answering those pings hits the closed socket; were it
    // still open, pings would keep coming and the read would not end.
    let mut silent = silent;
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match futures_util::StreamExt::next(&mut silent).await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                    return frame.map(|f| f.reason.to_string());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Some(format!("error: {e}")),
                None => return Some("end".into()),
            }
        }
    })
    .await;
    let how = ended.expect("the silent connection should have been closed as idle");
    assert!(how.is_some(), "closed without a reason");
}

/// This machine's own LAN address, found by asking the routing table (no packet is sent).
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

//! The kitchen LAN listener (`KITCHEN_LAN=on`) end to end: the till pairs a tablet (PAIR with the
//! admin token), the tablet trades the one-time code for a display token over plain HTTP, and its
//! WebSocket then reaches ORDER_KITCHEN's display actions only. A wrong, missing or revoked token
//! is refused; PRINT, BASE CONFIG and SEND on that socket are refused; the page server there
//! serves the kitchen pages and nothing else.

use pispas_testkit::client::{http_get, Client, Connect};
use pispas_testkit::{free_port, start_engine, TestEngine};
use serde_json::{json, Value};
use std::net::SocketAddr;

const ADMIN: &str = "kitchen-lan-admin-token-0123456789abcdef";

async fn engine(name: &str) -> (TestEngine, SocketAddr) {
    let port = free_port();
    let port_text = port.to_string();
    let e = start_engine(
        name,
        &[
            ("MODULES", "base,order_kitchen"),
            ("ADMIN_TOKEN", ADMIN),
            ("KITCHEN_LAN", "on"),
            ("KITCHEN_LAN_HOST", "127.0.0.1"),
            ("KITCHEN_LAN_PORT", &port_text),
        ],
    )
    .await;
    (e, SocketAddr::from(([127, 0, 0, 1], port)))
}

async fn admin(e: &TestEngine) -> Client {
    Client::connect(
        e.addr(),
        Connect {
            token: Some(ADMIN),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn body(response: &str) -> &str {
    response.split("\r\n\r\n").nth(1).unwrap_or("")
}

fn status(response: &str) -> &str {
    response.split(' ').nth(1).unwrap_or("")
}

/// Pairs a display called `name` the way the tablet does: PAIR on the till, `/pair` on the LAN.
async fn pair(till: &mut Client, lan: SocketAddr, name: &str) -> String {
    let r = till
        .call("ORDER_KITCHEN", "PAIR", json!({ "NAME": name }))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    let d = &r["MESSAGE_DATA"];
    let code = d["CODE"].as_str().unwrap();
    let url = d["URL"].as_str().unwrap();
    assert!(
        url.ends_with(&format!(":{}/kitchen?pair={code}", lan.port())),
        "{url}"
    );
    assert!(d["QR_SVG"].as_str().unwrap().starts_with("<?xml"), "{d:#}");
    let reply = http_get(lan, &format!("/pair?code={code}"), None)
        .await
        .unwrap();
    assert_eq!(status(&reply), "200", "{reply}");
    let paired: Value = serde_json::from_str(body(&reply)).unwrap();
    assert_eq!(paired["NAME"], name);
    let again = http_get(lan, &format!("/pair?code={code}"), None)
        .await
        .unwrap();
    assert_eq!(status(&again), "403", "a code works once: {again}");
    paired["TOKEN"].as_str().unwrap().to_string()
}

async fn display(lan: SocketAddr, token: &str) -> anyhow::Result<Client> {
    Client::connect(
        lan,
        Connect {
            token: Some(token),
            ..Default::default()
        },
    )
    .await
}

#[tokio::test]
async fn a_paired_tablet_bumps_as_itself_and_reaches_nothing_else() {
    let (e, lan) = engine("kitchen-lan-pair").await;
    let mut till = admin(&e).await;
    let token = pair(&mut till, lan, "GRILL-TAB").await;
    let mut tablet = display(lan, &token)
        .await
        .expect("a paired token is admitted");
    let r = tablet
        .call(
            "ORDER_KITCHEN",
            "SUBSCRIBE",
            json!({ "STATION": "KITCHEN" }),
        )
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    let mut pos = Client::plain(e.addr()).await.unwrap();
    let sent = pos
        .call(
            "ORDER_KITCHEN",
            "SEND",
            json!({ "TICKET": "L1", "LINES": [{ "LINE": "1", "QTY": 1, "NAME": "Croquetas" }] }),
        )
        .await
        .unwrap();
    assert_eq!(sent["MESSAGE_EXEC"], "SUCCESS", "{sent:#}");
    tablet
        .wait_for(|v| {
            v["MESSAGE_DATA"]["EVENT"] == "KITCHEN" && v["MESSAGE_DATA"]["TICKET"] == "L1"
        })
        .await
        .unwrap();
    let bumped = tablet
        .call("ORDER_KITCHEN", "BUMP", json!({ "TICKET": "L1" }))
        .await
        .unwrap();
    assert_eq!(bumped["MESSAGE_EXEC"], "SUCCESS", "{bumped:#}");
    let heard = pos
        .wait_for(|v| {
            v["MESSAGE_DATA"]["ACTION"] == "BUMPED" && v["MESSAGE_DATA"]["TICKET"] == "L1"
        })
        .await
        .unwrap();
    assert_eq!(
        heard["MESSAGE_DATA"]["BY"], "GRILL-TAB",
        "the paired name is its BY"
    );
    for (target, action, params) in [
        ("PRINT", "PRINT", json!({ "FORMAT": "TEXT", "DATA": "x" })),
        ("BASE", "CONFIG", json!({})),
        (
            "ORDER_KITCHEN",
            "SEND",
            json!({ "TICKET": "L2", "LINES": [] }),
        ),
        ("ORDER_KITCHEN", "PAIR", json!({ "NAME": "MORE" })),
    ] {
        let r = tablet.call(target, action, params).await.unwrap();
        assert_eq!(
            r["MESSAGE_DATA"]["CODE"], "UNAUTHORIZED",
            "{target} {action}: {r:#}"
        );
    }
    // The connection survives its refusals.
    let r = tablet
        .call("ORDER_KITCHEN", "STATUS", json!({}))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
}

#[tokio::test]
async fn wrong_missing_and_revoked_tokens_are_refused() {
    let (e, lan) = engine("kitchen-lan-refuse").await;
    let mut till = admin(&e).await;
    assert!(
        display(lan, "not-a-token").await.is_err(),
        "a wrong token is refused"
    );
    assert!(Client::plain(lan).await.is_err(), "no token is refused");
    let bad = http_get(lan, "/pair?code=AAAAAAAA", None).await.unwrap();
    assert_eq!(status(&bad), "403", "{bad}");
    let token = pair(&mut till, lan, "BAR-TAB").await;
    let mut tablet = display(lan, &token).await.unwrap();
    let r = tablet
        .call("ORDER_KITCHEN", "SUBSCRIBE", json!({}))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_EXEC"], "SUCCESS", "{r:#}");
    let listed = till
        .call("ORDER_KITCHEN", "DISPLAYS", json!({}))
        .await
        .unwrap();
    assert_eq!(
        listed["MESSAGE_DATA"]["DISPLAYS"][0]["NAME"], "BAR-TAB",
        "{listed:#}"
    );
    let r = till
        .call("ORDER_KITCHEN", "REVOKE", json!({ "NAME": "BAR-TAB" }))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_DATA"]["REVOKED"], true, "{r:#}");
    let r = tablet
        .call("ORDER_KITCHEN", "STATUS", json!({}))
        .await
        .unwrap();
    assert_eq!(
        r["MESSAGE_DATA"]["CODE"], "UNAUTHORIZED",
        "an open connection is refused at once: {r:#}"
    );
    assert!(
        display(lan, &token).await.is_err(),
        "a revoked token is refused"
    );
    // It sees no more tickets: the next event closes its connection instead.
    let mut pos = Client::plain(e.addr()).await.unwrap();
    let sent = pos
        .call(
            "ORDER_KITCHEN",
            "SEND",
            json!({ "TICKET": "R1", "LINES": [{ "LINE": "1", "QTY": 1, "NAME": "Flan" }] }),
        )
        .await
        .unwrap();
    assert_eq!(sent["MESSAGE_EXEC"], "SUCCESS", "{sent:#}");
    assert_eq!(tablet.closed().await.unwrap(), Some(1008), "closed: policy");
    // Pairing is for the till: without the admin token it is refused.
    let mut anyone = Client::plain(e.addr()).await.unwrap();
    let r = anyone
        .call("ORDER_KITCHEN", "PAIR", json!({ "NAME": "SNEAKY" }))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "UNAUTHORIZED", "{r:#}");
}

#[tokio::test]
async fn the_lan_listener_serves_the_kitchen_pages_and_nothing_else() {
    let (_e, lan) = engine("kitchen-lan-pages").await;
    for path in [
        "/kitchen",
        "/kitchen/status",
        "/js/kitchen.js",
        "/js/page.js",
        "/css/kitchen.css",
    ] {
        let r = http_get(lan, path, None).await.unwrap();
        assert_eq!(status(&r), "200", "{path}: {r}");
    }
    let endpoint: Value =
        serde_json::from_str(body(&http_get(lan, "/endpoint.json", None).await.unwrap())).unwrap();
    assert_eq!(endpoint["LAN"], true);
    assert_eq!(endpoint["PORT"], lan.port());
    for path in ["/status.html", "/config.html", "/log.html", "/js/config.js"] {
        let r = http_get(lan, path, None).await.unwrap();
        assert_eq!(status(&r), "404", "{path} is not for tablets: {r}");
    }
}

#[tokio::test]
async fn pair_says_what_to_do_while_the_lan_listener_is_off() {
    let e = start_engine(
        "kitchen-lan-off",
        &[("MODULES", "base,order_kitchen"), ("ADMIN_TOKEN", ADMIN)],
    )
    .await;
    let mut till = admin(&e).await;
    let r = till
        .call("ORDER_KITCHEN", "PAIR", json!({ "NAME": "GRILL-TAB" }))
        .await
        .unwrap();
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "UNSUPPORTED", "{r:#}");
    assert!(
        r["MESSAGE_DATA"]["MESSAGE"]
            .as_str()
            .unwrap()
            .contains("KITCHEN_LAN=on"),
        "{r:#}"
    );
}

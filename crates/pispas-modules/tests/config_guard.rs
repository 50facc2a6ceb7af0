//! The admin token is not code execution (security review, Medium): over the protocol,
//! CONFIG_SAVE refuses to change the programs the service runs (CHROME_PATH, PDFIUM_PATH) and
//! `file://` printers outside DATA_DIR/printer-output; those are set by editing the file.

use pispas_testkit::client::{Client, Connect};
use pispas_testkit::start_engine;
use serde_json::{json, Value};

async fn admin(server: &pispas_testkit::TestEngine) -> Client {
    Client::connect(
        server.addr(),
        Connect {
            token: Some(server.engine.admin_token()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn dry_run(c: &mut Client, mut values: Value) -> Value {
    // CONFIG_SAVE stands for the whole file: without VIEWER_PORT the saved configuration would
    // serve the pages on 8081 after a restart, and the save checks that 8081 is free now. Keep
    // the test engine's free port, so these tests do not depend on what else runs here.
    values["VIEWER_PORT"] = json!("0");
    c.call(
        "BASE",
        "CONFIG_SAVE",
        json!({ "VALUES": values, "DRY_RUN": true }),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_program_path_cannot_be_set_over_the_protocol() {
    let server = start_engine("guard-exec", &[]).await;
    let mut c = admin(&server).await;
    for key in ["CHROME_PATH", "PDFIUM_PATH"] {
        let r = dry_run(&mut c, json!({ key: "/tmp/evil" })).await;
        assert_eq!(r["MESSAGE_DATA"]["CODE"], "INVALID_CONFIG", "{r}");
        assert_eq!(r["MESSAGE_DATA"]["DETAILS"]["KEY"], key);
        assert!(r["MESSAGE_DATA"]["MESSAGE"]
            .as_str()
            .unwrap()
            .contains("editing"));
    }
    let schema = c.call("BASE", "CONFIG_SCHEMA", json!({})).await.unwrap();
    let chrome = schema["MESSAGE_DATA"]["KEYS"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["KEY"] == "CHROME_PATH")
        .cloned()
        .unwrap();
    assert_eq!(
        chrome["FILE_ONLY"], true,
        "the configurator shows it read-only"
    );
}

#[tokio::test]
async fn a_file_printer_may_write_only_under_the_printer_output_folder() {
    let server = start_engine("guard-file", &[]).await;
    let mut c = admin(&server).await;
    let outside = dry_run(&mut c, json!({ "PRINTER_X": "file:///etc/cron.d/job" })).await;
    assert_eq!(
        outside["MESSAGE_DATA"]["CODE"], "INVALID_CONFIG",
        "{outside}"
    );
    assert_eq!(outside["MESSAGE_DATA"]["DETAILS"]["KEY"], "PRINTER_X");
    let sneaky = server.dir.join("printer-output/../../etc/x");
    let r = dry_run(
        &mut c,
        json!({ "PRINTER_X": format!("file://{}", sneaky.display()) }),
    )
    .await;
    assert_eq!(r["MESSAGE_DATA"]["CODE"], "INVALID_CONFIG", "{r}");
    let inside = server.dir.join("printer-output/receipts.bin");
    let ok = dry_run(
        &mut c,
        json!({ "PRINTER_X": format!("file://{}", inside.display()) }),
    )
    .await;
    assert_eq!(ok["MESSAGE_EXEC"], "SUCCESS", "{ok}");
    let tcp = dry_run(&mut c, json!({ "PRINTER_Y": "tcp://192.168.1.50:9100" })).await;
    assert_eq!(tcp["MESSAGE_EXEC"], "SUCCESS", "{tcp}");
}

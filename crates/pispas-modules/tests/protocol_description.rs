//! The protocol description (`protocol/pispas.json`) checked against the engine itself, over the
//! wire only: every action the engine registers is described and every described action exists
//! (BASE `CHECK` lists each module's actions), every sample request gets the outcome the
//! description records (never UNKNOWN_ACTION, and BAD_PARAMS only where a sample says it tests a
//! limit), SUCCESS replies have the described shape, and every failure code the engine can send
//! is described.
//!
//! The JavaScript SDK's types and docs/protocol.md's tables are generated from the same file, so
//! a failure here is the one place where the engine and what we tell POS developers can part.
//! This file does not test behaviour beyond "exists, parses, answers as described"; the module
//! tests do that.

use pispas_testkit::client::{next_uuid, request_text, Client, Connect};
use pispas_testkit::start_engine;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const ADMIN_TOKEN: &str = "protocol-description-admin-token";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn description() -> Value {
    let path = repo_root().join("protocol/pispas.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// How the engine matches actions: upper case, underscores ignored.
fn normalise(action: &str) -> String {
    action.to_ascii_uppercase().replace('_', "")
}

fn targets(d: &Value) -> &Map<String, Value> {
    d["targets"].as_object().expect("targets is an object")
}

fn actions(target: &Value) -> &Map<String, Value> {
    target["actions"].as_object().expect("actions is an object")
}

/// Every module name the description knows, for `MODULES`: so even the ones that answer
/// MODULE_UNAVAILABLE are registered and listed by CHECK.
fn all_modules(d: &Value) -> String {
    targets(d)
        .values()
        .map(|t| t["module"].as_str().expect("every target names its module"))
        .collect::<Vec<_>>()
        .join(",")
}

async fn engine_for(d: &Value, name: &str) -> pispas_testkit::TestEngine {
    let modules = all_modules(d);
    start_engine(
        name,
        &[
            ("MODULES", modules.as_str()),
            ("ADMIN_TOKEN", ADMIN_TOKEN),
            ("PRINT_PREWARM", "false"),
        ],
    )
    .await
}

async fn admin_client(addr: SocketAddr) -> Client {
    Client::connect(
        addr,
        Connect {
            token: Some(ADMIN_TOKEN),
            ..Default::default()
        },
    )
    .await
    .expect("admin connection")
}

#[tokio::test]
async fn every_action_the_engine_registers_is_described_and_every_described_action_exists() {
    let d = description();
    let engine = engine_for(&d, "describe-actions").await;
    let mut client = admin_client(engine.addr()).await;
    let check = client.call("BASE", "CHECK", json!({})).await.unwrap();
    assert_eq!(check["MESSAGE_EXEC"], "SUCCESS", "{check}");
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for module in check["MESSAGE_DATA"]["MODULES"]
        .as_array()
        .expect("MODULES")
    {
        let target = module["TARGET"].as_str().expect("TARGET");
        seen.insert(target.to_string());
        let registered: BTreeSet<String> = module["ACTIONS"]
            .as_array()
            .expect("ACTIONS")
            .iter()
            .map(|a| normalise(a.as_str().expect("action name")))
            .collect();
        let Some(described) = targets(&d).get(target) else {
            problems.push(format!(
                "the engine serves TARGET {target} (actions {registered:?}), which protocol/pispas.json does not describe"
            ));
            continue;
        };
        let described_names: BTreeMap<String, &str> = actions(described)
            .keys()
            .map(|k| (normalise(k), k.as_str()))
            .collect();
        for action in &registered {
            if !described_names.contains_key(action) {
                problems.push(format!(
                    "{target} {action} is an action of the engine that protocol/pispas.json does not describe: add it under targets.{target}.actions"
                ));
            }
        }
        for (norm, name) in &described_names {
            if !registered.contains(norm) {
                problems.push(format!(
                    "protocol/pispas.json describes {target} {name}, but the engine has no such action"
                ));
            }
        }
        let available = described["available"].as_bool().unwrap_or(true);
        if !available && !registered.is_empty() {
            problems.push(format!(
                "{target} now has actions: mark it \"available\": true in protocol/pispas.json and describe them"
            ));
        }
        if available && registered.is_empty() {
            problems.push(format!(
                "{target} is described as available but the engine lists no action for it"
            ));
        }
    }
    for target in targets(&d).keys() {
        if !seen.contains(target) {
            problems.push(format!(
                "protocol/pispas.json describes TARGET {target}, which the engine did not register with MODULES={}",
                all_modules(&d)
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// Polls LOG_QUERY until the command log holds an entry (bounded: fails after 20 s).
async fn wait_for_a_log_entry(admin: &mut Client) {
    for _ in 0..400 {
        let q = admin
            .call("BASE", "LOG_QUERY", json!({"LIMIT": 1}))
            .await
            .unwrap();
        if q["MESSAGE_DATA"]["STATS"]["ENTRIES"].as_u64() > Some(0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the command log never recorded the earlier samples");
}

#[tokio::test]
async fn every_sample_request_gets_the_outcome_the_description_records() {
    let d = description();
    let engine = engine_for(&d, "describe-samples").await;
    let mut admin = admin_client(engine.addr()).await;
    let mut anonymous = Client::plain(engine.addr()).await.unwrap();
    let mut problems = Vec::new();
    let mut sent = 0;
    for (target_name, target) in targets(&d) {
        if !target["available"].as_bool().unwrap_or(true) {
            let reply = admin.call(target_name, "CHECK", json!({})).await.unwrap();
            if reply["MESSAGE_DATA"]["CODE"] != "MODULE_UNAVAILABLE" {
                problems.push(format!(
                    "{target_name} is described as unavailable but answered {}",
                    reply["MESSAGE_DATA"]
                ));
            }
            continue;
        }
        for (action, spec) in actions(target) {
            for (i, sample) in spec["samples"].as_array().into_iter().flatten().enumerate() {
                let at = format!("{target_name} {action} samples[{i}]");
                if target_name == "BASE" && action == "LOG_GET" {
                    // Its sample reads entry 1: the command log writes in batches every 50 ms,
                    // so wait until the earlier samples are in it.
                    wait_for_a_log_entry(&mut admin).await;
                }
                let client = if sample["as"] == "anonymous" {
                    &mut anonymous
                } else {
                    &mut admin
                };
                let uuid = next_uuid();
                let params = sample["params"].clone();
                client
                    .send_text(request_text(&uuid, target_name, action, params))
                    .await
                    .unwrap();
                sent += 1;
                let mut reply = client.reply_to(&uuid).await.unwrap();
                if target_name == "BASE"
                    && action == "LOG_GET"
                    && reply["MESSAGE_EXEC"] != "SUCCESS"
                {
                    // The command log is written in batches every 50 ms: on an idle machine the
                    // first request's entry may not be on disk yet. Ask once more after a flush.
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    let again = next_uuid();
                    let params = sample["params"].clone();
                    client
                        .send_text(request_text(&again, target_name, action, params))
                        .await
                        .unwrap();
                    reply = client.reply_to(&again).await.unwrap();
                }
                let outcome = if reply["MESSAGE_EXEC"] == "SUCCESS" {
                    "SUCCESS".to_string()
                } else {
                    reply["MESSAGE_DATA"]["CODE"]
                        .as_str()
                        .unwrap_or("?")
                        .to_string()
                };
                let expected: Vec<&str> = sample["expect"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let invalid = sample["invalid"].as_bool().unwrap_or(false);
                let never = [
                    "UNKNOWN_ACTION",
                    "UNKNOWN_TARGET",
                    "BAD_REQUEST",
                    "BAD_JSON",
                ];
                if never.contains(&outcome.as_str()) || (outcome == "BAD_PARAMS" && !invalid) {
                    problems.push(format!(
                        "{at}: the engine answered {outcome} ({}): the action or its parameters are not as described",
                        reply["MESSAGE_DATA"]["MESSAGE"]
                    ));
                } else if !expected.contains(&outcome.as_str()) {
                    problems.push(format!(
                        "{at}: expected {expected:?}, the engine answered {outcome}: {}",
                        reply["MESSAGE_DATA"]
                    ));
                } else if outcome == "SUCCESS" {
                    let mut found = Vec::new();
                    check_shape(
                        &reply["MESSAGE_DATA"],
                        &spec["reply"],
                        &d,
                        "MESSAGE_DATA",
                        &mut found,
                    );
                    problems.extend(found.into_iter().map(|p| format!("{at}: reply {p}")));
                }
                if let Some(event) = sample["event"].as_str() {
                    let uuid = uuid.clone();
                    let ev = client
                        .wait_for(|v| {
                            v["MESSAGE_TYPE"] == "EVENT" && v["MESSAGE_UUID"] == uuid.as_str()
                        })
                        .await
                        .unwrap();
                    let mut found = Vec::new();
                    if ev["MESSAGE_DATA"]["EVENT"] != event {
                        found.push(format!(
                            "expected a {event} event, got {}",
                            ev["MESSAGE_DATA"]
                        ));
                    }
                    check_shape(
                        &ev["MESSAGE_DATA"],
                        &d["events"][event],
                        &d,
                        "event",
                        &mut found,
                    );
                    problems.extend(found.into_iter().map(|p| format!("{at}: {p}")));
                }
            }
        }
    }
    assert!(sent > 0, "no sample was sent");
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// The codes the engine can send: every `ErrorCode::Variant => "CODE"` arm in its sources, wherever
/// the mapping lives after a refactor. Finding none means the mapping changed shape, which must
/// fail rather than pass with an empty list.
fn engine_codes() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut codes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // `Self::Variant => "CODE"` counts only in the file that defines the enum.
        let prefixes: &[&str] = if text.contains("enum ErrorCode") {
            &["ErrorCode::", "Self::"]
        } else {
            &["ErrorCode::"]
        };
        for prefix in prefixes {
            scan_arms(&text, prefix, &mut codes);
        }
    }
    codes
}

/// Adds the `"CODE"` of every `<prefix>Variant => "CODE"` arm in `text`.
fn scan_arms(text: &str, prefix: &str, codes: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        rest = &rest[at + prefix.len()..];
        let variant_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let after = rest[variant_len..].trim_start();
        let Some(after) = after.strip_prefix("=>") else {
            continue;
        };
        let Some(after) = after.trim_start().strip_prefix('"') else {
            continue;
        };
        if let Some(end) = after.find('"') {
            let code = &after[..end];
            if !code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                codes.insert(code.to_string());
            }
        }
    }
}

#[test]
fn every_failure_code_the_engine_can_send_is_described_and_no_other() {
    let d = description();
    let engine = engine_codes();
    assert!(
        engine.len() > 10,
        "found only {engine:?} as `ErrorCode::X => \"CODE\"` arms under src/: has the code mapping changed shape?"
    );
    let described: BTreeSet<String> = d["codes"].as_object().unwrap().keys().cloned().collect();
    let missing: Vec<_> = engine.difference(&described).collect();
    let extra: Vec<_> = described.difference(&engine).collect();
    assert!(
        missing.is_empty(),
        "failure codes the engine can send that protocol/pispas.json does not describe: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "protocol/pispas.json describes failure codes the engine does not have: {extra:?}"
    );
    // The SDK's own codes and diagnose() codes must never be mistaken for a server's.
    for section in ["client_codes", "diagnose"] {
        for code in d[section].as_object().unwrap().keys() {
            assert!(
                !engine.contains(code),
                "{section}.{code} reuses a server failure code"
            );
        }
    }
}

#[test]
fn the_description_is_complete_and_consistent() {
    let d = description();
    let mut problems = Vec::new();
    let events = d["events"].as_object().unwrap();
    for (name, event) in events {
        check_schema(event, &d, &format!("events.{name}"), &mut problems);
    }
    for (name, ty) in d["types"].as_object().unwrap() {
        check_schema(ty, &d, &format!("types.{name}"), &mut problems);
    }
    for (target_name, target) in targets(&d) {
        if target["module"].as_str().is_none() {
            problems.push(format!("{target_name}: no \"module\""));
        }
        for (action, spec) in actions(target) {
            let at = format!("{target_name} {action}");
            if action.to_ascii_uppercase() != *action || action.contains(' ') {
                problems.push(format!("{at}: action names are UPPER_SNAKE"));
            }
            if spec["doc"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{at}: no doc"));
            }
            let within = &spec["reply_within"];
            let fixed = within["ms"].as_u64().is_some();
            let by_param = within["param"].as_str().is_some() && within["max"].as_u64().is_some();
            let by_config = within["config"].as_str().is_some() && within["max"].as_u64().is_some();
            if !(fixed || by_param || by_config) {
                problems.push(format!(
                    "{at}: reply_within needs ms, or param/config with max"
                ));
            }
            if let Some(param) = within["param"].as_str() {
                if spec["params"][param].is_null() {
                    problems.push(format!(
                        "{at}: reply_within names {param}, which is not a parameter"
                    ));
                }
            }
            check_schema(&spec["reply"], &d, &format!("{at} reply"), &mut problems);
            let params = spec["params"].as_object();
            if params.is_none() {
                problems.push(format!("{at}: params must be an object ({{}} for none)"));
            }
            for (p, schema) in params.into_iter().flatten() {
                check_schema(schema, &d, &format!("{at} params.{p}"), &mut problems);
            }
            let samples = spec["samples"].as_array().cloned().unwrap_or_default();
            if !samples
                .iter()
                .any(|s| !s["invalid"].as_bool().unwrap_or(false))
            {
                problems.push(format!(
                    "{at}: needs at least one sample that is not \"invalid\""
                ));
            }
            for (i, sample) in samples.iter().enumerate() {
                if sample["expect"].as_array().is_none_or(Vec::is_empty) {
                    problems.push(format!("{at} samples[{i}]: no expect"));
                }
                for code in sample["expect"].as_array().into_iter().flatten() {
                    let code = code.as_str().unwrap_or("?");
                    if code != "SUCCESS" && d["codes"][code].is_null() {
                        problems.push(format!("{at} samples[{i}]: {code} is not a described code"));
                    }
                }
                for (p, v) in sample["params"].as_object().into_iter().flatten() {
                    match spec["params"].get(p) {
                        None => problems.push(format!(
                            "{at} samples[{i}]: {p} is not a described parameter"
                        )),
                        Some(schema) if !sample["invalid"].as_bool().unwrap_or(false) => {
                            let mut found = Vec::new();
                            check_param(v, schema, &d, p, &mut found);
                            problems.extend(
                                found.into_iter().map(|f| format!("{at} samples[{i}]: {f}")),
                            );
                        }
                        Some(_) => {}
                    }
                }
                if let Some(event) = sample["event"].as_str() {
                    if !events.contains_key(event) {
                        problems.push(format!("{at} samples[{i}]: event {event} is not described"));
                    }
                }
            }
            if let Some(sub) = spec.get("subscription") {
                let stop = sub["stop"].as_str().unwrap_or("");
                if actions(target).get(stop).is_none() {
                    problems.push(format!(
                        "{at}: subscription.stop {stop:?} is not an action of {target_name}"
                    ));
                }
                for e in sub["events"].as_array().into_iter().flatten() {
                    if !events.contains_key(e.as_str().unwrap_or("")) {
                        problems.push(format!("{at}: subscription event {e} is not described"));
                    }
                }
            }
            for e in spec["events"].as_array().into_iter().flatten() {
                if !events.contains_key(e.as_str().unwrap_or("")) {
                    problems.push(format!("{at}: event {e} is not described"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// A schema is well formed: known type names, refs that resolve.
fn check_schema(schema: &Value, d: &Value, at: &str, problems: &mut Vec<String>) {
    const TYPES: [&str; 8] = [
        "string", "integer", "number", "boolean", "object", "array", "any", "null",
    ];
    if let Some(r) = schema["ref"].as_str() {
        if d["types"][r].is_null() {
            problems.push(format!("{at}: ref {r} is not in types"));
        }
    }
    if let Some(e) = schema["extends"].as_str() {
        if d["types"][e].is_null() {
            problems.push(format!("{at}: extends {e} is not in types"));
        }
    }
    if let Some(t) = schema["type"].as_str() {
        if !TYPES.contains(&t) {
            problems.push(format!("{at}: unknown type {t}"));
        }
    }
    for (k, f) in schema["fields"].as_object().into_iter().flatten() {
        check_schema(f, d, &format!("{at}.{k}"), problems);
    }
    for (i, s) in schema["one_of"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_schema(s, d, &format!("{at}.one_of[{i}]"), problems);
    }
    if schema["items"].is_object() {
        check_schema(&schema["items"], d, &format!("{at}[]"), problems);
    }
    if schema["values"].is_object() {
        check_schema(&schema["values"], d, &format!("{at}{{}}"), problems);
    }
}

/// The fields of an object schema, with `extends` and `ref` resolved.
fn fields_of(schema: &Value, d: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(base) = schema["extends"].as_str() {
        out.extend(fields_of(&d["types"][base], d));
    }
    if let Some(f) = schema["fields"].as_object() {
        out.extend(f.clone());
    }
    out
}

/// Whether a reply or event `value` has the described shape; problems are appended with their
/// path. Fields are present unless `optional`.
fn check_shape(value: &Value, schema: &Value, d: &Value, at: &str, problems: &mut Vec<String>) {
    check_value(value, schema, d, at, Direction::Out, problems)
}

/// Whether a parameter `value` a client sends fits its schema: fields are optional unless
/// `required`.
fn check_param(value: &Value, schema: &Value, d: &Value, at: &str, problems: &mut Vec<String>) {
    check_value(value, schema, d, at, Direction::In, problems)
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    In,
    Out,
}

fn check_value(
    value: &Value,
    schema: &Value,
    d: &Value,
    at: &str,
    dir: Direction,
    problems: &mut Vec<String>,
) {
    if value.is_null() && schema["nullable"].as_bool().unwrap_or(false) {
        return;
    }
    if let Some(r) = schema["ref"].as_str() {
        return check_value(value, &d["types"][r], d, at, dir, problems);
    }
    if let Some(options) = schema["one_of"].as_array() {
        let fits = options.iter().any(|s| {
            let mut p = Vec::new();
            check_value(value, s, d, at, dir, &mut p);
            p.is_empty()
        });
        if !fits {
            problems.push(format!(
                "{at}: {value} matches none of the described shapes"
            ));
        }
        return;
    }
    let ty = schema["type"].as_str().unwrap_or("any");
    let ok = match ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => true,
    };
    if !ok {
        problems.push(format!("{at}: expected {ty}, got {value}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            problems.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(n) = value.as_f64() {
        if schema["min"].as_f64().is_some_and(|min| n < min)
            || schema["max"].as_f64().is_some_and(|max| n > max)
        {
            problems.push(format!(
                "{at}: {value} is outside {}–{}",
                schema["min"], schema["max"]
            ));
        }
    }
    if let Some(items) = value.as_array() {
        if schema["items"].is_object() {
            for (i, item) in items.iter().enumerate() {
                check_value(
                    item,
                    &schema["items"],
                    d,
                    &format!("{at}[{i}]"),
                    dir,
                    problems,
                );
            }
        }
    }
    let Some(map) = value.as_object() else { return };
    if schema["values"].is_object() {
        for (k, v) in map {
            check_value(v, &schema["values"], d, &format!("{at}.{k}"), dir, problems);
        }
    }
    let fields = fields_of(schema, d);
    if fields.is_empty() {
        return;
    }
    for (name, field) in &fields {
        match map.get(name) {
            Some(v) => check_value(v, field, d, &format!("{at}.{name}"), dir, problems),
            None if dir == Direction::In && !field["required"].as_bool().unwrap_or(false) => {}
            None if dir == Direction::Out && field["optional"].as_bool().unwrap_or(false) => {}
            None => problems.push(format!("{at}: described field {name} is missing")),
        }
    }
    if !schema["more"].as_bool().unwrap_or(false) {
        for name in map.keys() {
            if !fields.contains_key(name) {
                problems.push(format!("{at}: field {name} is not described"));
            }
        }
    }
}

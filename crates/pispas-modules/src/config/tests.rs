use super::*;

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pispas-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn defaults_are_loopback_5005_and_the_four_default_modules() {
    let c = ConfigEnv::from_values(BTreeMap::new(), Path::new("/etc/pispas/.env")).unwrap();
    assert_eq!(c.local_host.to_string(), "127.0.0.1");
    assert_eq!(c.local_port, 5005);
    let names: Vec<_> = c.modules.iter().map(|m| m.name()).collect();
    assert_eq!(names, ["base", "print", "scale", "rfid"]);
    assert_eq!(c.allowed_origins, ["https://app.unpispas.es"]);
    assert_eq!(c.cert_dir, PathBuf::from("/etc/pispas/certs"));
    assert_eq!(c.max_frame_bytes, 32 * 1024 * 1024);
}

#[test]
fn every_error_names_its_key() {
    let cases = [
        ("LOCAL_PORT", "abc"),
        ("LOCAL_PORT", "70000"),
        ("LOCAL_HOST", "not-an-ip"),
        ("MODULES", "base,printer"),
        ("ALLOWED_ORIGINS", "app.unpispas.es"),
        ("LOG_LEVEL", "loud[["),
        ("ADMIN_TOKEN", "short"),
        ("MAX_FRAME_BYTES", "10"),
    ];
    for (key, value) in cases {
        let err = ConfigEnv::from_values(values(&[(key, value)]), Path::new(".env")).unwrap_err();
        assert_eq!(err.key(), Some(key), "{key}={value} gave {err}");
        assert!(err.to_string().starts_with(key), "{err}");
    }
}

#[test]
fn an_unknown_module_is_named_in_the_error() {
    let err = ConfigEnv::from_values(values(&[("MODULES", "base,teleport")]), Path::new(".env"))
        .unwrap_err();
    assert!(err.to_string().contains("\"teleport\""), "{err}");
}

#[test]
fn base_is_always_enabled() {
    let c = ConfigEnv::from_values(values(&[("MODULES", "scale")]), Path::new(".env")).unwrap();
    let names: Vec<_> = c.modules.iter().map(|m| m.name()).collect();
    assert_eq!(names, ["base", "scale"]);
}

#[test]
fn the_file_is_read_and_the_data_dir_flag_wins() {
    let dir = tmpdir("load");
    let path = dir.join(".env");
    std::fs::write(
        &path,
        "LOCAL_PORT=6006\nDATA_DIR=data\nPRINTER_RECEIPT=tcp://10.0.0.5:9100\n",
    )
    .unwrap();
    let c = ConfigEnv::load(&LoadOptions {
        config_path: Some(path.clone()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.local_port, 6006);
    assert_eq!(
        c.data_dir,
        dir.join("data"),
        "relative paths resolve beside the .env"
    );
    assert_eq!(
        c.values.get("PRINTER_RECEIPT").map(String::as_str),
        Some("tcp://10.0.0.5:9100")
    );
    let flag = dir.join("elsewhere");
    let c = ConfigEnv::load(&LoadOptions {
        config_path: Some(path),
        data_dir: Some(flag.clone()),
        use_process_env: false,
    })
    .unwrap();
    assert_eq!(c.data_dir, flag);
}

#[test]
fn a_missing_file_means_defaults() {
    let dir = tmpdir("missing");
    let c = ConfigEnv::load(&LoadOptions {
        config_path: Some(dir.join("none.env")),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.local_port, 5005);
}

#[test]
fn secrets_are_redacted() {
    let c = ConfigEnv::from_values(
        values(&[
            ("ADMIN_TOKEN", "0123456789abcdef0123"),
            ("PAYTEF_SECRET_KEY", "s3cr3t"),
        ]),
        Path::new(".env"),
    )
    .unwrap();
    let r = c.redacted();
    assert_eq!(r["ADMIN_TOKEN"], "***");
    assert_eq!(r["PAYTEF_SECRET_KEY"], "***");
    assert_eq!(r["LOCAL_PORT"], "5005");
    assert!(!format!("{r:?}").contains("s3cr3t"));
}

#[test]
fn saving_writes_atomically_and_keeps_the_previous_file() {
    let dir = tmpdir("save");
    let path = dir.join(".env");
    std::fs::write(&path, "LOCAL_PORT=6000\n").unwrap();
    let new = values(&[
        ("LOCAL_PORT", "6001"),
        ("PRINTER_BAR", "spooler://EPSON TM \"T20\""),
    ]);
    save_env(&path, &new).unwrap();
    assert_eq!(
        std::fs::read_to_string(path.with_extension("bak")).unwrap(),
        "LOCAL_PORT=6000\n"
    );
    let back = ConfigEnv::load(&LoadOptions {
        config_path: Some(path.clone()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(back.local_port, 6001);
    assert_eq!(back.values["PRINTER_BAR"], "spooler://EPSON TM \"T20\"");
}

#[test]
fn an_invalid_value_is_refused_and_nothing_is_written() {
    let dir = tmpdir("refuse");
    let path = dir.join(".env");
    std::fs::write(&path, "LOCAL_PORT=6000\n").unwrap();
    let err = save_env(&path, &values(&[("LOCAL_PORT", "port")])).unwrap_err();
    assert_eq!(err.key(), Some("LOCAL_PORT"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "LOCAL_PORT=6000\n");
    assert!(!path.with_extension("bak").exists());
}

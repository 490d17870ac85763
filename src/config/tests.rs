use std::time::Duration;

use super::*;

fn problems(toml: &str) -> Vec<String> {
    match Config::from_toml_str(toml) {
        Ok(_) => panic!("expected the configuration to be rejected"),
        Err(ConfigError::Invalid(p)) => p,
        Err(e) => vec![e.to_string()],
    }
}

fn has(problems: &[String], needle: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "no problem contains {needle:?}; got:\n{}",
        problems.join("\n")
    );
}

const MINIMAL: &str = r#"
[[checks]]
name = "es"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
"#;

#[test]
fn minimal_config_gets_documented_defaults() {
    let c = Config::from_toml_str(MINIMAL).expect("valid");
    assert_eq!(c.server.listen.to_string(), "0.0.0.0:9898");
    assert_eq!(c.server.show_details, ShowDetails::Never);
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(5));
    let s = c.checks[0].schedule;
    assert_eq!(
        (s.interval, s.timeout, s.rise, s.fall),
        (Duration::from_secs(2), Duration::from_secs(1), 1, 1)
    );
    assert_eq!(s.max_age, Duration::from_secs(7), "3 × interval + timeout");
    assert_eq!(s.jitter, Duration::from_millis(200));
    assert!(c.checks[0].critical);
    let CheckKind::Elasticsearch(es) = &c.checks[0].kind else {
        panic!("kind")
    };
    assert_eq!(es.mode, EsMode::ClusterHealth);
    assert_eq!(es.yellow, Status::Warn);
    assert_eq!(es.max_body_bytes, 1024 * 1024);
}

#[test]
fn invalid_duration_names_its_key() {
    let p = problems(
        r#"
[[checks]]
name = "a"
kind = "tcp"
address = "127.0.0.1:1"
[[checks]]
name = "b"
kind = "tcp"
address = "127.0.0.1:2"
timeout = "2x"
"#,
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("checks[1].timeout: invalid duration \"2x\""),
        "{}",
        p[0]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let p = problems(
        r#"
[server]
listen = "nowhere"
show_details = "sometimes"
colour = "blue"

[defaults]
interval = 5

[[checks]]
name = "es"
kind = "elasticsearch"
urls = ["ftp://x"]
yellow = "maybe"
rise = 0

[[checks]]
name = "es"
kind = "tcp"
address = "no-port"

[[checks]]
kind = "oracle"
name = "r"

[[checks]]
name = "t"
kind = "tcp"
address = "127.0.0.1:1"
interval = "1s"
timeout = "2s"
tiemout = "1s"
"#,
    );
    has(&p, "server.listen: invalid listen address \"nowhere\"");
    has(&p, "server.show_details: invalid value \"sometimes\"");
    has(&p, "server.colour: unknown key");
    has(&p, "defaults.interval: invalid duration 5");
    has(&p, "checks[0].urls[0]: unsupported scheme \"ftp\"");
    has(&p, "checks[0].yellow: invalid status \"maybe\"");
    has(&p, "checks[0].rise: must be between 1 and 100");
    has(&p, "checks[1].address: invalid address \"no-port\"");
    has(&p, "checks[2].kind: unknown kind \"oracle\"");
    has(&p, "checks[3].timeout: 2s is longer than the interval 1s");
    has(&p, "checks[3].tiemout: unknown key");
}

#[test]
fn missing_and_duplicate() {
    let p = problems("[server]\n");
    has(&p, "checks: at least one [[checks]] entry is required");
    let p = problems(
        r#"
[[checks]]
kind = "tcp"
address = "127.0.0.1:1"
[[checks]]
name = "x"
kind = "tcp"
address = "127.0.0.1:1"
[[checks]]
name = "x"
kind = "http"
url = "http://127.0.0.1/"
[[checks]]
name = "y"
kind = "elasticsearch"
"#,
    );
    has(&p, "checks[0].name: missing required key");
    has(&p, "checks[2].name: duplicate name \"x\" (also used by checks[1])");
    has(&p, "checks[3].urls: missing required key");
}

#[test]
fn secrets_only_from_env_or_file() {
    let p = problems(
        r#"
[[checks]]
name = "es"
kind = "elasticsearch"
urls = ["http://user:pw@127.0.0.1:9200"]
username = "elastic"
password = "inline"
"#,
    );
    has(&p, "checks[0].password: secrets are not accepted inline");
    has(&p, "checks[0].urls[0]: credentials in the URL are not accepted");
    let p = problems(
        r#"
[[checks]]
name = "es"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
username = "elastic"
password_env = "HEALTHGATE_TEST_SURELY_UNSET_VAR"
"#,
    );
    has(
        &p,
        "checks[0].password_env: environment variable HEALTHGATE_TEST_SURELY_UNSET_VAR is not set",
    );
}

#[test]
fn secret_from_file_is_registered_for_redaction() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pw");
    std::fs::write(&f, "s3cr3t-value\n").unwrap();
    let c = Config::from_toml_str(&format!(
        r#"
[[checks]]
name = "es"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
username = "elastic"
password_file = "{}"
"#,
        f.display()
    ))
    .expect("valid");
    assert_eq!(c.redactor.scrub("x s3cr3t-value y"), "x [REDACTED] y");
    assert!(
        !format!("{c:?}").contains("s3cr3t-value"),
        "Debug must not print secrets"
    );
}

#[test]
fn http_expect_status_and_method() {
    let c = Config::from_toml_str(
        r#"
[[checks]]
name = "app"
kind = "http"
url = "http://127.0.0.1:8080/health"
method = "head"
expect_status = ["2xx", 301]
"#,
    )
    .unwrap();
    let CheckKind::Http(h) = &c.checks[0].kind else {
        panic!()
    };
    assert_eq!(h.method, HttpMethod::Head);
    assert!(h.expect_status.iter().any(|p| p.matches(204)));
    assert!(h.expect_status.iter().any(|p| p.matches(301)));
    assert!(!h.expect_status.iter().any(|p| p.matches(302)));
    let p = problems(
        r#"
[[checks]]
name = "app"
kind = "http"
url = "http://127.0.0.1:8080/health"
expect_status = ["7xx"]
"#,
    );
    has(&p, "checks[0].expect_status: invalid status \"7xx\"");
}

#[test]
fn environment_overrides_sections_and_checks_by_name() {
    let env = vec![
        ("HEALTHGATE__SERVER__LISTEN".to_string(), "127.0.0.1:7000".to_string()),
        ("HEALTHGATE__DEFAULTS__FALL".to_string(), "3".to_string()),
        ("HEALTHGATE__CHECKS__ES_MAIN__TIMEOUT".to_string(), "700ms".to_string()),
    ];
    let toml = r#"
[[checks]]
name = "es-main"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
"#;
    let tree = source::merge(None, Some(toml), &env).unwrap();
    let c = Config::from_tree(&tree).unwrap();
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:7000");
    assert_eq!(c.checks[0].schedule.fall, 3);
    assert_eq!(c.checks[0].schedule.timeout, Duration::from_millis(700));

    let bad = vec![("HEALTHGATE__CHECKS__NOPE__TIMEOUT".to_string(), "1s".to_string())];
    match source::merge(None, Some(toml), &bad) {
        Err(ConfigError::Invalid(p)) => has(&p, "HEALTHGATE__CHECKS__NOPE__TIMEOUT: no check named \"nope\""),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn yaml_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hg.yaml");
    std::fs::write(
        &f,
        "server:\n  listen: 127.0.0.1:0\nchecks:\n  - name: app\n    kind: tcp\n    address: 127.0.0.1:80\n    critical: false\n",
    )
    .unwrap();
    let c = Config::load(&f).unwrap();
    assert!(!c.checks[0].critical);
}

#[test]
fn missing_file_and_bad_syntax_are_clear() {
    let e = Config::load(std::path::Path::new("/nonexistent/hg.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hg.toml");
    std::fs::write(&f, "[[checks]\nname=").unwrap();
    let e = Config::load(&f).unwrap_err().to_string();
    assert!(e.contains("hg.toml"), "{e}");
}

#[test]
fn mode_specific_keys_are_refused_in_other_modes() {
    let p = problems(
        r#"
[[checks]]
name = "a"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
followers = ["f"]
[[checks]]
name = "b"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
mode = "ccr"
min_nodes = 3
[[checks]]
name = "c"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
mode = "index_health"
[[checks]]
name = "d"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
mode = "index_health"
indices = ["a,b", "*"]
[[checks]]
name = "e"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
mode = "colour"
"#,
    );
    has(&p, "checks[0].followers: only used with mode = \"ccr\"");
    has(&p, "checks[1].min_nodes: only used with mode = \"cluster_health\"");
    has(
        &p,
        "checks[2].indices: mode = \"index_health\" needs a list of index names",
    );
    has(&p, "checks[3].indices[0]: expected an index name");
    has(&p, "checks[3].indices[1]: expected an index name");
    has(&p, "checks[4].mode: invalid mode \"colour\" (expected one of: cluster_health, ping, ccr, health_report, index_health, master, failback)");
}

#[test]
fn timing_keys_that_cannot_work_are_named() {
    let check = |extra: &str| {
        format!("[[checks]]\nname = \"x\"\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\ninterval = \"2s\"\ntimeout = \"500ms\"\n{extra}\n")
    };
    let p = problems(&check("fast_interval = \"5s\""));
    has(&p, "checks[0].fast_interval: 5s is longer than the interval 2s");
    let p = problems(&check("down_interval = \"100ms\""));
    has(&p, "checks[0].down_interval: 100ms is shorter than the timeout 500ms");
    let p = problems(&check("fast_interval = \"100ms\""));
    has(&p, "checks[0].fast_interval: 100ms is shorter than the timeout 500ms");
    // start_interval follows fast_interval: the one mistake is named once.
    assert_eq!(p.len(), 1, "{p:?}");
    // Intervals left to their defaults follow the interval: a timeout longer
    // than it is one problem, not four.
    let p = problems(
        "[[checks]]\nname = \"x\"\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\ninterval = \"300ms\"\ntimeout = \"2s\"\n",
    );
    has(&p, "checks[0].timeout: 2s is longer than the interval 300ms");
    assert_eq!(p.len(), 1, "{p:?}");
    let p = problems(&check("fast_interval = \"1s\"\nstart_interval = \"600ms\""));
    has(&p, "checks[0].start_interval: 600ms is shorter than fast_interval 1s");
    let p = problems(&check("start_period = \"-5s\""));
    has(&p, "checks[0].start_period: invalid duration \"-5s\"");
    let p = problems(&check("start_period = \"2h\""));
    has(
        &p,
        "checks[0].start_period: 2h is longer than the longest start period, 1h",
    );
    let p = problems(&check("flap_high = 101"));
    has(&p, "checks[0].flap_high: must be a percentage from 0 to 100, found 101");
    let p = problems(&check("flap_low = 40\nflap_high = 30"));
    has(&p, "checks[0].flap_low: 40 % is above flap_high 30 %");
    let p = problems(&check("on_flap = \"page\""));
    has(
        &p,
        "checks[0].on_flap: invalid value \"page\" (expected none, warn or fail)",
    );
    let p = problems(&check("while_starting = \"pass\""));
    has(&p, "checks[0].while_starting: invalid value \"pass\"");
    let p = problems(&check("down_interval = \"10s\"\nmax_age = \"8s\""));
    has(&p, "checks[0].max_age: must be longer than down_interval (10s)");
    // In [defaults] too.
    let p = problems(&format!("[defaults]\nflap_low = 500\n{}", check("")));
    has(&p, "defaults.flap_low: must be a percentage from 0 to 100, found 500");
}

#[test]
fn timing_defaults_keep_one_interval() {
    let c = Config::from_toml_str(MINIMAL).expect("valid");
    let s = c.checks[0].schedule;
    assert_eq!(
        (s.fast_interval, s.down_interval, s.start_interval),
        (s.interval, s.interval, s.interval)
    );
    assert_eq!(s.start_period, Duration::ZERO);
    assert_eq!((s.flap.low, s.flap.high, s.flap.on_flap), (20, 30, None));
    let c = Config::from_toml_str(&format!(
        "[defaults]\ntimeout = \"300ms\"\nfast_interval = \"500ms\"\nstart_period = \"30s\"\nwhile_starting = \"warn\"\non_flap = \"warn\"\n{MINIMAL}"
    ))
    .expect("valid");
    let s = c.checks[0].schedule;
    assert_eq!(s.fast_interval, Duration::from_millis(500));
    assert_eq!(
        s.start_interval,
        Duration::from_millis(500),
        "start_interval defaults to fast_interval"
    );
    assert_eq!(s.start_period, Duration::from_secs(30));
    assert_eq!(s.while_starting, Status::Warn);
    assert_eq!(s.flap.on_flap, Some(Status::Warn));
}

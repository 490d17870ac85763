//! Every captured response shape maps to the right verdict.

use super::errors;
use super::health::{evaluate, parse};
use crate::checks::Fact;
use crate::config::{CheckKind, Config, EsConfig};
use crate::simulator::CLUSTER_HEALTH_FIXTURES;
use crate::status::Status;

fn es_config(extra: &str) -> EsConfig {
    let c = Config::from_toml_str(&format!(
        "[[checks]]\nname = \"es\"\nkind = \"elasticsearch\"\nurls = [\"http://127.0.0.1:9200\"]\n{extra}\n"
    ))
    .expect("valid test config");
    match c.checks.into_iter().next().map(|c| c.kind) {
        Some(CheckKind::Elasticsearch(es)) => es,
        _ => unreachable!("configured an elasticsearch check"),
    }
}

fn expected(file: &str) -> Status {
    if file.contains("timed_out") || file.contains("-red") {
        Status::Fail
    } else if file.contains("-yellow") {
        Status::Warn
    } else if file.contains("-green") {
        Status::Pass
    } else {
        panic!("fixture {file} has no colour in its name")
    }
}

#[test]
fn every_cluster_health_fixture_maps_to_its_colour() {
    assert_eq!(
        CLUSTER_HEALTH_FIXTURES.len(),
        17,
        "all cluster-health fixtures are listed"
    );
    let cfg = es_config("");
    for (file, body) in CLUSTER_HEALTH_FIXTURES {
        let h = parse(body.as_bytes()).unwrap_or_else(|e| panic!("{file}: {e}"));
        let o = evaluate(&cfg, &h, "http://n1:9200");
        assert_eq!(o.status, expected(file), "{file}: {}", o.reason);
        assert!(
            o.reason.contains("via http://n1:9200"),
            "{file}: reason names the node: {}",
            o.reason
        );
        assert!(o.facts.iter().any(|m| m.fact == Fact::EsClusterStatus), "{file}");
    }
}

#[test]
fn nan_percent_as_string_parses() {
    let (_, body) = CLUSTER_HEALTH_FIXTURES
        .iter()
        .find(|(f, _)| f.contains("NaN"))
        .expect("the NaN fixture");
    let h = parse(body.as_bytes()).expect("parses");
    assert_eq!(h.status, "red");
    assert_eq!(h.active_shards_percent_as_number, None);
    assert_eq!(h.number_of_nodes, Some(3));
}

#[test]
fn oldest_shape_timed_out_fails_with_reason() {
    let (_, body) = CLUSTER_HEALTH_FIXTURES
        .iter()
        .find(|(f, _)| f.contains("0.90"))
        .unwrap();
    let h = parse(body.as_bytes()).unwrap();
    assert!(h.timed_out);
    assert_eq!(h.number_of_pending_tasks, None, "0.90 has no pending-task fields");
    let o = evaluate(&es_config(""), &h, "n");
    assert!(o.reason.contains("timed out"), "{}", o.reason);
}

#[test]
fn opensearch_discovered_master_false_fails() {
    let body = br#"{"cluster_name":"os","status":"green","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1,"discovered_master":false,"discovered_cluster_manager":false}"#;
    let o = evaluate(&es_config(""), &parse(body).unwrap(), "n");
    assert_eq!(o.status, Status::Fail);
    assert!(o.reason.contains("no elected master"), "{}", o.reason);
}

#[test]
fn yellow_setting_and_thresholds() {
    let yellow = CLUSTER_HEALTH_FIXTURES
        .iter()
        .find(|(f, _)| f.contains("7.x-yellow"))
        .unwrap()
        .1;
    let h = parse(yellow.as_bytes()).unwrap();
    assert_eq!(evaluate(&es_config("yellow = \"pass\""), &h, "n").status, Status::Pass);
    assert_eq!(evaluate(&es_config("yellow = \"fail\""), &h, "n").status, Status::Fail);

    let o = evaluate(&es_config("yellow = \"pass\"\nmin_nodes = 3"), &h, "n");
    assert_eq!(o.status, Status::Fail);
    assert!(o.reason.starts_with("number_of_nodes 1 < min_nodes 3"), "{}", o.reason);
    let o = evaluate(&es_config("yellow = \"pass\"\nmax_unassigned_shards = 2"), &h, "n");
    assert!(
        o.reason.contains("unassigned_shards 3 > max_unassigned_shards 2"),
        "{}",
        o.reason
    );
    let o = evaluate(&es_config("min_data_nodes = 2\nmax_pending_tasks = 0"), &h, "n");
    assert!(
        o.reason.contains("number_of_data_nodes 1 < min_data_nodes 2"),
        "{}",
        o.reason
    );
    assert!(!o.reason.contains("pending"), "{}", o.reason);
}

#[test]
fn wrong_shapes_are_named() {
    assert!(parse(b"<html>").unwrap_err().starts_with("invalid JSON"));
    assert!(parse(br#"{"acknowledged":true}"#)
        .unwrap_err()
        .starts_with("unexpected cluster health shape"));
    assert!(parse(br#"{"status":"red","number_of_nodes":"x"}"#).is_err());
    let o = evaluate(&es_config(""), &parse(br#"{"status":"purple"}"#).unwrap(), "n");
    assert_eq!(o.status, Status::Fail);
    assert!(o.reason.contains("unknown cluster status \"purple\""));
}

macro_rules! error_fixture {
    ($file:literal) => {
        (
            $file,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/es/errors/", $file)),
        )
    };
}

#[test]
fn every_error_fixture_gives_a_precise_reason() {
    let cases = [
        (
            error_fixture!("elasticsearch-1.x-shield-401-AuthenticationException.json"),
            401,
            "authentication failed",
        ),
        (
            error_fixture!("elasticsearch-5.5.2-403-security_exception.json"),
            403,
            "authorization failed",
        ),
        (
            error_fixture!("elasticsearch-5.x-401-security_exception-missing_token.json"),
            401,
            "authentication failed",
        ),
        (
            error_fixture!("elasticsearch-6.2.2-503-master_not_discovered_exception.json"),
            503,
            "no elected master",
        ),
        (
            error_fixture!("elasticsearch-6.8.13-503-cluster_block_exception-state_not_recovered.json"),
            503,
            "cluster blocked",
        ),
        (
            error_fixture!("elasticsearch-6.x-401-security_exception-with-http-headers.json"),
            401,
            "authentication failed",
        ),
        (
            error_fixture!("elasticsearch-7.13-cloud-401-security_exception-basic-bearer-apikey.json"),
            401,
            "authentication failed",
        ),
        (
            error_fixture!("elasticsearch-7.x-503-cluster_block_exception-no_master.json"),
            503,
            "cluster blocked",
        ),
        (
            error_fixture!("elasticsearch-8.8.1-401-security_exception.json"),
            401,
            "authentication failed",
        ),
        (
            error_fixture!("elasticsearch-8.x-403-security_exception-cluster_monitor_main.json"),
            403,
            "authorization failed",
        ),
        (
            error_fixture!("opendistro-7.x-503-master_not_discovered_exception.json"),
            503,
            "no elected master",
        ),
        (
            error_fixture!("opensearch-1.x-403-security_exception-no_permissions.json"),
            403,
            "authorization failed",
        ),
        (
            error_fixture!("opensearch-401-unauthorized-body.txt"),
            401,
            "authentication failed",
        ),
        (
            error_fixture!("opensearch-503-security-not-initialized-body.txt"),
            503,
            "service unavailable",
        ),
        (
            error_fixture!("opensearch-aws-503-cluster_block_exception-no_master.json"),
            503,
            "cluster blocked",
        ),
    ];
    for ((file, body), status, want) in cases {
        let reason = errors::describe(status, body.as_bytes(), "http://n1:9200");
        assert!(reason.starts_with(want), "{file}: {reason}");
        assert!(reason.contains(&format!("HTTP {status}")), "{file}: {reason}");
        assert!(!reason.contains('\n'), "{file}: one line");
        if body.contains("\"type\"") {
            let ty = serde_json::from_str::<serde_json::Value>(body).unwrap()["error"]["type"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(reason.contains(&ty), "{file}: names the ES error type {ty}: {reason}");
        }
    }
}

fn answer(status: u16, body: &str) -> super::client::Answer {
    super::client::Answer {
        node: "http://n1:9200".into(),
        status: reqwest::StatusCode::from_u16(status).unwrap(),
        body: bytes::Bytes::from(body.to_string()),
    }
}

#[test]
fn ccr_pre_ga_shape_with_fetch_exceptions() {
    let body = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/es/ccr-stats/elasticsearch-6.5-prerelease-ccr_stats-fetch_exceptions.json"
    ));
    let cfg = es_config("mode = \"ccr\"\nfollowers = [\"my_follower\"]");
    let o = super::ccr::evaluate(&cfg, &answer(200, body));
    assert_eq!(o.status, Status::Warn, "{}", o.reason);
    assert!(o.reason.contains("follower \"my_follower\" has"), "{}", o.reason);
    assert!(
        o.reason
            .contains("read exception(s): exception: NoShardAvailableActionException"),
        "{}",
        o.reason
    );
}

#[test]
fn ccr_docs_examples() {
    let follow = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/es/ccr-stats/elasticsearch-docs-follow_stats.json"
    ));
    let all = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/es/ccr-stats/elasticsearch-docs-ccr_stats.json"
    ));
    let cfg = es_config("mode = \"ccr\"\nfollowers = [\"follower_index\"]\nmax_lag_operations = 255");
    let o = super::ccr::evaluate(&cfg, &answer(200, follow));
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.reason.contains("lag 256 operations > max_lag_operations 255"),
        "{}",
        o.reason
    );
    let o = super::ccr::evaluate(&es_config("mode = \"ccr\""), &answer(200, all));
    assert_eq!(o.status, Status::Pass, "{}", o.reason);
    let o = super::ccr::evaluate(&es_config("mode = \"ccr\""), &answer(200, r#"{"indices":"x"}"#));
    assert!(o.reason.starts_with("unexpected CCR stats answer"), "{}", o.reason);
}

#[test]
fn health_report_fixture_and_old_versions() {
    let body = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/es/health-report/elasticsearch-8.7.0-green-exporter.json"
    ));
    let cfg = es_config("mode = \"health_report\"");
    let o = super::report::evaluate(&cfg, &answer(200, body));
    assert_eq!(o.status, Status::Pass, "{}", o.reason);
    assert_eq!(
        o.facts
            .iter()
            .filter(|m| m.fact == Fact::EsHealthIndicatorStatus)
            .count(),
        8
    );
    let upper = r#"{"status":"RED","indicators":{"disk":{"status":"RED","symptom":"out of disk"},"custom_thing":{"status":"unknown"}}}"#;
    let o = super::report::evaluate(&cfg, &answer(200, upper));
    assert_eq!(o.status, Status::Fail);
    assert!(o.reason.contains("disk red: out of disk"), "{}", o.reason);
    assert!(
        !o.facts.iter().any(|m| m.subject.as_deref() == Some("custom_thing")),
        "unknown indicators are not exported as labels"
    );
    // Statuses and indicator names are upstream text: control characters must
    // not split the reason across lines (found by tests/properties.rs).
    let hostile = r#"{"status":"\r","indicators":{"di\nsk":{"status":"re\rd","symptom":"x"}}}"#;
    let o = super::report::evaluate(&cfg, &answer(200, hostile));
    assert!(!o.reason.contains(['\r', '\n']), "{:?}", o.reason);
    assert!(o.reason.contains("di sk re d: x"), "{:?}", o.reason);
    let quiet = r#"{"status":"\r","indicators":{}}"#;
    let o = super::report::evaluate(&cfg, &answer(200, quiet));
    assert!(!o.reason.contains(['\r', '\n']), "{:?}", o.reason);
    let old = r#"{"error":"no handler found for uri [/_health_report?verbose=false] and method [GET]","status":400}"#;
    let o = super::report::evaluate(&cfg, &answer(400, old));
    assert!(o.reason.contains("has no _health_report API"), "{}", o.reason);
}

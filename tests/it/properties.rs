//! Property tests (proptest, bounded, in CI): the Elasticsearch response readers
//! and the configuration parser never panic, whatever they are fed, and their
//! reasons stay one line. Inputs are random bytes, random JSON, and captured
//! fixtures with random bytes changed. Failing cases are saved under
//! `proptest-regressions/` and replayed first on every run.

use bytes::Bytes;
use healthgate::checks::elasticsearch::{ccr, client::Answer, errors, health, indices, master, report};
use healthgate::config::{CheckKind, Config, EsConfig};
use healthgate::simulator::CLUSTER_HEALTH_FIXTURES;
use healthgate::status::Status;
use proptest::prelude::*;

fn es(mode_keys: &str) -> EsConfig {
    let c = Config::from_toml_str(&format!(
        "[[checks]]\nname = \"es\"\nkind = \"elasticsearch\"\nurls = [\"http://127.0.0.1:9200\"]\n{mode_keys}\n"
    ))
    .unwrap();
    match c.checks.into_iter().next().unwrap().kind {
        CheckKind::Elasticsearch(e) => e,
        _ => unreachable!(),
    }
}

fn answer(status: u16, body: Vec<u8>) -> Answer {
    Answer {
        node: "http://n:9200".into(),
        status: reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::OK),
        body: Bytes::from(body),
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        prop_oneof![Just("green"), Just("red"), Just("NaN"), Just(""), Just("yellow")]
            .prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("status".to_string()),
                    Just("indices".to_string()),
                    Just("shards".to_string()),
                    Just("error".to_string()),
                    Just("indicators".to_string()),
                    Just("follow_stats".to_string()),
                    Just("number_of_nodes".to_string()),
                    Just("leader_global_checkpoint".to_string()),
                    Just("follower_global_checkpoint".to_string()),
                    Just("fatal_exception".to_string()),
                    Just("read_exceptions".to_string()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        (
            0..CLUSTER_HEALTH_FIXTURES.len(),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)
        )
            .prop_map(|(i, edits)| {
                let mut b = CLUSTER_HEALTH_FIXTURES[i].1.as_bytes().to_vec();
                for (at, byte) in edits {
                    let n = at.index(b.len());
                    b[n] = byte;
                }
                b
            }),
    ]
}

/// One of `known`, or a string matching `other`.
fn words(known: &[&'static str], other: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![prop::sample::select(known.to_vec()).prop_map(String::from), other]
}

fn one_line(reason: &str) {
    assert!(
        !reason.contains('\n') && !reason.contains('\r'),
        "reason spans lines: {reason:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_es_reader_survives_any_answer(status in prop_oneof![Just(200u16), Just(404), Just(408), Just(401), Just(503), 100u16..600], b in body()) {
        let a = answer(status, b.clone());
        let checks = [
            health::evaluate_answer(&es(""), &a),
            health::evaluate_answer(&es("min_nodes = 3\nmax_unassigned_shards = 0"), &a),
            ccr::evaluate(&es("mode = \"ccr\"\nfollowers = [\"f\"]\nmax_lag_operations = 10"), &a),
            ccr::evaluate(&es("mode = \"ccr\""), &a),
            report::evaluate(&es("mode = \"health_report\""), &a),
            indices::evaluate(&es("mode = \"index_health\"\nindices = [\"a\", \"b\"]"), &a),
            master::evaluate(&a),
        ];
        for o in &checks {
            one_line(&o.reason);
            if !(200..300).contains(&status) && status != 408 {
                prop_assert_eq!(o.status, Status::Fail, "non-2xx must fail: {}", o.reason);
            }
        }
        let d = errors::describe(status, &b, "n");
        one_line(&d);
        prop_assert!(d.len() < 600);
        let _ = health::parse(&b);
    }

    #[test]
    fn configuration_parsing_never_panics(text in "\\PC{0,400}") {
        let _ = Config::from_toml_str(&text);
    }

    #[test]
    fn configuration_with_random_values_reports_instead_of_panicking(
        kind in words(&["elasticsearch", "http", "tcp", "postgres", "mysql", "redis", "memcached", "dns", "exec"], "[a-z]{1,8}"),
        key in words(&["interval", "timeout", "url", "urls", "mode", "rise", "address", "command", "expect_status", "indices", "max_age"], "[a-z_]{1,12}"),
        value in prop_oneof![Just("\"2x\"".to_string()), Just("-1".to_string()), Just("[]".to_string()), Just("{}".to_string()), Just("true".to_string()), Just("\"\"".to_string()), "\"[ -~]{0,30}\"", "[0-9]{1,20}"],
    ) {
        let text = format!("[[checks]]\nname = \"c\"\nkind = \"{kind}\"\n{key} = {value}\n");
        if let Err(e) = Config::from_toml_str(&text) {
            let msg = e.to_string();
            prop_assert!(!msg.is_empty());
        }
    }
}

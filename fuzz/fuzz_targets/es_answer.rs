//! Any answer from an Elasticsearch node, for every reader: the first byte picks
//! the HTTP status, the rest is the body. Each reader returns an outcome whose
//! reason is one line, and no answer outside 2xx (or 408, which carries a health
//! body) ever passes.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use healthgate::checks::elasticsearch::{ccr, client::Answer, errors, health, indices, master, report};
use healthgate::status::Status;
use healthgate::config::{CheckKind, Config, EsConfig};
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 16] = [200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 408, 429, 500, 502, 503];

fn es(mode_keys: &str) -> EsConfig {
    let c = Config::from_toml_str(&format!(
        "[[checks]]\nname = \"es\"\nkind = \"elasticsearch\"\nurls = [\"http://127.0.0.1:9200\"]\n{mode_keys}\n"
    ))
    .expect("valid fuzz configuration");
    match c.checks.into_iter().next().map(|c| c.kind) {
        Some(CheckKind::Elasticsearch(e)) => e,
        _ => unreachable!("an elasticsearch check"),
    }
}

struct Configs {
    health: EsConfig,
    health_limits: EsConfig,
    ccr_one: EsConfig,
    ccr_all: EsConfig,
    report: EsConfig,
    indices: EsConfig,
}

fn configs() -> &'static Configs {
    static C: OnceLock<Configs> = OnceLock::new();
    C.get_or_init(|| Configs {
        health: es(""),
        health_limits: es("min_nodes = 3\nmax_unassigned_shards = 0"),
        ccr_one: es("mode = \"ccr\"\nfollowers = [\"follower\"]\nmax_lag_operations = 10"),
        ccr_all: es("mode = \"ccr\""),
        report: es("mode = \"health_report\""),
        indices: es("mode = \"index_health\"\nindices = [\"a\", \"b\"]"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(pick) % STATUSES.len()];
    let a = Answer {
        node: "http://n:9200".into(),
        status: reqwest::StatusCode::from_u16(status).expect("a valid status"),
        body: Bytes::copy_from_slice(body),
    };
    let c = configs();
    let outcomes = [
        health::evaluate_answer(&c.health, &a),
        health::evaluate_answer(&c.health_limits, &a),
        ccr::evaluate(&c.ccr_one, &a),
        ccr::evaluate(&c.ccr_all, &a),
        report::evaluate(&c.report, &a),
        indices::evaluate(&c.indices, &a),
        master::evaluate(&a),
    ];
    for o in &outcomes {
        assert!(!o.reason.contains(['\n', '\r']), "reason spans lines: {:?}", o.reason);
        if !(200..300).contains(&status) && status != 408 {
            assert_eq!(o.status, Status::Fail, "HTTP {status} passed: {}", o.reason);
        }
    }
    let d = errors::describe(status, body, "n");
    assert!(!d.contains(['\n', '\r']) && d.len() < 600, "describe: {d:?}");
    let _ = health::parse(body);
});

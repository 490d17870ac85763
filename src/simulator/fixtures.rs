//! The captured answers the simulator serves (`fixtures/es/`, compiled in), the
//! versions it can pretend to be, and the one cluster identity its colour modes
//! share.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/es/", $path))
    };
}

/// Every `cluster-health/` fixture, by file name, for `Mode::Fixture`.
pub const CLUSTER_HEALTH_FIXTURES: &[(&str, &str)] = &[
    (
        "elasticsearch-0.90.x-yellow-timed_out-http200.json",
        fixture!("cluster-health/elasticsearch-0.90.x-yellow-timed_out-http200.json"),
    ),
    (
        "elasticsearch-1.7.1-green.json",
        fixture!("cluster-health/elasticsearch-1.7.1-green.json"),
    ),
    (
        "elasticsearch-1.7.1-red.json",
        fixture!("cluster-health/elasticsearch-1.7.1-red.json"),
    ),
    (
        "elasticsearch-1.7.6-yellow.json",
        fixture!("cluster-health/elasticsearch-1.7.6-yellow.json"),
    ),
    (
        "elasticsearch-2.4.5-yellow.json",
        fixture!("cluster-health/elasticsearch-2.4.5-yellow.json"),
    ),
    (
        "elasticsearch-2.x-red-zero-shards-NaN-percent.json",
        fixture!("cluster-health/elasticsearch-2.x-red-zero-shards-NaN-percent.json"),
    ),
    (
        "elasticsearch-5.2.2-green.json",
        fixture!("cluster-health/elasticsearch-5.2.2-green.json"),
    ),
    (
        "elasticsearch-5.4.2-yellow.json",
        fixture!("cluster-health/elasticsearch-5.4.2-yellow.json"),
    ),
    (
        "elasticsearch-5.x-red.json",
        fixture!("cluster-health/elasticsearch-5.x-red.json"),
    ),
    (
        "elasticsearch-6.x-yellow.json",
        fixture!("cluster-health/elasticsearch-6.x-yellow.json"),
    ),
    (
        "elasticsearch-7.13.1-yellow-SEMISYNTHETIC.json",
        fixture!("cluster-health/elasticsearch-7.13.1-yellow-SEMISYNTHETIC.json"),
    ),
    (
        "elasticsearch-7.x-yellow-compact.json",
        fixture!("cluster-health/elasticsearch-7.x-yellow-compact.json"),
    ),
    (
        "elasticsearch-8.x-cloud-red.json",
        fixture!("cluster-health/elasticsearch-8.x-cloud-red.json"),
    ),
    (
        "elasticsearch-docs-yellow.json",
        fixture!("cluster-health/elasticsearch-docs-yellow.json"),
    ),
    (
        "opensearch-1.x-docs-green.json",
        fixture!("cluster-health/opensearch-1.x-docs-green.json"),
    ),
    (
        "opensearch-2.x-docs-green-level_awareness_attributes.json",
        fixture!("cluster-health/opensearch-2.x-docs-green-level_awareness_attributes.json"),
    ),
    (
        "opensearch-3.x-yellow.json",
        fixture!("cluster-health/opensearch-3.x-yellow.json"),
    ),
];

/// `GET /` answers by version (the simulator's default is the first).
pub const INFO_FIXTURES: &[(&str, &str)] = &[
    ("8.17.0", fixture!("info/elasticsearch-8.17.0.json")),
    ("7.17.0", fixture!("info/elasticsearch-7.17.0.json")),
    ("6.3.2", fixture!("info/elasticsearch-6.3.2.json")),
];

pub(super) const GREEN: &str = fixture!("cluster-health/elasticsearch-5.2.2-green.json");
pub(super) const YELLOW: &str = fixture!("cluster-health/elasticsearch-7.x-yellow-compact.json");
pub(super) const RED: &str = fixture!("cluster-health/elasticsearch-8.x-cloud-red.json");
pub(super) const NO_MASTER: &str = fixture!("errors/opendistro-7.x-503-master_not_discovered_exception.json");
pub(super) const BLOCKED: &str = fixture!("errors/elasticsearch-7.x-503-cluster_block_exception-no_master.json");
pub(super) const UNAUTHORIZED: &str = fixture!("errors/elasticsearch-8.8.1-401-security_exception.json");
pub(super) const FORBIDDEN: &str =
    fixture!("errors/elasticsearch-8.x-403-security_exception-cluster_monitor_main.json");

/// Looks up a cluster-health fixture by file name.
pub(super) fn cluster_health_fixture(name: &str) -> Option<&'static str> {
    CLUSTER_HEALTH_FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
}

/// The simulator's answers.
pub(super) type Resp = Response<Body>;

/// A fixture file parsed as JSON (fixtures are part of the build).
pub(super) fn fixture_value(path: &str) -> serde_json::Value {
    let text = match path {
        "ccr-stats/elasticsearch-docs-follow_stats.json" => fixture!("ccr-stats/elasticsearch-docs-follow_stats.json"),
        "ccr-stats/elasticsearch-docs-ccr_stats.json" => fixture!("ccr-stats/elasticsearch-docs-ccr_stats.json"),
        "ccr-info/elasticsearch-docs-follow_info-active.json" => {
            fixture!("ccr-info/elasticsearch-docs-follow_info-active.json")
        }
        "health-report/elasticsearch-8.7.0-green-exporter.json" => {
            fixture!("health-report/elasticsearch-8.7.0-green-exporter.json")
        }
        _ => "null",
    };
    serde_json::from_str(text).expect("fixtures are valid JSON")
}

/// A JSON answer; `product` adds `X-elastic-product` (absent on 401s).
pub(super) fn json(status: StatusCode, body: impl Into<Body>, product: bool) -> Resp {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if product {
        r.headers_mut()
            .insert("x-elastic-product", HeaderValue::from_static("Elasticsearch"));
    }
    r
}

/// The simulated cluster's name, the one in the default `GET /` answer: every
/// colour mode answers for this one cluster.
pub(super) const CLUSTER_NAME: &str = "elasticsearch";

/// A captured health body re-labelled as the simulated cluster: its name, and
/// `nodes` nodes, all of them data nodes. A real cluster changing colour keeps
/// its name and roughly its node count; the captures come from three different
/// clusters.
pub(super) fn as_simulated_cluster(body: &str, nodes: u64) -> String {
    let mut doc: Value = serde_json::from_str(body).expect("fixtures are valid JSON");
    doc["cluster_name"] = json!(CLUSTER_NAME);
    doc["number_of_nodes"] = json!(nodes);
    doc["number_of_data_nodes"] = json!(nodes);
    doc.to_string()
}

/// The major version of an info body (`version.number`), 0 when unreadable.
pub(super) fn major_version(info: &str) -> u64 {
    serde_json::from_str::<Value>(info)
        .ok()
        .and_then(|v| v["version"]["number"].as_str()?.split('.').next()?.parse().ok())
        .unwrap_or(0)
}

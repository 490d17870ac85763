//! The Grafana dashboard (`examples/grafana/healthgate.json`). Grafana itself
//! is not installable here, so what can be proven is proven without it: the
//! JSON is a dashboard Grafana imports (a `datasource` variable, `job` and
//! `instance` variables, unique panel ids, no hard-coded data source), and
//! every PromQL expression in it (panel targets and variable queries, with
//! `$job`, `$instance` and `$__rate_interval` substituted as Grafana would)
//! returns data from a real Prometheus that has scraped a running healthgate,
//! with the shipped recording rules loaded (the DR panels: two simulated
//! clusters with a failback gate).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use yaml_rust2::YamlLoader;

use crate::support::app::*;
use crate::support::prometheus::{has_result_within, start_prometheus, wait_for_result};

const DASHBOARD: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/grafana/healthgate.json"));
const RULES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/prometheus/healthgate.rules.yml"
));
const DATASOURCE: &str = "${datasource}";

fn dashboard() -> Value {
    serde_json::from_str(DASHBOARD).expect("healthgate.json is JSON")
}

/// Every (panel title, expression) of the dashboard, variable queries included.
fn expressions(d: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push((
                p["title"].as_str().unwrap().to_string(),
                t["expr"].as_str().unwrap().to_string(),
            ));
        }
    }
    for v in d["templating"]["list"].as_array().unwrap() {
        if v["type"] == "query" {
            out.push((
                format!("variable {}", v["name"]),
                v["query"]["query"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// Grafana's `label_values(selector, label)` as the PromQL it stands for;
/// other expressions unchanged.
fn as_promql(expr: &str) -> String {
    match expr.strip_prefix("label_values(").and_then(|e| e.strip_suffix(')')) {
        Some(args) => {
            let (selector, label) = args.rsplit_once(',').expect("label_values(selector, label)");
            format!("count by ({}) ({})", label.trim(), selector.trim())
        }
        None => expr.to_string(),
    }
}

#[test]
fn dashboard_is_importable_and_names_no_datasource() {
    let d = dashboard();
    assert!(d["schemaVersion"].as_u64().unwrap() >= 39, "a current Grafana schema");
    assert!(d["uid"].is_string() && d["title"].is_string());
    let vars = d["templating"]["list"].as_array().unwrap();
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no ${name}"))
    };
    assert_eq!(var("datasource")["type"], "datasource");
    assert_eq!(var("datasource")["query"], "prometheus");
    for name in ["job", "instance"] {
        assert_eq!(var(name)["type"], "query");
        assert_eq!(var(name)["datasource"]["uid"], DATASOURCE, "${name} uses $datasource");
    }
    let mut ids = HashSet::new();
    for p in d["panels"].as_array().unwrap() {
        let title = p["title"].as_str().unwrap();
        assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate panel id in {title}");
        let g = &p["gridPos"];
        assert!(
            g["x"].as_u64().unwrap() + g["w"].as_u64().unwrap() <= 24,
            "{title} fits the 24-column grid"
        );
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(
            p["datasource"]["uid"], DATASOURCE,
            "{title}: the panel's data source is $datasource"
        );
        assert!(
            p["description"].as_str().is_some_and(|s| !s.is_empty()),
            "{title}: a description"
        );
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}: a query");
        for t in targets {
            assert_eq!(
                t["datasource"]["uid"], DATASOURCE,
                "{title}: the query's data source is $datasource"
            );
        }
    }
    // No data source UID other than the variable, anywhere.
    let mut stack = vec![&d];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                if let Some(uid) = m.get("uid").and_then(Value::as_str) {
                    assert!(
                        [DATASOURCE, "healthgate", "-- Grafana --"].contains(&uid),
                        "hard-coded uid {uid}"
                    );
                }
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
}

#[test]
fn recording_rules_the_dashboard_uses_are_shipped() {
    let docs = YamlLoader::load_from_str(RULES).unwrap();
    let mut recorded = HashSet::new();
    for g in docs[0]["groups"].as_vec().unwrap() {
        for r in g["rules"].as_vec().unwrap() {
            if let Some(name) = r["record"].as_str() {
                recorded.insert(name.to_string());
            }
        }
    }
    let mut used = 0;
    for (title, expr) in expressions(&dashboard()) {
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
            if word.contains(':') && word.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                assert!(
                    recorded.contains(word),
                    "{title}: {word} is not a shipped recording rule"
                );
                used += 1;
            }
        }
    }
    assert!(used >= 2, "the dashboard is built on the alerts' recording rules");
}

#[tokio::test]
async fn every_dashboard_query_returns_data_from_a_real_prometheus() {
    // The primary (the Elasticsearch checks' cluster) and a secondary that
    // follows it, for the DR panels: a gate on each side, so both lags exist
    // (from the secondary's side its follower is "re-seeding").
    let (sim, secondary) = crate::failback::two_clusters().await;
    let url = sim.url();
    let mut cfg = es_check("es", std::slice::from_ref(&url), "300ms", "200ms", "min_nodes = 1");
    cfg.push_str(&es_check(
        "ccr",
        std::slice::from_ref(&url),
        "300ms",
        "200ms",
        "mode = \"ccr\"\nfollowers = [\"follower_index\"]",
    ));
    cfg.push_str(&crate::failback::gate_check(&url, &secondary.url(), ""));
    cfg.push_str(
        &crate::failback::gate_check(&secondary.url(), &url, "").replace("name = \"dr\"", "name = \"dr-reverse\""),
    );
    let app = spawn_app(&cfg).await;
    let prom = start_prometheus(&app.addr.to_string(), RULES);
    wait_for_result(prom.port, "healthgate_build_info", Duration::from_secs(30)).await;
    // Probe traffic for the serving panels, bounded in count and time.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let target = app.addr.to_string();
    let t0 = Instant::now();
    for _ in 0..40 {
        let _ = client.get(app.url("/healthz")).send().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(t0.elapsed() < Duration::from_secs(20));

    let mut empty = Vec::new();
    for (title, expr) in expressions(&dashboard()) {
        let promql = as_promql(
            &expr
                .replace("$job", "healthgate")
                .replace("$instance", &target)
                .replace("$__rate_interval", "10s"),
        );
        // Rates need two samples in their window: allow a few scrapes.
        if !has_result_within(prom.port, &promql, Duration::from_secs(10)).await {
            empty.push(format!("{title}: {promql}"));
        }
    }
    assert!(empty.is_empty(), "queries with no result:\n{}", empty.join("\n"));
}

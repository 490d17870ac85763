//! The shipped Prometheus rules and healthgate's /metrics, checked by the real
//! promtool and a real Prometheus (Debian `prometheus`, installed by scripts/test).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use healthgate::simulator::Mode;

use crate::support::app::*;
use crate::support::prometheus::{get_json, start_prometheus, tool, wait_for_result};

const RULES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/prometheus");

#[test]
fn shipped_rules_pass_promtool_check_and_unit_tests() {
    let out = Command::new(tool("promtool"))
        .args(["check", "rules", "healthgate.rules.yml"])
        .current_dir(RULES_DIR)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = Command::new(tool("promtool"))
        .args(["test", "rules", "healthgate.rules.test.yml"])
        .current_dir(RULES_DIR)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("SUCCESS"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(tool("promtool"))
        .args(["check", "config", "prometheus.yml"])
        .current_dir(RULES_DIR)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn metrics_pass_promtool_check_metrics_without_warnings() {
    let sim = spawn_sim().await;
    let url = sim.url();
    let mut cfg = String::new();
    cfg.push_str(&es_check(
        "es",
        std::slice::from_ref(&url),
        "200ms",
        "100ms",
        "min_nodes = 1",
    ));
    cfg.push_str(&es_check(
        "ccr",
        std::slice::from_ref(&url),
        "200ms",
        "100ms",
        "mode = \"ccr\"\nfollowers = [\"follower_index\"]",
    ));
    cfg.push_str(&es_check(
        "report",
        std::slice::from_ref(&url),
        "200ms",
        "100ms",
        "mode = \"health_report\"",
    ));
    cfg.push_str(&es_check(
        "idx",
        std::slice::from_ref(&url),
        "200ms",
        "100ms",
        "mode = \"index_health\"\nindices = [\"orders\"]",
    ));
    cfg.push_str(&es_check(
        "master",
        std::slice::from_ref(&url),
        "200ms",
        "100ms",
        "mode = \"master\"",
    ));
    cfg.push_str(&format!(
        "[[checks]]\nname = \"app\"\nkind = \"http\"\nurl = \"{url}/\"\njitter = \"0s\"\ninterval = \"200ms\"\ntimeout = \"100ms\"\n"
    ));
    let app = spawn_app(&cfg).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| {
        a.status == 200 && !a.body.contains("unknown")
    })
    .await;
    app.get("/healthz?verbose").await;
    app.get("/nope").await;
    let metrics = app.get("/metrics").await.body;
    let mut child = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics said:\n{said}"
    );
    // Every family the README documents is present.
    for family in [
        "healthgate_check_status",
        "healthgate_check_duration_seconds_bucket",
        "healthgate_check_runs_total",
        "healthgate_check_consecutive_failures",
        "healthgate_check_last_transition_timestamp_seconds",
        "healthgate_check_transitions_total",
        "healthgate_check_result_age_seconds",
        "healthgate_check_max_age_seconds",
        "healthgate_check_critical",
        "healthgate_status",
        "healthgate_draining",
        "healthgate_build_info",
        "healthgate_es_cluster_status",
        "healthgate_es_nodes",
        "healthgate_es_data_nodes",
        "healthgate_es_active_shards",
        "healthgate_es_active_primary_shards",
        "healthgate_es_relocating_shards",
        "healthgate_es_initializing_shards",
        "healthgate_es_unassigned_shards",
        "healthgate_es_delayed_unassigned_shards",
        "healthgate_es_active_shards_percent",
        "healthgate_es_pending_tasks",
        "healthgate_es_task_max_waiting_seconds",
        "healthgate_es_expected_nodes",
        "healthgate_es_ccr_lag_operations",
        "healthgate_es_ccr_time_since_last_read_seconds",
        "healthgate_es_ccr_read_exceptions",
        "healthgate_es_ccr_fatal_exception",
        "healthgate_es_health_report_status",
        "healthgate_es_health_indicator_status",
        "healthgate_es_index_status",
        "healthgate_es_master_present",
        "healthgate_http_check_status_code",
        "healthgate_http_requests_total",
        "healthgate_http_request_duration_seconds_bucket",
        "healthgate_upstream_requests_total",
        "healthgate_check_flapping",
        "process_resident_memory_bytes",
    ] {
        assert!(
            metrics.lines().any(|l| l.starts_with(family)),
            "family {family} missing"
        );
    }
    // Addresses appear only as the configured `host:port` of the upstream
    // counter's `target` label (never a URL, a path or an error text).
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let rest = line
            .strip_prefix("healthgate_upstream_requests_total{")
            .map(|l| l.split(",target=\"127.0.0.1:").next().unwrap_or_default());
        let checked = rest.unwrap_or(line);
        assert!(!checked.contains("127.0.0.1"), "no URL or address in labels: {line}");
        assert!(!line.contains("http://"), "no URL in labels: {line}");
    }
}

/// The state (`pending`/`firing`) of an alert, or `None` when inactive.
async fn alert_state(port: u16, name: &str) -> Option<String> {
    let v = get_json(&format!("http://127.0.0.1:{port}/api/v1/alerts")).await?;
    v["data"]["alerts"]
        .as_array()?
        .iter()
        .find(|a| a["labels"]["alertname"] == name)
        .and_then(|a| a["state"].as_str().map(str::to_string))
}

#[tokio::test]
async fn real_prometheus_sees_the_red_alert_pend_fire_and_resolve() {
    let sim = spawn_sim().await;
    let app = spawn_app(&es_check("es", &[sim.url()], "500ms", "250ms", "")).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 200)
        .await;
    // The shipped rules, with the RED alert's `for` shortened for the test.
    let rules = std::fs::read_to_string(Path::new(RULES_DIR).join("healthgate.rules.yml")).unwrap();
    let at = rules.find("alert: ElasticsearchClusterRed").unwrap();
    let for_at = at + rules[at..].find("for: 1m").unwrap();
    let rules = format!("{}for: 3s{}", &rules[..for_at], &rules[for_at + "for: 1m".len()..]);
    let prom = start_prometheus(&app.addr.to_string(), &rules);

    // Wait until Prometheus scrapes healthgate (its target refresh takes ~5 s).
    wait_for_result(prom.port, "healthgate_es_cluster_status", Duration::from_secs(30)).await;
    assert_eq!(alert_state(prom.port, "ElasticsearchClusterRed").await, None);

    sim.set_mode(Mode::Red).await.unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.last().map(String::as_str) != Some("firing") {
        if let Some(s) = alert_state(prom.port, "ElasticsearchClusterRed").await {
            if seen.last() != Some(&s) {
                seen.push(s);
            }
        }
        assert!(
            Instant::now() < deadline,
            "RED alert did not fire; states seen: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, ["pending", "firing"], "the alert goes pending, then firing");

    sim.set_mode(Mode::Green).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while alert_state(prom.port, "ElasticsearchClusterRed").await.is_some() {
        assert!(Instant::now() < deadline, "RED alert did not resolve after green");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

//! Alerts delivered end to end: the shipped rules in a real Prometheus, the
//! shipped `examples/alertmanager/alertmanager.yml` in a real Alertmanager,
//! the shipped example webhook receiver at the end. Only timers are shortened
//! for the test (every rule's `for:` to 2 s, the group timers to seconds);
//! routes, grouping and inhibition are the example's own.

use std::process::Command;
use std::time::Duration;

use healthgate::simulator::Mode;

use crate::support::alertmanager::{start_alertmanager, Receiver, EXAMPLE};
use crate::support::app::*;
use crate::support::prometheus::{get_json, start_prometheus_alerting, tool, wait_for_result};

const RULES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/prometheus/healthgate.rules.yml"
));

/// amtool's standard output (it warns on stderr that --config.file wins over
/// an Alertmanager URL).
fn amtool(args: &[&str]) -> String {
    let out = Command::new(tool("amtool")).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "amtool {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn example_passes_amtool_and_routes_by_severity() {
    let said = amtool(&["check-config", EXAMPLE]);
    assert!(said.contains("SUCCESS"), "{said}");
    let file = format!("--config.file={EXAMPLE}");
    for (labels, receiver) in [
        (
            ["alertname=ElasticsearchClusterRed", "severity=page", "job=healthgate"],
            "page",
        ),
        (
            [
                "alertname=ElasticsearchClusterYellow",
                "severity=warning",
                "job=healthgate",
            ],
            "warning",
        ),
        (
            ["alertname=SomethingElse", "severity=info", "job=healthgate"],
            "warning",
        ),
    ] {
        let mut args = vec!["config", "routes", "test", file.as_str()];
        args.extend(labels);
        assert_eq!(amtool(&args).trim(), receiver, "{labels:?}");
    }
}

/// The example with its receivers pointed at `port` and its timers in seconds.
fn example_for_test(port: u16) -> String {
    std::fs::read_to_string(EXAMPLE)
        .unwrap()
        .replace("http://127.0.0.1:9095/", &format!("http://127.0.0.1:{port}/"))
        .replace("group_wait: 30s", "group_wait: 3s")
        .replace("group_interval: 5m", "group_interval: 1s")
}

/// The shipped rules with every `for:` shortened to 2 s.
fn rules_for_test() -> String {
    RULES
        .lines()
        .map(|l| match l.trim_start().strip_prefix("for: ") {
            Some(_) => format!("{}for: 2s", &l[..l.len() - l.trim_start().len()]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn red_cluster_pages_then_resolves_with_per_instance_alerts_inhibited() {
    let sim = spawn_sim().await;
    let app = spawn_app(&es_check("es", &[sim.url()], "500ms", "250ms", "")).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 200)
        .await;
    let receiver = Receiver::start();
    let am = start_alertmanager(&example_for_test(receiver.port));
    let prom = start_prometheus_alerting(
        &app.addr.to_string(),
        &rules_for_test(),
        Some(&format!("127.0.0.1:{}", am.port)),
    );
    wait_for_result(prom.port, "healthgate_es_cluster_status", Duration::from_secs(30)).await;

    sim.set_mode(Mode::Red).await.unwrap();
    let within = Duration::from_secs(40);
    let red = receiver.wait_line("page FIRING ElasticsearchClusterRed", within).await;
    if red.is_none() {
        // Where the alert stopped: Prometheus's rules, Alertmanager's alerts.
        let rules = get_json(&format!("http://127.0.0.1:{}/api/v1/alerts", prom.port)).await;
        let held = get_json(&format!("http://127.0.0.1:{}/api/v2/alerts", am.port)).await;
        panic!(
            "no page for the red cluster; received: {:?}\nPrometheus alerts: {rules:?}\nAlertmanager alerts: {held:?}",
            receiver.lines()
        );
    }
    let red = red.unwrap();
    assert!(red.contains("job=healthgate") && red.contains("check=es"), "{red}");
    let fleet = receiver
        .wait_line("page FIRING HealthgateMajorityFailing", within)
        .await;
    assert!(
        fleet.is_some(),
        "no page for the fleet; received: {:?}",
        receiver.lines()
    );
    // The instance's own alert reached Alertmanager and is held back there by
    // the inhibition rules, not lost on the way.
    let suppressed = wait_suppressed(am.port, "HealthgateCriticalCheckFailing", within).await;
    assert!(
        suppressed,
        "HealthgateCriticalCheckFailing never showed as inhibited in Alertmanager"
    );

    sim.set_mode(Mode::Green).await.unwrap();
    let resolved = receiver
        .wait_line("page RESOLVED ElasticsearchClusterRed", within)
        .await;
    assert!(
        resolved.is_some(),
        "no resolution after green; received: {:?}",
        receiver.lines()
    );
    // Muted from start to end: no notification ever named it.
    let lines = receiver.lines();
    assert!(
        !lines.iter().any(|l| l.contains("HealthgateCriticalCheckFailing")),
        "the per-instance alert was not inhibited: {lines:?}"
    );
}

/// Waits until Alertmanager holds `alertname` as suppressed by an inhibition.
async fn wait_suppressed(port: u16, alertname: &str, within: Duration) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        let alerts = get_json(&format!("http://127.0.0.1:{port}/api/v2/alerts")).await;
        let held = alerts.as_ref().and_then(|v| v.as_array()).is_some_and(|list| {
            list.iter().any(|a| {
                a["labels"]["alertname"] == alertname
                    && a["status"]["state"] == "suppressed"
                    && a["status"]["inhibitedBy"].as_array().is_some_and(|by| !by.is_empty())
            })
        });
        if held {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

//! A real Prometheus (Debian `prometheus`) as a test child, and its tools.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::process::{free_port, signal, Signal};

/// A Prometheus tool (`prometheus`, `promtool`), wherever Debian put it.
pub fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} not found: run ./scripts/test, which installs the Debian package prometheus");
}

/// A Prometheus child in a temp dir, stopped on drop.
pub struct Prometheus {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        signal(&self.child, Signal::TERM);
        let _ = self.child.wait();
    }
}

/// Starts Prometheus scraping `target` every second, with `rules` loaded.
pub fn start_prometheus(target: &str, rules: &str) -> Prometheus {
    start_prometheus_alerting(target, rules, None)
}

/// [`start_prometheus`], sending its alerts to the Alertmanager at
/// `alertmanager` (`host:port`) when given.
pub fn start_prometheus_alerting(target: &str, rules: &str, alertmanager: Option<&str>) -> Prometheus {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), rules).unwrap();
    let alerting = alertmanager
        .map(|am| format!("alerting: {{alertmanagers: [{{static_configs: [{{targets: [\"{am}\"]}}]}}]}}\n"))
        .unwrap_or_default();
    let cfg = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [\"{}\"]\n{alerting}scrape_configs: [{{job_name: healthgate, static_configs: [{{targets: [\"{target}\"]}}]}}]\n",
        dir.path().join("rules.yml").display()
    );
    std::fs::write(dir.path().join("prometheus.yml"), cfg).unwrap();
    let port = free_port();
    let child = Command::new(tool("prometheus"))
        .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Prometheus { child, port, _dir: dir }
}

/// The result vector of an instant query, or `None` when Prometheus did not answer it.
pub async fn query(port: u16, expr: &str) -> Option<Vec<serde_json::Value>> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let text = client
        .get(format!("http://127.0.0.1:{port}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["data"]["result"].as_array().cloned()
}

/// Waits until `expr` has a result: Prometheus has scraped what it needs
/// (its first scrape waits for the ~5 s target-update throttle).
pub async fn wait_for_result(port: u16, expr: &str, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    while query(port, expr).await.is_none_or(|r| r.is_empty()) {
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus has no result for {expr} after {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

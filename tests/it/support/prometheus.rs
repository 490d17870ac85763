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
    start_prometheus_job(target, rules, alertmanager, "")
}

/// [`start_prometheus_alerting`] with more keys in the scrape job (a YAML
/// flow fragment such as `scheme: https, tls_config: {ca_file: ...}`).
pub fn start_prometheus_job(target: &str, rules: &str, alertmanager: Option<&str>, job: &str) -> Prometheus {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), rules).unwrap();
    let alerting = alertmanager
        .map(|am| format!("alerting: {{alertmanagers: [{{static_configs: [{{targets: [\"{am}\"]}}]}}]}}\n"))
        .unwrap_or_default();
    let cfg = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [\"{}\"]\n{alerting}scrape_configs: [{{job_name: healthgate, {job}{comma} static_configs: [{{targets: [\"{target}\"]}}]}}]\n",
        dir.path().join("rules.yml").display(),
        comma = if job.is_empty() { "" } else { "," },
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

/// GETs `url` and parses its body as JSON; `None` when there is no answer or
/// it is not JSON (the servers polled here may still be starting).
pub async fn get_json(url: &str) -> Option<serde_json::Value> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let text = client.get(url).send().await.ok()?.text().await.ok()?;
    serde_json::from_str(&text).ok()
}

/// The result vector of an instant query, or `None` when Prometheus did not answer it.
pub async fn query(port: u16, expr: &str) -> Option<Vec<serde_json::Value>> {
    let q: String = form_urlencoded::byte_serialize(expr.as_bytes()).collect();
    let v = get_json(&format!("http://127.0.0.1:{port}/api/v1/query?query={q}")).await?;
    v["data"]["result"].as_array().cloned()
}

/// Whether `expr` has a result within `within` (polling every 200 ms).
pub async fn has_result_within(port: u16, expr: &str, within: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if query(port, expr).await.is_some_and(|r| !r.is_empty()) {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Waits until `expr` has a result: Prometheus has scraped what it needs
/// (its first scrape waits for the ~5 s target-update throttle).
pub async fn wait_for_result(port: u16, expr: &str, within: std::time::Duration) {
    assert!(
        has_result_within(port, expr, within).await,
        "Prometheus has no result for {expr} after {within:?}"
    );
}

//! Test helpers: a running healthgate on port 0 next to a simulator.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use healthgate::app::App;
use healthgate::config::Config;
use healthgate::simulator::Simulator;
use tokio::sync::oneshot;

/// The slowest `/healthz` round trip a test accepts while a dependency is hung,
/// paused or failing. Every such test injects delays or timeouts of 90 ms and
/// more, so a probe that waited on a dependency would miss this; the margin is
/// for the test's own client, which shares two cores with the checks and with
/// other test binaries (10 ms was exceeded by that noise alone in loaded runs).
/// The server-side cost, microseconds, is what `bench/run` measures.
pub const FAST_PROBE: Duration = Duration::from_millis(50);

/// A running healthgate.
pub struct TestApp {
    pub addr: SocketAddr,
    pub agent: Option<SocketAddr>,
    pub grpc: Option<SocketAddr>,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Starts a simulator on a free loopback port.
pub async fn spawn_sim() -> Simulator {
    Simulator::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

/// Starts healthgate with `toml` (its `[server] listen` is forced to port 0, grace 0s).
pub async fn spawn_app(toml: &str) -> TestApp {
    spawn_app_with("", toml).await
}

/// Like [`spawn_app`], with extra `[server]` keys.
pub async fn spawn_app_with(server_extra: &str, toml: &str) -> TestApp {
    spawn_app_on("127.0.0.1:0", "0s", server_extra, toml).await
}

/// Like [`spawn_app`], on a given address and shutdown grace.
pub async fn spawn_app_on(listen: &str, grace: &str, server_extra: &str, toml: &str) -> TestApp {
    spawn_app_config(&format!(
        "[server]\nlisten = \"{listen}\"\nshutdown_grace = \"{grace}\"\nshow_details = \"always\"\n{server_extra}\n{toml}"
    ))
    .await
}

/// Starts healthgate with exactly this configuration.
pub async fn spawn_app_config(full: &str) -> TestApp {
    let config = Config::from_toml_str(full).unwrap_or_else(|e| panic!("test config invalid: {e}"));
    let app = App::build(config).await.expect("app builds");
    let addr = app.local_addr();
    let agent = app.agent_addr();
    let grpc = app.grpc_addr();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(app.run(async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        agent,
        grpc,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        stop: Some(tx),
        task: Some(task),
    }
}

/// A non-critical tcp check against a port nothing listens on: it fails at
/// once with `connection refused`, for tests about the listener, not checks.
pub fn refused_check() -> String {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    format!("[[checks]]\nname = \"t\"\nkind = \"tcp\"\naddress = \"{addr}\"\ncritical = false\ninterval = \"10s\"\ntimeout = \"200ms\"\n")
}

/// An Elasticsearch check against the simulator, 200 ms interval, 300 ms... timeout as given.
pub fn es_check(name: &str, urls: &[String], interval: &str, timeout: &str, extra: &str) -> String {
    let urls: Vec<String> = urls.iter().map(|u| format!("\"{u}\"")).collect();
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"elasticsearch\"\nurls = [{}]\ninterval = \"{interval}\"\ntimeout = \"{timeout}\"\njitter = \"0s\"\n{extra}\n",
        urls.join(", ")
    )
}

/// One answer from healthgate.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub json: serde_json::Value,
    pub elapsed: Duration,
}

impl TestApp {
    /// Connects to the agent listener and reads its one line.
    pub async fn agent_line(&self) -> String {
        use tokio::io::AsyncReadExt;
        let mut s = tokio::net::TcpStream::connect(self.agent.expect("agent_listen configured"))
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> Answer {
        let t = Instant::now();
        let r = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("healthgate answers");
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        let elapsed = t.elapsed();
        let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            body,
            json,
            elapsed,
        }
    }

    /// Polls `path` until `pred` holds, panicking with the last answer after `within`.
    pub async fn wait_for(&self, path: &str, within: Duration, pred: impl Fn(&Answer) -> bool) -> Answer {
        let deadline = Instant::now() + within;
        loop {
            let a = self.get(path).await;
            if pred(&a) {
                return a;
            }
            if Instant::now() > deadline {
                panic!(
                    "condition not met within {within:?}; last answer {}: {}",
                    a.status, a.body
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts shutdown (drain, grace, exit) without waiting for it.
    pub fn begin_shutdown(&mut self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.take().expect("running")
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The output of the one check in an aggregate body.
pub fn output_of(a: &Answer, key: &str) -> String {
    a.json["checks"][key][0]["output"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The status of the one check in an aggregate body.
pub fn status_of(a: &Answer, key: &str) -> String {
    a.json["checks"][key][0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `healthgate_check_runs_total{check, outcome}` in a scrape (0 when absent).
pub fn runs_total(metrics: &str, check: &str, outcome: &str) -> u64 {
    let prefix = format!("healthgate_check_runs_total{{check=\"{check}\",outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

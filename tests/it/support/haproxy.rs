//! A real HAProxy (Debian `haproxy`) as a test child, read through its stats
//! socket, and stand-in backends for it to route to.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use tokio::task::JoinSet;

use super::process::{signal, Signal};

/// The shipped HAProxy configurations.
pub const CONFIGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/haproxy");

/// A stand-in application (or Elasticsearch node): `/` answers its name,
/// `/health` answers 200 or 500.
pub struct Backend {
    pub addr: SocketAddr,
    pub healthy: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn backend(name: &'static str, addr: &str) -> Backend {
    let healthy = Arc::new(AtomicBool::new(true));
    let h = healthy.clone();
    let app = axum::Router::new().route("/", get(move || async move { name })).route(
        "/health",
        get(move || {
            let ok = h.load(Ordering::SeqCst);
            async move {
                if ok {
                    (axum::http::StatusCode::OK, "ok")
                } else {
                    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down")
                }
            }
        }),
    );
    let addr: SocketAddr = addr.parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    let listener = socket.listen(128).unwrap();
    let addr = listener.local_addr().unwrap();
    // Connections live in a set owned by the accept task: aborting the task
    // really stops the server, open keep-alive connections included.
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            while conns.try_join_next().is_some() {}
            let svc = hyper_util::service::TowerToHyperService::new(app.clone());
            conns.spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Backend { addr, healthy, task }
}

/// A HAProxy child with its stats socket, stopped on drop.
pub struct Haproxy {
    child: Child,
    sock: PathBuf,
    pub frontend: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        // SIGUSR1 is HAProxy's soft stop.
        signal(&self.child, Signal::USR1);
        let _ = self.child.wait();
    }
}

pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Starts HAProxy on `config` (a file of the shipped `haproxy/` directory, or
/// an absolute path), after `haproxy -c` accepts it; `env` fills its variables.
pub fn start_haproxy(config: &str, env: &[(&str, String)]) -> Haproxy {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("admin.sock");
    let frontend = free_addr();
    let cfg = PathBuf::from(CONFIGS).join(config);
    let check = Command::new("haproxy")
        .arg("-c")
        .arg("-f")
        .arg(&cfg)
        .env("STATS_SOCKET", &sock)
        .output();
    let check = check.expect("haproxy not found: run ./scripts/test, which installs the Debian package haproxy");
    assert!(
        check.status.success(),
        "{config}: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let mut cmd = Command::new("haproxy");
    cmd.arg("-db")
        .arg("-f")
        .arg(&cfg)
        .env("STATS_SOCKET", &sock)
        .env("FRONTEND_BIND", frontend.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let hap = Haproxy {
        child,
        sock,
        frontend,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::os::unix::net::UnixStream::connect(&hap.sock).is_err() {
        assert!(Instant::now() < deadline, "HAProxy did not open its stats socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    hap
}

impl Haproxy {
    /// `show stat` rows keyed by `backend/server`, each a map of column → value.
    pub fn stat(&self) -> HashMap<String, HashMap<String, String>> {
        let mut s = std::os::unix::net::UnixStream::connect(&self.sock).unwrap();
        s.write_all(b"show stat\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let mut lines = out.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or_default()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let row: HashMap<String, String> = header
                    .iter()
                    .zip(l.split(','))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                (format!("{}/{}", row["pxname"], row["svname"]), row)
            })
            .collect()
    }

    pub fn status(&self, server: &str) -> String {
        self.stat().get(server).map(|r| r["status"].clone()).unwrap_or_default()
    }

    pub fn weight(&self, server: &str) -> String {
        self.stat().get(server).map(|r| r["weight"].clone()).unwrap_or_default()
    }

    /// Waits until every server has the wanted status; returns how long it took.
    pub async fn wait_status(&self, servers: &[&str], want: &str, within: Duration) -> Duration {
        let t0 = Instant::now();
        loop {
            if servers.iter().all(|s| self.status(s).starts_with(want)) {
                return t0.elapsed();
            }
            let now: Vec<String> = servers.iter().map(|s| format!("{s}={}", self.status(s))).collect();
            assert!(t0.elapsed() < within, "not all {want} within {within:?}: {now:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn get(&self, client: &reqwest::Client) -> Result<String, String> {
        let r = client
            .get(format!("http://{}/", self.frontend))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status() != 200 {
            return Err(format!("HTTP {}", r.status()));
        }
        r.text().await.map_err(|e| e.to_string())
    }
}

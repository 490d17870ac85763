//! A real Alertmanager (Debian `prometheus-alertmanager`) as a test child, and
//! the shipped example webhook receiver (`examples/alertmanager/webhook-receiver.py`)
//! as the place its notifications land.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::process::{free_port, signal, wait_port, Signal};
use super::prometheus::tool;

/// The shipped example configuration.
pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/alertmanager/alertmanager.yml");
const RECEIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/alertmanager/webhook-receiver.py");

/// An Alertmanager child in a temp dir, stopped on drop.
pub struct Alertmanager {
    child: Child,
    /// Its API port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        signal(&self.child, Signal::TERM);
        let _ = self.child.wait();
    }
}

/// Starts Alertmanager with `config` (YAML text), gossip off.
pub fn start_alertmanager(config: &str) -> Alertmanager {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alertmanager.yml");
    std::fs::write(&file, config).unwrap();
    let port = free_port();
    let child = Command::new(tool("prometheus-alertmanager"))
        .arg(format!("--config.file={}", file.display()))
        .arg(format!("--storage.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-alertmanager (Debian prometheus-alertmanager) is needed");
    wait_port(port, Duration::from_secs(10), "alertmanager");
    Alertmanager { child, port, _dir: dir }
}

/// The example webhook receiver, its log lines collected.
pub struct Receiver {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        signal(&self.child, Signal::TERM);
        let _ = self.child.wait();
    }
}

impl Receiver {
    /// Starts `webhook-receiver.py` on a port of its own (it binds port 0
    /// and says which it got: no other process can take it in between).
    pub fn start() -> Receiver {
        let mut child = Command::new("python3")
            .arg(RECEIVER)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut said = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut said)
            .unwrap();
        let port = said
            .trim()
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or_else(|| panic!("the webhook receiver said {said:?}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        wait_port(port, Duration::from_secs(10), "webhook receiver");
        Receiver { child, port, lines }
    }

    /// Every line logged so far (`<receiver> FIRING|RESOLVED <alertname> <labels>: <summary>`).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until a line starts with `prefix`; the line, or `None` after `within`.
    pub async fn wait_line(&self, prefix: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(l) = self.lines().into_iter().find(|l| l.starts_with(prefix)) {
                return Some(l);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

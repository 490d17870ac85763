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
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), rules).unwrap();
    let cfg = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [\"{}\"]\nscrape_configs: [{{job_name: healthgate, static_configs: [{{targets: [\"{target}\"]}}]}}]\n",
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

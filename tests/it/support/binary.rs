//! The real `healthgate` binary as a child process: run to completion, or kept
//! running with its log lines collected, killed and waited for on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::process::{free_port, signal, Signal};

/// The binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_healthgate");

/// A command for the binary (no `HEALTHGATE_CONFIG` from the test's environment).
pub fn command() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("HEALTHGATE_CONFIG").stdin(Stdio::null());
    c
}

/// Writes `text` as `name` in `dir` and returns its path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A running binary; its standard error is collected line by line.
pub struct Running {
    pub child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// Spawns `cmd` (stdout discarded unless the caller set it, stderr collected).
    pub fn spawn(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the healthgate binary starts");
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Running { child, logs }
    }

    /// `healthgate --config FILE`.
    pub fn with_config(config: &Path) -> Running {
        Self::spawn(command().arg("--config").arg(config))
    }

    /// The log so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// The first log line containing `needle`, waiting up to `within`.
    pub fn wait_log(&self, needle: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(l) = self.logs.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return Some(l.clone());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The HTTP listener's address, from the start-up log line (`addr=...`).
    pub fn http_addr(&self) -> String {
        let line = self
            .wait_log("addr=", Duration::from_secs(10))
            .unwrap_or_else(|| panic!("healthgate never logged its listening address:\n{}", self.logs()));
        let rest = line.split("addr=").nth(1).unwrap();
        rest.split_whitespace().next().unwrap().to_string()
    }

    /// Sends a signal.
    pub fn signal(&self, sig: Signal) {
        signal(&self.child, sig);
    }

    /// Waits for the process to exit (at most `within`).
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let t0 = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(t0.elapsed() < within, "healthgate did not exit within {within:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Nothing is left running after a test, whatever it asserted.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary serving `checks` on a free loopback port (details shown, no
/// shutdown grace), its configuration written into `dir`. Returns it and its
/// base URL.
pub fn serve(dir: &Path, checks: &str) -> (Running, String) {
    let port = free_port();
    let path = write_file(
        dir,
        &format!("healthgate-{port}.toml"),
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nshow_details = \"always\"\nshutdown_grace = \"0s\"\n{checks}"
        ),
    );
    (Running::with_config(&path), format!("http://127.0.0.1:{port}"))
}

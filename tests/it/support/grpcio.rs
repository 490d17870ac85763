//! Python's grpcio for the gRPC tests: the interpreter of the venv that
//! `./scripts/test` makes, and a grpcio health server (tests/grpc/health_server.py)
//! for the grpc check kind to call.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// The Python with grpcio: `$HEALTHGATE_PYTHON`, else `target/pyenv`, else `python3`.
pub fn python() -> String {
    std::env::var("HEALTHGATE_PYTHON").unwrap_or_else(|_| {
        let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/target/pyenv/bin/python");
        if std::path::Path::new(venv).exists() {
            venv.into()
        } else {
            "python3".into()
        }
    })
}

const SERVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/grpc/health_server.py");

/// A running grpcio health server; killed on drop.
pub struct PyHealthServer {
    pub port: u16,
    child: Child,
}

impl PyHealthServer {
    /// Starts `health_server.py` with `args` (options, then `service=STATUS`
    /// pairs) and waits for its port.
    pub fn start(args: &[&str]) -> PyHealthServer {
        let mut child = Command::new(python())
            .arg(SERVER)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python runs (./scripts/test makes target/pyenv with grpcio)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .unwrap_or_else(|| panic!("health_server.py said {line:?}")) as u16;
        PyHealthServer { port, child }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for PyHealthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

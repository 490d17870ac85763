//! Process control for real servers started as test children: free loopback
//! ports, private temp dirs under /tmp, signals (through rustix: no `unsafe`),
//! and a [`Server`] that is stopped gracefully, and waited for, on drop.

use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub use rustix::process::Signal;
use rustix::process::{kill_process, Pid};

/// A free loopback port (bound, read, released: a small race, which the
/// servers' own start-up retries make harmless).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private temp dir under /tmp (/root is 0700: a server running as another
/// user could not reach it).
pub fn tmpdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("hg-test-").tempdir_in("/tmp").unwrap()
}

/// Waits until something listens on the loopback `port`.
pub fn wait_port(port: u16, within: Duration, what: &str) {
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < within, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a set-up command to completion, panicking with its output if it fails.
pub fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e} (run ./scripts/test to install the servers)"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends `sig` to the process `pid` (a child of the test); a process that has
/// already gone is not an error.
pub fn signal_pid(pid: u32, sig: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process(pid, sig);
    }
}

/// Sends `sig` to a child process.
pub fn signal(child: &Child, sig: Signal) {
    signal_pid(child.id(), sig);
}

/// The child and every process descending from it (PostgreSQL's backends call
/// setsid(), so a process-group signal would miss them).
fn tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The fields after the ")" that closes the command name: state, ppid, ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.push((pid, ppid));
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

fn signal_tree(child: &Child, sig: Signal) {
    for pid in tree(child.id()) {
        signal_pid(pid, sig);
    }
}

/// A user's uid and gid from /etc/passwd.
pub fn user_ids(name: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no user {name}: run ./scripts/test to install the servers"));
    let f: Vec<&str> = line.split(':').collect();
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}

/// A server child process that is stopped gracefully on drop.
pub struct Server {
    pub child: Option<Child>,
    pub port: u16,
    stop_signal: Signal,
    restart: Box<dyn Fn(u16) -> Child + Send + Sync>,
}

impl Server {
    /// Starts the server with `start(port)`; `stop_signal` is its graceful stop.
    pub fn new(port: u16, stop_signal: Signal, start: impl Fn(u16) -> Child + Send + Sync + 'static) -> Server {
        let child = start(port);
        Server {
            child: Some(child),
            port,
            stop_signal,
            restart: Box::new(start),
        }
    }

    /// Stops the server and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal_tree(&c, Signal::CONT);
            signal(&c, self.stop_signal);
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and waits until it listens.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Some((self.restart)(self.port));
        wait_port(self.port, Duration::from_secs(20), "restarted server");
    }

    /// SIGSTOP to the whole process tree (PostgreSQL serves each connection from
    /// its own backend process): the server keeps its sockets but answers nothing.
    pub fn pause(&self) {
        signal_tree(self.child.as_ref().unwrap(), Signal::STOP);
    }

    /// SIGCONT to the whole process tree.
    pub fn resume(&self) {
        signal_tree(self.child.as_ref().unwrap(), Signal::CONT);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

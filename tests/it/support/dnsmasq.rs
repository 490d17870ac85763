//! A real DNS server (Debian `dnsmasq-base`) on a loopback port, answering
//! from a hosts file the test writes: how peers are found by name.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{free_port, signal, tmpdir, Signal};

/// A dnsmasq child, stopped on drop.
pub struct Dnsmasq {
    child: Child,
    /// Its UDP/TCP port on 127.0.0.1.
    pub port: u16,
    hosts: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        signal(&self.child, Signal::TERM);
        let _ = self.child.wait();
    }
}

/// Starts dnsmasq answering `hosts` (lines of `IP NAME`), nothing else.
pub fn start_dnsmasq(hosts: &str) -> Dnsmasq {
    let dir = tmpdir();
    let file = dir.path().join("hosts");
    std::fs::write(&file, hosts).unwrap();
    let port = free_port();
    let child = Command::new("dnsmasq")
        .args(["--keep-in-foreground", "--user=root", "--no-resolv", "--no-hosts"])
        .arg(format!("--addn-hosts={}", file.display()))
        .args(["--listen-address=127.0.0.1", "--bind-interfaces"])
        .arg(format!("--port={port}"))
        .arg(format!("--pid-file={}", dir.path().join("pid").display()))
        .arg(format!("--log-facility={}", dir.path().join("log").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq not found: run ./scripts/test, which installs the Debian package dnsmasq-base");
    // Ready once it answers TCP on its port (it serves TCP and UDP alike).
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "dnsmasq did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Dnsmasq {
        child,
        port,
        hosts: file,
        _dir: dir,
    }
}

impl Dnsmasq {
    /// Replaces the hosts file and has dnsmasq read it again (SIGHUP).
    pub fn set_hosts(&self, hosts: &str) {
        std::fs::write(&self.hosts, hosts).unwrap();
        signal(&self.child, Signal::HUP);
    }
}

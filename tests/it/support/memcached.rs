//! A real Memcached, run as root.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::process::{free_port, wait_port, Server, Signal};

/// A Memcached instance.
pub fn memcached() -> Server {
    let port = free_port();
    let server = Server::new(port, Signal::TERM, |p| {
        Command::new("memcached")
            .args([
                "-l",
                "127.0.0.1",
                "-p",
                &p.to_string(),
                "-U",
                "0",
                "-m",
                "64",
                "-u",
                "root",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("memcached starts")
    });
    wait_port(port, Duration::from_secs(10), "memcached");
    server
}

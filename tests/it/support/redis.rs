//! A real Redis: plain with a password and an ACL user (optionally a replica),
//! or TLS only.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::pki::Pki;
use super::process::{free_port, tmpdir, wait_port, Server, Signal};

/// A Redis instance with `requirepass pw1` and ACL user `app`/`apppw`.
pub fn redis(replica_of: Option<u16>) -> (Server, tempfile::TempDir) {
    let dir = tmpdir();
    let d = dir.path().to_path_buf();
    let port = free_port();
    let server = Server::new(port, Signal::TERM, move |p| {
        let mut c = Command::new("redis-server");
        c.args(["--port", &p.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(&d)
            .args(["--dbfilename", &format!("{p}.rdb"), "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--requirepass", "pw1", "--masterauth", "pw1"])
            .args(["--repl-diskless-sync-delay", "0", "--logfile"])
            .arg(d.join(format!("{p}.log")));
        if let Some(primary) = replica_of {
            c.args(["--replicaof", "127.0.0.1", &primary.to_string()]);
        }
        c.stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("redis-server starts")
    });
    wait_port(port, Duration::from_secs(10), "redis-server");
    // Under load the first command can still find the server not yet serving.
    let t0 = Instant::now();
    loop {
        let ok = Command::new("redis-cli")
            .args(["-p", &port.to_string(), "-a", "pw1", "--no-auth-warning"])
            .args(["ACL", "SETUSER", "app", "on", ">apppw", "~*", "+@all"])
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"OK"));
        if ok {
            break;
        }
        let log = std::fs::read_to_string(dir.path().join(format!("{port}.log"))).unwrap_or_default();
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "redis-cli ACL SETUSER failed; server log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, dir)
}

/// A Redis instance serving TLS only (on `port`), with `requirepass pw1`.
pub fn redis_tls(pki: &Pki) -> (Server, tempfile::TempDir) {
    let dir = tmpdir();
    let d = dir.path().to_path_buf();
    let (crt, key, ca) = (pki.path("server.crt"), pki.path("server.key"), pki.path("ca.crt"));
    let port = free_port();
    let server = Server::new(port, Signal::TERM, move |p| {
        Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &p.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
            ])
            .arg(&d)
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--requirepass",
                "pw1",
            ])
            .arg("--tls-cert-file")
            .arg(&crt)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--tls-ca-cert-file")
            .arg(&ca)
            .args(["--tls-auth-clients", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("redis-server starts")
    });
    wait_port(port, Duration::from_secs(10), "redis-server (TLS)");
    (server, dir)
}

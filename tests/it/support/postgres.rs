//! A real PostgreSQL (Debian's packages, whichever major version is installed)
//! in a private temp dir, run as the `postgres` user.

use std::os::unix::fs::chown;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{free_port, run, tmpdir, user_ids, Server, Signal};

/// The server binaries of the newest installed PostgreSQL
/// (`/usr/lib/postgresql/<major>/bin`: only the client tools are on PATH).
fn pg_bin_dir() -> PathBuf {
    let root = std::path::Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|major| root.join(major.to_string()).join("bin/postgres").exists())
        .max()
        .unwrap_or_else(|| {
            panic!(
                "no PostgreSQL server under {}: run ./scripts/test to install postgresql",
                root.display()
            )
        });
    root.join(newest.to_string()).join("bin")
}

/// A PostgreSQL instance with role `app` (password `apppw`) owning database `appdb`.
pub struct Postgres {
    pub server: Server,
    pub dir: tempfile::TempDir,
}

fn pg_command(bin: &str) -> Command {
    let (uid, gid) = user_ids("postgres");
    let mut c = Command::new(pg_bin_dir().join(bin));
    c.uid(uid).gid(gid).stdin(Stdio::null());
    c
}

fn pg_start(data: PathBuf, sock: PathBuf, port: u16, extra: &[String]) -> Child {
    pg_command("postgres")
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(&sock)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("postgres starts")
}

fn psql(port: u16, sql: &str) {
    run(
        Command::new("psql")
            .args([
                "-X",
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "-c",
                sql,
            ])
            .env("PGPASSWORD", "secret"),
        "psql",
    );
}

fn wait_pg(port: u16) {
    let t0 = Instant::now();
    loop {
        let ok = Command::new("pg_isready")
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "PostgreSQL did not become ready"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

impl Postgres {
    pub fn start() -> Postgres {
        Self::start_with(Vec::new())
    }

    /// With extra `-c name=value` server settings (e.g. ssl=on).
    pub fn start_with(extra: Vec<String>) -> Postgres {
        let dir = tmpdir();
        let (uid, gid) = user_ids("postgres");
        chown(dir.path(), Some(uid), Some(gid)).unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "secret\n").unwrap();
        chown(&pw, Some(uid), Some(gid)).unwrap();
        let data = dir.path().join("p");
        run(
            pg_command("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--no-sync",
                ])
                .args(["-E", "UTF8", "--locale=C.UTF-8"])
                .arg(format!("--pwfile={}", pw.display())),
            "initdb",
        );
        let port = free_port();
        let sock = dir.path().to_path_buf();
        let server = Server::new(port, Signal::INT, move |p| {
            pg_start(data.clone(), sock.clone(), p, &extra)
        });
        wait_pg(port);
        psql(port, "create role app login password 'apppw'");
        psql(port, "create database appdb owner app");
        Postgres { server, dir }
    }

    /// A streaming replica of this instance.
    pub fn replica(&self) -> Server {
        let data = self.dir.path().join("r");
        run(
            pg_command("pg_basebackup")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.server.port.to_string(),
                    "-U",
                    "postgres",
                    "-D",
                ])
                .arg(&data)
                .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"])
                .env("PGPASSWORD", "secret"),
            "pg_basebackup",
        );
        let port = free_port();
        let sock = self.dir.path().to_path_buf();
        let s = Server::new(port, Signal::INT, move |p| pg_start(data.clone(), sock.clone(), p, &[]));
        wait_pg(port);
        s
    }
}

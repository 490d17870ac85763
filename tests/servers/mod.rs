//! Real servers started as children for tests: private temp dirs under /tmp, free
//! loopback ports, stopped (and waited for) on drop. Works as root: PostgreSQL
//! runs as the `postgres` user, MariaDB and Memcached are told to run as root.
#![allow(dead_code)]

use std::net::TcpStream;
use std::os::unix::fs::chown;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tmpdir() -> tempfile::TempDir {
    // /root is 0700: a server running as another user could not reach it.
    tempfile::Builder::new().prefix("hg-test-").tempdir_in("/tmp").unwrap()
}

/// The healthgate binary serving `checks` on a free loopback port (details shown,
/// no shutdown grace), its configuration written into `dir`; killed on drop.
/// Returns the child and its base URL.
pub fn healthgate(dir: &Path, checks: &str) -> (tokio::process::Child, String) {
    let port = free_port();
    let path = dir.join(format!("healthgate-{port}.toml"));
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nshow_details = \"always\"\nshutdown_grace = \"0s\"\n{checks}"
        ),
    )
    .unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_healthgate"))
        .arg("--config")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

fn wait_port(port: u16, within: Duration, what: &str) {
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < within, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(cmd: &mut Command, what: &str) {
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

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, sig) };
}

/// The child and every process descending from it (PostgreSQL's backends call
/// setsid(), so a process-group signal would miss them).
fn tree(root: u32) -> Vec<i32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The fields after the ")" that closes the command name: state, ppid, ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok());
        if let Some(ppid) = ppid {
            parents.push((pid, ppid));
        }
    }
    let mut out = vec![root as i32];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

fn signal_group(child: &Child, sig: i32) {
    for pid in tree(child.id()) {
        // SAFETY: kill(2) on our child and its descendants.
        unsafe { libc::kill(pid, sig) };
    }
}

/// A server child process that is stopped gracefully on drop.
pub struct Server {
    pub child: Option<Child>,
    pub port: u16,
    stop_signal: i32,
    restart: Box<dyn Fn(u16) -> Child + Send + Sync>,
}

impl Server {
    fn new(port: u16, stop_signal: i32, restart: impl Fn(u16) -> Child + Send + Sync + 'static) -> Server {
        let child = restart(port);
        Server {
            child: Some(child),
            port,
            stop_signal,
            restart: Box::new(restart),
        }
    }

    /// Stops the server and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal_group(&c, libc::SIGCONT);
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

    /// SIGSTOP to the whole process group (PostgreSQL serves each connection from
    /// its own backend process): the server keeps its sockets but answers nothing.
    pub fn pause(&self) {
        signal_group(self.child.as_ref().unwrap(), libc::SIGSTOP);
    }

    /// SIGCONT to the whole process group.
    pub fn resume(&self) {
        signal_group(self.child.as_ref().unwrap(), libc::SIGCONT);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn user_ids(name: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no user {name}: run ./scripts/test to install postgresql"));
    let f: Vec<&str> = line.split(':').collect();
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL instance with role `app` (password `apppw`) owning database `appdb`.
pub struct Postgres {
    pub server: Server,
    pub dir: tempfile::TempDir,
}

fn pg_command(bin: &str) -> Command {
    let (uid, gid) = user_ids("postgres");
    let mut c = Command::new(Path::new(PG_BIN).join(bin));
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
        let server = Server::new(port, libc::SIGINT, move |p| {
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
        let s = Server::new(port, libc::SIGINT, move |p| {
            pg_start(data.clone(), sock.clone(), p, &[])
        });
        wait_pg(port);
        s
    }
}

/// A MariaDB instance with user `app` (password `apppw`) and database `appdb`.
pub struct Mariadb {
    pub server: Server,
    pub dir: tempfile::TempDir,
}

impl Mariadb {
    pub fn start() -> Mariadb {
        Self::start_with(Vec::new())
    }

    /// With extra server flags (e.g. --ssl-cert).
    pub fn start_with(extra: Vec<String>) -> Mariadb {
        let dir = tmpdir();
        let d = dir.path().to_path_buf();
        run(
            Command::new("mariadb-install-db")
                .arg("--no-defaults")
                .arg(format!("--datadir={}", d.join("d").display()))
                .args(["--user=root", "--skip-test-db", "--innodb-log-file-size=8M"]),
            "mariadb-install-db",
        );
        let port = free_port();
        let dd = d.clone();
        let server = Server::new(port, libc::SIGTERM, move |p| {
            Command::new("mariadbd")
                .arg("--no-defaults")
                .arg(format!("--datadir={}", dd.join("d").display()))
                .arg(format!("--socket={}", dd.join("s.sock").display()))
                .arg(format!("--port={p}"))
                .args(["--bind-address=127.0.0.1", "--user=root", "--skip-name-resolve"])
                .arg(format!("--pid-file={}", dd.join("d.pid").display()))
                .arg(format!("--tmpdir={}", dd.display()))
                .arg(format!("--log-error={}", dd.join("d.err").display()))
                .args(["--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M"])
                .args(&extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("mariadbd starts")
        });
        wait_port(port, Duration::from_secs(30), "mariadbd");
        let sock = d.join("s.sock");
        let t0 = Instant::now();
        loop {
            let ok = Command::new("mariadb")
                .arg("--no-defaults")
                .arg(format!("--socket={}", sock.display()))
                .args(["-uroot", "-e", "CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'apppw'; CREATE DATABASE IF NOT EXISTS appdb; GRANT ALL ON appdb.* TO 'app'@'%'; GRANT REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'app'@'%';"])
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "MariaDB never accepted the setup"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Mariadb { server, dir }
    }
}

/// A Redis instance with `requirepass pw1` and ACL user `app`/`apppw`.
pub fn redis(replica_of: Option<u16>) -> (Server, tempfile::TempDir) {
    let dir = tmpdir();
    let d = dir.path().to_path_buf();
    let port = free_port();
    let server = Server::new(port, libc::SIGTERM, move |p| {
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

/// A Memcached instance.
pub fn memcached() -> Server {
    let port = free_port();
    let server = Server::new(port, libc::SIGTERM, |p| {
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

/// Makes `user` own `path` (server keys must belong to the server's user).
pub fn give_to(user: &str, path: &Path) {
    let (uid, gid) = user_ids(user);
    chown(path, Some(uid), Some(gid)).unwrap();
}

/// A test PKI made with the openssl CLI: a CA, a server certificate for
/// 127.0.0.1/localhost, a client certificate, and an unrelated CA.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn make() -> Pki {
        let dir = tmpdir();
        let d = dir.path().to_path_buf();
        let ossl = |args: Vec<String>| run(Command::new("openssl").args(&args).current_dir(&d), "openssl");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].map(String::from);
        for ca in ["ca", "other-ca"] {
            let mut a: Vec<String> = vec!["req".into(), "-x509".into()];
            a.extend(ec.clone());
            a.extend([
                "-keyout".into(),
                format!("{ca}.key"),
                "-out".into(),
                format!("{ca}.crt"),
            ]);
            a.extend([
                "-days".into(),
                "2".into(),
                "-subj".into(),
                format!("/CN=healthgate test {ca}"),
            ]);
            ossl(a);
        }
        for (name, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
            let mut a: Vec<String> = vec!["req".into()];
            a.extend(ec.clone());
            a.extend([
                "-keyout".into(),
                format!("{name}.key"),
                "-out".into(),
                format!("{name}.csr"),
            ]);
            a.extend(["-subj".into(), format!("/CN={name}")]);
            ossl(a);
            std::fs::write(
                d.join(format!("{name}.ext")),
                format!(
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n"
                ),
            )
            .unwrap();
            let args = [
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.crt"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ];
            ossl(args.iter().map(|s| s.to_string()).collect());
        }
        Pki { dir }
    }
}

/// A Redis instance serving TLS only (on `port`), with `requirepass pw1`.
pub fn redis_tls(pki: &Pki) -> (Server, tempfile::TempDir) {
    let dir = tmpdir();
    let d = dir.path().to_path_buf();
    let (crt, key, ca) = (pki.path("server.crt"), pki.path("server.key"), pki.path("ca.crt"));
    let port = free_port();
    let server = Server::new(port, libc::SIGTERM, move |p| {
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
pub mod fault;
pub mod rig;

//! A real MariaDB in a private temp dir, run as root.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{free_port, run, tmpdir, wait_port, Server, Signal};

/// A MariaDB instance with user `app` (password `apppw`) and database `appdb`.
pub struct Mariadb {
    pub server: Server,
    _dir: tempfile::TempDir,
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
        let server = Server::new(port, Signal::TERM, move |p| {
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
        Mariadb { server, _dir: dir }
    }
}

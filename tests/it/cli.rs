//! The real binary: configuration errors, check-config, probe, SIGTERM draining.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::binary::{command, Running};
use crate::support::process::Signal;

fn write_config(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    crate::support::binary::write_file(dir.path(), "healthgate.toml", text)
}

/// The binary on `cfg`, once it has logged its listening address.
fn start(cfg: &std::path::Path) -> (Running, String) {
    let run = Running::with_config(cfg);
    let addr = run.http_addr();
    (run, addr)
}

#[test]
fn invalid_config_exits_non_zero_naming_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        &dir,
        r#"
[server]
listen = "127.0.0.1:0"
[[checks]]
name = "es"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200"]
timeout = "2x"
[[checks]]
name = "es"
kind = "tcp"
"#,
    );
    for args in [vec!["--config"], vec!["check-config", "--config"]] {
        let out = command().args(&args).arg(&cfg).output().unwrap();
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(r#"checks[0].timeout: invalid duration "2x""#), "{err}");
        assert!(err.contains("checks[1].address: missing required key"), "{err}");
        assert!(err.contains(r#"checks[1].name: duplicate name "es""#), "{err}");
    }
}

#[test]
fn missing_config_says_how_to_give_one() {
    let out = command().output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--config FILE") && err.contains("HEALTHGATE_CONFIG"),
        "{err}"
    );
}

#[test]
fn check_config_summarises_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        &dir,
        r#"
[[checks]]
name = "es"
kind = "elasticsearch"
urls = ["http://127.0.0.1:9200", "http://127.0.0.1:9201"]
username = "elastic"
password_env = "HG_TEST_ES_PASSWORD"
"#,
    );
    let out = command()
        .args(["check-config", "--config"])
        .arg(&cfg)
        .env("HG_TEST_ES_PASSWORD", "marker-secret-value-9")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("configuration OK"), "{stdout}");
    assert!(stdout.contains("check es [elasticsearch]"), "{stdout}");
    assert!(stdout.contains("basic auth as elastic"), "{stdout}");
    assert!(!stdout.contains("marker-secret-value-9"));
}

#[test]
fn webhooks_are_described_and_refused_without_showing_their_url() {
    let dir = tempfile::tempdir().unwrap();
    let check = "[[checks]]\nname = \"t\"\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\n";
    let ok = write_config(
        &dir,
        &format!("{check}[history]\nfile = \"/tmp/h.json\"\n[[notify]]\nname = \"ops\"\nurl_env = \"HG_TEST_HOOK\"\nformat = \"slack\"\non = [\"fail\", \"warn\"]\n"),
    );
    let out = command()
        .args(["check-config", "--config"])
        .arg(&ok)
        .env("HG_TEST_HOOK", "https://hooks.example/T0KEN-path-secret")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("notify ops: slack, on fail, warn and resolved"),
        "{stdout}"
    );
    assert!(stdout.contains("history: kept in /tmp/h.json"), "{stdout}");
    assert!(!stdout.contains("T0KEN"), "{stdout}");
    // A URL that is not one, and bad values: each names its key, none quotes the URL.
    let bad = write_config(
        &dir,
        &format!("{check}[history]\nsave_interval = \"10ms\"\n[[notify]]\nname = \"ops\"\nurl_env = \"HG_TEST_HOOK\"\non = [\"red\"]\nmax_attempts = 0\nurl = \"http://inline\"\n[[notify]]\nname = \"ops\"\nurl_env = \"HG_TEST_HOOK\"\n"),
    );
    let out = command()
        .args(["check-config", "--config"])
        .arg(&bad)
        .env("HG_TEST_HOOK", "ftp:T0KEN-path-secret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for needle in [
        "history.save_interval: must be at least 1s",
        "notify[0].url_env: the value is not an http:// or https:// URL",
        "notify[0].on: invalid state \"red\"",
        "notify[0].max_attempts: must be between 1 and 100",
        "notify[0].url: secrets are not accepted inline",
        "notify[1].name: duplicate name \"ops\"",
    ] {
        assert!(stderr.contains(needle), "{needle} missing in: {stderr}");
    }
    assert!(!stderr.contains("T0KEN"), "{stderr}");
}

/// The status code of a GET over a plain socket (keeps this test free of an async runtime).
fn status(addr: &str, path: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn healthy_config(dir: &tempfile::TempDir, target: std::net::SocketAddr, grace: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            r#"
[server]
listen = "127.0.0.1:0"
shutdown_grace = "{grace}"
[defaults]
interval = "200ms"
timeout = "100ms"
jitter = "0s"
[[checks]]
name = "app"
kind = "tcp"
address = "{target}"
"#
        ),
    )
}

#[test]
fn sigterm_drains_then_exits_zero() {
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = healthy_config(&dir, target.local_addr().unwrap(), "1500ms");
    let (mut run, addr) = start(&cfg);
    let deadline = Instant::now() + Duration::from_secs(5);
    while status(&addr, "/readyz") != 200 {
        assert!(Instant::now() < deadline, "never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let t0 = Instant::now();
    run.signal(Signal::TERM);
    let deadline = Instant::now() + Duration::from_millis(500);
    while status(&addr, "/readyz") != 503 {
        assert!(Instant::now() < deadline, "readiness did not fail at once");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(status(&addr, "/healthz"), 503);
    assert_eq!(status(&addr, "/livez"), 200, "liveness stays up while draining");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(status(&addr, "/livez"), 200, "still serving within the grace period");
    let code = run.wait_exit(Duration::from_secs(5) - t0.elapsed());
    assert!(code.success(), "exit status {code:?}");
    assert!(
        t0.elapsed() >= Duration::from_millis(1500),
        "exited before the grace period ended"
    );
}

#[test]
fn probe_exit_codes() {
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = healthy_config(&dir, target.local_addr().unwrap(), "0s");
    let (_run, addr) = start(&cfg);
    let probe = |path: &str| {
        command()
            .args(["probe", &format!("http://{}{path}", addr)])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(probe("/livez"), Some(0));
    assert_eq!(probe("/healthz/none"), Some(1));
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = command()
        .args(["probe", &format!("http://{dead}/livez")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("connection refused"));
}

#[test]
fn shipped_example_config_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/healthgate.toml");
    let out = command()
        .args(["check-config", "--config", example])
        .env("DB_PASSWORD", "x-db-password")
        .env("REDIS_PASSWORD", "x-redis-password")
        .env("MYSQL_PASSWORD", "x-mysql-password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in [
        "es-primary",
        "app",
        "redis-port",
        "db",
        "sessions",
        "cache",
        "dns",
        "disk",
    ] {
        assert!(stdout.contains(&format!("check {name} [")), "{stdout}");
    }
    // Every registered kind is shown working in the example.
    for kind in healthgate::config::KINDS {
        assert!(
            stdout.contains(&format!(" [{}", kind.name)),
            "no {} check in:\n{stdout}",
            kind.name
        );
    }
}

#[test]
fn demo_follows_the_simulated_cluster() {
    let mut child = command()
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return true;
                }
            }
        }
        false
    };
    let ok = wait_for("GET /healthz -> 200 OK");
    use std::io::Write;
    writeln!(stdin, "red").unwrap();
    let red = ok && wait_for("GET /healthz -> 503");
    let reason = red && wait_for("is red, 2 nodes");
    // The DR runbook's first step: the failback gate latches.
    writeln!(stdin, "promote").unwrap();
    let latched = reason && wait_for("orders is a leader on both clusters");
    crate::support::process::signal(&child, Signal::TERM);
    let status = child.wait().unwrap();
    assert!(ok && red && reason && latched, "demo output:\n{}", seen.join("\n"));
    assert!(status.success());
}

//! Secrets never leave: every secret the configuration can hold carries a unique
//! marker, and the marker must appear in no log line (debug level, JSON), no
//! `/healthz` body at any detail level, no `/metrics` line, no error message and
//! no `check-config` output.

use std::time::{Duration, Instant};

use healthgate::simulator::{Mode, SimAuth, Simulator};

use crate::support::binary::{command, Running};
use crate::support::process::{free_port, Signal};
const MARK: &str = "S3CRET-MARKER-7f3a";

fn secret(n: u8) -> String {
    format!("{MARK}-{n}-padding")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_anywhere() {
    let sim = Simulator::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    // The cluster wants other credentials, so errors are produced and reported.
    sim.set_auth(SimAuth::Basic("elastic".into(), "the-real-password".into()));
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("admin");
    std::fs::write(&admin, secret(4)).unwrap();
    let port = free_port();
    let url = sim.url();
    let cfg = dir.path().join("hg.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[server]
listen = "127.0.0.1:{port}"
show_details = "authorized"
details_token_env = "HG_DETAILS"
admin_token_file = "{admin}"
shutdown_grace = "0s"
[defaults]
interval = "200ms"
timeout = "150ms"
jitter = "0s"
[[checks]]
name = "es-basic"
kind = "elasticsearch"
urls = ["{url}"]
username = "elastic"
password_env = "HG_ES_PW"
[[checks]]
name = "es-key"
kind = "elasticsearch"
urls = ["{url}"]
api_key_env = "HG_ES_KEY"
[[checks]]
name = "app"
kind = "http"
url = "{url}/"
headers_env = {{ "X-Api-Key" = "HG_HEADER" }}
[[checks]]
name = "cache"
kind = "redis"
url = "redis://app@127.0.0.1:9/0"
password_env = "HG_REDIS"
critical = false
[[checks]]
name = "rpc"
kind = "grpc"
address = "{sim_addr}"
metadata_env = {{ authorization = "HG_GRPC" }}
critical = false
"#,
            admin = admin.display(),
            sim_addr = sim.addr()
        ),
    )
    .unwrap();
    let envs = [
        ("HG_ES_PW", secret(1)),
        ("HG_ES_KEY", secret(2)),
        ("HG_HEADER", secret(3)),
        ("HG_DETAILS", secret(5)),
        ("HG_REDIS", secret(6)),
        ("HG_GRPC", secret(7)),
    ];
    let mut everything = String::new();

    let out = command()
        .args(["check-config", "--config"])
        .arg(&cfg)
        .envs(envs.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    everything += &String::from_utf8_lossy(&out.stdout);
    everything += &String::from_utf8_lossy(&out.stderr);

    let mut run = Running::spawn(
        command()
            .args(["--config"])
            .arg(&cfg)
            .args(["--log-format", "json"])
            .envs(envs.clone())
            .env("RUST_LOG", "debug"),
    );
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let t0 = Instant::now();
    loop {
        let ok = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        if ok == Some(503) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "healthgate did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    sim.set_mode(Mode::Garbage).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let details = format!("Bearer {}", secret(5));
    for path in [
        "/healthz",
        "/healthz?verbose",
        "/healthz?format=text",
        "/healthz/es-basic",
        "/healthz/app",
        "/readyz",
        "/metrics",
    ] {
        for auth in [None, Some(details.as_str())] {
            let mut req = client.get(format!("{base}{path}"));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            everything += &req.send().await.unwrap().text().await.unwrap();
        }
    }
    let verbose = client
        .get(format!("{base}/healthz?verbose"))
        .header("authorization", &details)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        verbose.contains("authentication failed") || verbose.contains("invalid JSON"),
        "details are shown to the token holder: {verbose}"
    );
    // Admin: a wrong token is logged as rejected; the right one works; neither is printed.
    let r = client
        .get(format!("{base}/admin/maintenance"))
        .bearer_auth(format!("{MARK}-wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .post(format!("{base}/admin/maintenance"))
        .bearer_auth(secret(4))
        .header("content-type", "application/json")
        .body(r#"{"reason":"test","ttl":"1m"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    everything += &r.text().await.unwrap();
    run.signal(Signal::TERM);
    run.wait_exit(Duration::from_secs(5));
    let logs = run.logs();
    assert!(logs.contains("admin request rejected"), "the rejection is logged");
    assert!(logs.contains("check state changed"), "transitions are logged");
    everything += &logs;

    // An error message about a secret key names the key, not the value.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "[[checks]]\nname = \"x\"\nkind = \"elasticsearch\"\nurls = [\"{url}\"]\npassword_env = \"HG_ES_PW\"\n"
        ),
    )
    .unwrap();
    let out = command()
        .args(["check-config", "--config"])
        .arg(&bad)
        .envs(envs)
        .output()
        .unwrap();
    assert!(!out.status.success());
    everything += &String::from_utf8_lossy(&out.stderr);

    // Only the deliberately wrong admin token (not a secret) may carry the marker.
    let leaked: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains(MARK) && !l.contains(&format!("{MARK}-wrong")))
        .collect();
    assert!(leaked.is_empty(), "secrets leaked:\n{}", leaked.join("\n"));
    assert!(
        !everything.contains(&format!("{MARK}-wrong")),
        "not even the rejected token is echoed"
    );
}

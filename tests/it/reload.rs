//! Configuration reload on the real binary: SIGHUP and `POST /admin/reload`.

use std::time::{Duration, Instant};

use crate::support::app::runs_total;
use crate::support::binary::Running;
use crate::support::process::{free_port, Signal};

const TOKEN: &str = "reload-test-admin-token";

fn config(port: u16, token: &std::path::Path, target: std::net::SocketAddr, checks: &[&str], extra: &str) -> String {
    let mut s = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nshow_details = \"always\"\nshutdown_grace = \"0s\"\nadmin_token_file = \"{}\"\n{extra}\n[defaults]\ninterval = \"200ms\"\ntimeout = \"100ms\"\njitter = \"0s\"\n",
        token.display()
    );
    for name in checks {
        match *name {
            // Unknown for ~4 s: its first round only ends at the timeout.
            "slow" => s.push_str("[[checks]]\nname = \"slow\"\nkind = \"exec\"\ncommand = [\"sleep\", \"10\"]\ninterval = \"5s\"\ntimeout = \"4s\"\ncritical = false\n"),
            n => s.push_str(&format!("[[checks]]\nname = \"{n}\"\nkind = \"tcp\"\naddress = \"{target}\"\n")),
        }
    }
    s
}

async fn get(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_unchanged_checks_and_rejects_invalid_files() {
    // The tcp checks' target: listening for the whole test.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let port = free_port();
    let path = dir.path().join("hg.toml");
    std::fs::write(&path, config(port, &token, target, &["a", "b"], "")).unwrap();
    let run = Running::with_config(&path);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let t0 = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = runs_total(&get(&client, &format!("{base}/metrics")).await, "a", "pass");
    assert!(before >= 2, "a has run: {before}");

    // SIGHUP: a unchanged, b removed, slow added, warn answers 299 now.
    std::fs::write(
        &path,
        config(
            port,
            &token,
            target,
            &["a", "slow"],
            "[server.status_codes]\nwarn = 299",
        ),
    )
    .unwrap();
    run.signal(Signal::HUP);
    let t0 = Instant::now();
    let body = loop {
        let body = get(&client, &format!("{base}/healthz")).await;
        if body.contains("slow:") {
            break body;
        }
        assert!(t0.elapsed() < Duration::from_secs(3), "reload not applied: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["checks"]["a:connectTime"][0]["status"], "pass",
        "a kept its state: {body}"
    );
    assert_eq!(
        v["checks"]["slow:exitStatus"][0]["status"], "unknown",
        "added checks start unknown"
    );
    assert!(v["checks"].get("b:connectTime").is_none(), "b removed: {body}");
    // a kept its history too; slow starts with none.
    let h: serde_json::Value = serde_json::from_str(&get(&client, &format!("{base}/history?check=a")).await).unwrap();
    let a = &h["checks"][0];
    assert_eq!(a["transitions"][0]["to"], "pass", "{h}");
    assert!(a["since"].is_string(), "{h}");
    let h: serde_json::Value =
        serde_json::from_str(&get(&client, &format!("{base}/history?check=slow")).await).unwrap();
    assert_eq!(h["checks"][0]["transitions"], serde_json::json!([]), "{h}");
    let r = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(
        r.status(),
        299,
        "non-critical unknown warns; status codes were reloaded"
    );
    let metrics = get(&client, &format!("{base}/metrics")).await;
    assert!(!metrics.contains("check=\"b\""), "b's series are gone");
    assert!(metrics.contains("check=\"slow\""));
    assert!(
        runs_total(&metrics, "a", "pass") >= before,
        "a's counters were kept, not reset"
    );

    // An invalid file is rejected; everything keeps running.
    std::fs::write(
        &path,
        config(port, &token, target, &["a"], "").replace("timeout = \"100ms\"", "timeout = \"2x\""),
    )
    .unwrap();
    let r = client
        .post(format!("{base}/admin/reload"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let problems = r.text().await.unwrap();
    assert!(problems.contains("defaults.timeout: invalid duration"), "{problems}");
    run.signal(Signal::HUP);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let body = get(&client, &format!("{base}/healthz")).await;
    assert!(
        body.contains("a:connectTime") && body.contains("slow:exitStatus"),
        "old configuration still runs: {body}"
    );
    let logs = run.logs();
    assert!(
        logs.contains("reload rejected, the running configuration stays"),
        "{logs}"
    );
    assert!(logs.contains("reloaded: 1 checks kept, 1 started, 1 stopped"), "{logs}");

    // Reload through the admin API.
    std::fs::write(&path, config(port, &token, target, &["a"], "")).unwrap();
    let r = client
        .post(format!("{base}/admin/reload"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("1 checks kept, 0 started, 1 stopped"));
    let r = client.post(format!("{base}/admin/reload")).send().await.unwrap();
    assert_eq!(r.status(), 401, "reload needs the token");
}

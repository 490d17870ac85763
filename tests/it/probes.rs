//! The `dns`, `exec` and extended `http` checks against local resolvers, scripts
//! and servers.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::support::app::*;
use axum::routing::get;

const WAIT: Duration = Duration::from_secs(5);

fn check(name: &str, kind: &str, body: &str) -> String {
    format!("[[checks]]\nname = \"{name}\"\nkind = \"{kind}\"\ninterval = \"300ms\"\ntimeout = \"250ms\"\njitter = \"0s\"\ncritical = false\n{body}\n")
}

async fn until(app: &TestApp, key: &str, needle: &str) -> Answer {
    app.wait_for("/healthz", WAIT, |a| output_of(a, key).contains(needle))
        .await
}

#[tokio::test]
async fn dns_resolves_counts_and_fails_on_unknown_names() {
    let mut cfg = check(
        "local",
        "dns",
        "resolve = \"localhost\"\nexpect_address = \"127.0.0.1\"",
    );
    cfg += &check("many", "dns", "resolve = \"localhost\"\nmin_addresses = 5");
    cfg += &check("other", "dns", "resolve = \"localhost\"\nexpect_address = \"10.9.9.9\"");
    cfg += &check("nx", "dns", "resolve = \"no-such-host.invalid\"");
    let app = spawn_app(&cfg).await;
    let a = until(&app, "local:addresses", "localhost resolves to").await;
    assert_eq!(status_of(&a, "local:addresses"), "pass");
    until(&app, "many:addresses", "< min_addresses 5").await;
    until(&app, "other:addresses", "not to 10.9.9.9").await;
    let a = until(&app, "nx:addresses", "no-such-host.invalid does not resolve").await;
    assert_eq!(status_of(&a, "nx:addresses"), "fail");
}

fn script(dir: &tempfile::TempDir, name: &str, body: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(marker))
                .unwrap_or(false)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_follows_nagios_exit_codes_and_kills_the_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let ok = script(&dir, "ok", "echo 'OK - all good'; exit 0");
    let warn = script(&dir, "warn", "echo 'WARNING - disk 85%'; exit 1");
    let crit = script(&dir, "crit", "echo 'CRITICAL - disk full' >&2; exit 2");
    let chatty = script(&dir, "chatty", "yes xxxxxxxx | head -c 100000; exit 0");
    // Forks a grandchild that would outlive a naive kill, then hangs.
    let marker = format!("hg-exec-marker-{}", std::process::id());
    let hang = script(&dir, "hang", &format!("sleep 300 {marker} 2>/dev/null & sleep 300"));
    let mut cfg = check("ok", "exec", &format!("command = [\"{ok}\"]"));
    cfg += &check("warn", "exec", &format!("command = [\"{warn}\"]"));
    cfg += &check("crit", "exec", &format!("command = [\"{crit}\"]"));
    cfg += &check("chatty", "exec", &format!("command = [\"{chatty}\"]"));
    cfg += &check("hang", "exec", &format!("command = [\"{hang}\"]"));
    cfg += &check("missing", "exec", "command = [\"/nonexistent/plugin\", \"-w\", \"1\"]");
    let app = spawn_app(&cfg).await;
    let a = until(&app, "ok:exitStatus", "OK - all good").await;
    assert_eq!(status_of(&a, "ok:exitStatus"), "pass");
    let a = until(&app, "warn:exitStatus", "WARNING - disk 85%").await;
    assert_eq!(status_of(&a, "warn:exitStatus"), "warn");
    until(&app, "crit:exitStatus", "exit 2: CRITICAL - disk full").await;
    let a = until(&app, "chatty:exitStatus", "xxxx").await;
    assert!(
        output_of(&a, "chatty:exitStatus").len() <= 4200,
        "output capped at 4 KiB"
    );
    until(&app, "missing:exitStatus", "cannot run /nonexistent/plugin").await;
    until(&app, "hang:exitStatus", "timed out after 250ms").await;
    // Several rounds have timed out: no grandchild survives any of them.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let t0 = Instant::now();
    while processes_with(&marker) > 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "{} processes left behind",
            processes_with(&marker)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn http_headers_json_pointer_and_redirects() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "header-secret-marker-42\n").unwrap();
    let app_srv = axum::Router::new()
        .route(
            "/health",
            get(|headers: axum::http::HeaderMap| async move {
                let ok = headers.get("x-api-key").is_some_and(|v| v == "header-secret-marker-42")
                    && headers.get("accept").is_some_and(|v| v == "application/json");
                if ok {
                    (axum::http::StatusCode::OK, r#"{"status":"UP","db":{"ok":true}}"#)
                } else {
                    (axum::http::StatusCode::UNAUTHORIZED, "missing key")
                }
            }),
        )
        .route("/down", get(|| async { r#"{"status":"DOWN"}"# }))
        .route("/moved", get(|| async { axum::response::Redirect::temporary("/down") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app_srv).await });
    let base = format!("http://{addr}");
    let headers = format!(
        "headers = {{ Accept = \"application/json\" }}\nheaders_file = {{ \"X-Api-Key\" = \"{}\" }}",
        key_file.display()
    );
    let mut cfg = check(
        "app",
        "http",
        &format!("url = \"{base}/health\"\n{headers}\nbody_json_pointer = \"/db/ok\"\nbody_json_equals = true"),
    );
    cfg += &check("nokey", "http", &format!("url = \"{base}/health\""));
    cfg += &check(
        "down",
        "http",
        &format!("url = \"{base}/down\"\nbody_json_pointer = \"/status\"\nbody_json_equals = \"UP\""),
    );
    cfg += &check("noredirect", "http", &format!("url = \"{base}/moved\""));
    cfg += &check(
        "redirect",
        "http",
        &format!("url = \"{base}/moved\"\nmax_redirects = 3\nbody_contains = \"DOWN\""),
    );
    let app = spawn_app(&cfg).await;
    let a = until(&app, "app:responseTime", "HTTP 200, body matched").await;
    assert_eq!(status_of(&a, "app:responseTime"), "pass");
    until(&app, "nokey:responseTime", "unexpected HTTP status 401").await;
    until(&app, "down:responseTime", "/status is \"DOWN\", expected \"UP\"").await;
    until(&app, "noredirect:responseTime", "unexpected HTTP status 307").await;
    until(&app, "redirect:responseTime", "HTTP 200, body matched").await;
    let everything = format!(
        "{}{}",
        app.get("/healthz?verbose").await.body,
        app.get("/metrics").await.body
    );
    assert!(
        !everything.contains("header-secret-marker-42"),
        "header secrets never appear"
    );
}

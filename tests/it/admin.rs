//! Maintenance through the admin API, and what HAProxy's agent check reads.

use std::time::Duration;

use crate::support::app::*;
use healthgate::simulator::Mode;

const TOKEN: &str = "admin-token-0123456789";

async fn app(dir: &tempfile::TempDir, sim_url: &str) -> TestApp {
    let tok = dir.path().join("token");
    std::fs::write(&tok, TOKEN).unwrap();
    let server = format!(
        "agent_listen = \"127.0.0.1:0\"\nadmin_token_file = \"{}\"\n[server.agent_replies]\nwarn = \"up ready 30%\"",
        tok.display()
    );
    spawn_app_with(&server, &es_check("es", &[sim_url.to_string()], "150ms", "100ms", "")).await
}

async fn admin(app: &TestApp, method: reqwest::Method, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    let mut req = app.client.request(method, app.url("/admin/maintenance"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn agent_follows_checks_and_maintenance() {
    let dir = tempfile::tempdir().unwrap();
    let sim = spawn_sim().await;
    let app = app(&dir, &sim.url()).await;
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    assert_eq!(app.agent_line().await, "up ready 100%\n");

    sim.set_mode(Mode::Yellow).await.unwrap();
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.json["status"] == "warn")
        .await;
    assert_eq!(app.agent_line().await, "up ready 30%\n", "configured warn reply");

    sim.set_mode(Mode::Red).await.unwrap();
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 503)
        .await;
    let line = app.agent_line().await;
    assert!(line.starts_with("down #es: cluster \"elasticsearch\" is red"), "{line}");
    assert!(line.ends_with('\n') && line.len() <= 110 && line.is_ascii(), "{line}");

    sim.set_mode(Mode::Green).await.unwrap();
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    let (code, body) = admin(
        &app,
        reqwest::Method::POST,
        Some(TOKEN),
        Some(r#"{"reason":"kernel upgrade","ttl":"1s"}"#),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"maintenance\":true"));
    let a = app
        .wait_for("/healthz", Duration::from_secs(2), |a| a.status == 503)
        .await;
    assert!(
        a.json["output"].as_str().unwrap().contains("kernel upgrade"),
        "{}",
        a.body
    );
    assert_eq!(app.agent_line().await, "maint #kernel upgrade\n");
    assert_eq!(app.get("/livez").await.status, 200);
    let (_, state) = admin(&app, reqwest::Method::GET, Some(TOKEN), None).await;
    assert!(state.contains("kernel upgrade"), "{state}");

    // The window ends by itself.
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    assert_eq!(app.agent_line().await, "up ready 100%\n");

    admin(
        &app,
        reqwest::Method::POST,
        Some(TOKEN),
        Some(r#"{"reason":"x","ttl":"1h"}"#),
    )
    .await;
    app.wait_for("/healthz", Duration::from_secs(2), |a| a.status == 503)
        .await;
    let (code, _) = admin(&app, reqwest::Method::DELETE, Some(TOKEN), None).await;
    assert_eq!(code, 200);
    app.wait_for("/healthz", Duration::from_secs(2), |a| a.status == 200)
        .await;
}

#[tokio::test]
async fn admin_rejects_missing_and_wrong_tokens_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let sim = spawn_sim().await;
    let app = app(&dir, &sim.url()).await;
    let body = Some(r#"{"reason":"x","ttl":"1m"}"#);
    assert_eq!(admin(&app, reqwest::Method::POST, None, body).await.0, 401);
    assert_eq!(
        admin(&app, reqwest::Method::POST, Some("admin-token-0123456788"), body)
            .await
            .0,
        401
    );
    assert_eq!(admin(&app, reqwest::Method::GET, Some("short"), None).await.0, 401);
    let (code, msg) = admin(
        &app,
        reqwest::Method::POST,
        Some(TOKEN),
        Some(r#"{"reason":"x","ttl":"forever"}"#),
    )
    .await;
    assert_eq!(code, 400);
    assert!(msg.contains("invalid ttl \\\"forever\\\""), "{msg}");
    let (code, msg) = admin(&app, reqwest::Method::POST, Some(TOKEN), Some(r#"{"why":"x"}"#)).await;
    assert_eq!(code, 400);
    assert!(msg.contains("expected"), "{msg}");
    let (code, _) = admin(
        &app,
        reqwest::Method::POST,
        Some(TOKEN),
        Some(r#"{"reason":"x","ttl":"30d"}"#),
    )
    .await;
    assert_eq!(code, 400, "at most 7 days");
    assert_eq!(
        admin(&app, reqwest::Method::GET, Some(TOKEN), None).await.1,
        r#"{"maintenance":false}"#
    );
}

#[tokio::test]
async fn agent_clients_that_send_nothing_or_garbage_do_not_block_others() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let sim = spawn_sim().await;
    let app = app(&dir, &sim.url()).await;
    let agent = app.agent.unwrap();
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(tokio::net::TcpStream::connect(agent).await.unwrap());
    }
    let mut garbage = tokio::net::TcpStream::connect(agent).await.unwrap();
    let _ = garbage.write_all(&[0xff; 4096]).await;
    let t = std::time::Instant::now();
    let line = app.agent_line().await;
    assert!(!line.is_empty());
    assert!(t.elapsed() < Duration::from_millis(100), "{:?}", t.elapsed());
}

// Multi-threaded: the CLI child blocks this thread while the server answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maint_cli_drives_the_admin_api() {
    let dir = tempfile::tempdir().unwrap();
    let sim = spawn_sim().await;
    let app = app(&dir, &sim.url()).await;
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    let run = |args: &[&str], token: &str| {
        crate::support::binary::command()
            .args(args)
            .args(["--url", &app.url("")])
            .env("HEALTHGATE_ADMIN_TOKEN", token)
            .output()
            .unwrap()
    };
    let out = run(&["maint", "on", "--ttl", "15m", "--reason", "patching"], TOKEN);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.wait_for("/healthz", Duration::from_secs(2), |a| a.status == 503)
        .await;
    let out = run(&["maint", "status"], TOKEN);
    assert!(String::from_utf8_lossy(&out.stdout).contains("patching"));
    let out = run(&["maint", "off"], "wrong-token-wrong-token");
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["maint", "off"], TOKEN);
    assert!(out.status.success());
    app.wait_for("/healthz", Duration::from_secs(2), |a| a.status == 200)
        .await;
}

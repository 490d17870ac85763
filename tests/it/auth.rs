//! `[server.auth]`: basic users from an exporter-toolkit web configuration
//! (bcrypt) and a bearer token, on `/metrics`, the page, history and admin;
//! probes open unless `probes = true`; a real Prometheus scraping with
//! `basic_auth` (and failing with a wrong password); no secret in the log.

use std::time::{Duration, Instant};

use crate::support::app::{refused_check, spawn_app_config, spawn_app_with, TestApp};
use crate::support::binary::{write_file, Running};
use crate::support::process::{free_port, tmpdir};
use crate::support::prometheus::{has_result_within, start_prometheus_job};

const PASSWORD: &str = "correct horse battery";
const TOKEN: &str = "bearer-token-for-tests-0123456789";

/// A web configuration as Prometheus exporters use it, with one user whose
/// bcrypt hash has `cost`, and the bearer token in a file.
fn files(dir: &std::path::Path, cost: u32) -> (String, String) {
    let hash = bcrypt::hash(PASSWORD, cost).unwrap();
    let web = write_file(
        dir,
        "web.yml",
        &format!(
            "# an exporter-toolkit web config\ntls_server_config: {{}}\nbasic_auth_users:\n  prometheus: {hash}\n"
        ),
    );
    let token = write_file(dir, "token", TOKEN);
    (web.display().to_string(), token.display().to_string())
}

async fn status(app: &TestApp, path: &str, auth: Option<(&str, &str)>, bearer: Option<&str>) -> (u16, Vec<String>) {
    let mut req = app.client.get(app.url(path));
    if let Some((u, p)) = auth {
        req = req.basic_auth(u, Some(p));
    }
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let r = req.send().await.unwrap();
    let challenges = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    (r.status().as_u16(), challenges)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_routes_need_credentials_and_probes_stay_open() {
    let dir = tmpdir();
    let (web, token) = files(dir.path(), 8);
    let app = spawn_app_with(
        &format!("admin_token_env = \"PATH\"\n[server.auth]\nbasic_users_file = \"{web}\"\nbearer_token_file = \"{token}\"\n"),
        &refused_check(),
    )
    .await;
    app.wait_for("/healthz/t", Duration::from_secs(5), |a| a.status == 503)
        .await;
    for open in ["/healthz", "/readyz", "/livez", "/fleet/self", "/badge.svg"] {
        assert_eq!(status(&app, open, None, None).await.0, 200, "{open}");
    }
    assert_eq!(
        status(&app, "/healthz/t", None, None).await.0,
        503,
        "open, and failing alone"
    );
    let good = Some(("prometheus", PASSWORD));
    for path in ["/metrics", "/status", "/history", "/admin/maintenance"] {
        let (code, challenges) = status(&app, path, None, None).await;
        assert_eq!(code, 401, "{path}");
        assert!(
            challenges.iter().any(|c| c.starts_with("Basic realm=\"healthgate\"")),
            "{challenges:?}"
        );
        assert!(challenges.iter().any(|c| c.starts_with("Bearer")), "{challenges:?}");
        assert_eq!(
            status(&app, path, Some(("prometheus", "wrong")), None).await.0,
            401,
            "{path}"
        );
        assert_eq!(
            status(&app, path, Some(("nobody", PASSWORD)), None).await.0,
            401,
            "{path}"
        );
        assert_eq!(status(&app, path, None, Some("not-the-token")).await.0, 401, "{path}");
        if path != "/admin/maintenance" {
            assert_eq!(status(&app, path, good, None).await.0, 200, "{path}");
            assert_eq!(status(&app, path, None, Some(TOKEN)).await.0, 200, "{path}");
        }
    }
    // Admin needs its own token as well: credentials alone are not enough.
    assert_eq!(status(&app, "/admin/maintenance", good, None).await.0, 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_cost_a_bcrypt_and_accepted_ones_are_cached() {
    let dir = tmpdir();
    let (web, token) = files(dir.path(), 10);
    let app = spawn_app_with(
        &format!("[server.auth]\nbasic_users_file = \"{web}\"\nbearer_token_file = \"{token}\"\n"),
        &refused_check(),
    )
    .await;
    let timed = |user: &'static str, pw: &'static str| {
        let app = &app;
        async move {
            let t = Instant::now();
            let code = status(app, "/metrics", Some((user, pw)), None).await.0;
            (code, t.elapsed())
        }
    };
    let (code, wrong) = timed("prometheus", "wrong password 1").await;
    assert_eq!(code, 401);
    let (code, unknown) = timed("mallory", "wrong password 2").await;
    assert_eq!(code, 401);
    // Both verified a cost-10 bcrypt hash (tens of milliseconds): an unknown
    // user does not answer measurably faster than a wrong password.
    assert!(wrong > Duration::from_millis(10), "{wrong:?}");
    assert!(
        unknown * 2 > wrong,
        "unknown user {unknown:?} vs wrong password {wrong:?}"
    );
    // A scrape every second costs one bcrypt, not one per scrape.
    let t = Instant::now();
    for _ in 0..100 {
        assert_eq!(
            status(&app, "/metrics", Some(("prometheus", PASSWORD)), None).await.0,
            200
        );
    }
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "100 authenticated scrapes took {:?}",
        t.elapsed()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_can_be_closed_too_and_credentials_unlock_details() {
    let dir = tmpdir();
    let (web, token) = files(dir.path(), 4);
    let app = spawn_app_config(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace = \"0s\"\nshow_details = \"authorized\"\n[server.auth]\nbasic_users_file = \"{web}\"\nbearer_token_file = \"{token}\"\n{}",
        refused_check()
    ))
    .await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| {
        a.body.contains("\"status\":\"fail\"")
    })
    .await;
    let plain = app.get("/healthz").await.body;
    assert!(
        !plain.contains("connection refused"),
        "no details without credentials: {plain}"
    );
    let r = app
        .client
        .get(app.url("/healthz"))
        .basic_auth("prometheus", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("connection refused"), "details with credentials: {body}");
    let r = app
        .client
        .get(app.url("/status"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("connection refused"));
    app.stop().await;

    let app = spawn_app_with(
        &format!("[server.auth]\nbasic_users_file = \"{web}\"\nprobes = true\n"),
        &refused_check(),
    )
    .await;
    for path in ["/healthz", "/readyz", "/livez", "/healthz/t"] {
        assert_eq!(status(&app, path, None, None).await.0, 401, "{path}");
        // The check alone fails (503) once it has run; the rest pass.
        let code = status(&app, path, Some(("prometheus", PASSWORD)), None).await.0;
        assert!(code == 200 || (path == "/healthz/t" && code == 503), "{path}: {code}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_with_basic_auth_and_a_wrong_password_is_logged_without_it() {
    let dir = tmpdir();
    let (web, _) = files(dir.path(), 4);
    let port = free_port();
    let cfg = write_file(
        dir.path(),
        "hg.toml",
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nshutdown_grace = \"0s\"\n[server.auth]\nbasic_users_file = \"{web}\"\n{}",
            refused_check()
        ),
    );
    let run = Running::with_config(&cfg);
    let target = run.http_addr();
    let good = start_prometheus_job(
        &target,
        "groups: []\n",
        None,
        &format!("basic_auth: {{username: prometheus, password: \"{PASSWORD}\"}}"),
    );
    let bad = start_prometheus_job(
        &target,
        "groups: []\n",
        None,
        "basic_auth: {username: prometheus, password: \"marker-wrong-pass-7\"}",
    );
    assert!(
        has_result_within(good.port, "up{job=\"healthgate\"} == 1", Duration::from_secs(20)).await,
        "Prometheus with the password does not scrape"
    );
    assert!(
        has_result_within(
            good.port,
            "healthgate_check_status{check=\"t\",state=\"fail\"} == 1",
            Duration::from_secs(10)
        )
        .await
    );
    assert!(
        has_result_within(bad.port, "up{job=\"healthgate\"} == 0", Duration::from_secs(20)).await,
        "a wrong password is not refused"
    );
    let logs = run.logs();
    assert!(logs.contains("request refused: missing or wrong credentials"), "{logs}");
    assert!(
        !logs.contains("marker-wrong-pass-7") && !logs.contains(PASSWORD),
        "a password in the log"
    );
}

#[tokio::test]
async fn a_bad_users_file_stops_the_start_with_the_file_and_user_named() {
    let dir = tmpdir();
    let build = |text: &str| {
        let web = write_file(dir.path(), "web.yml", text);
        let toml = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[server.auth]\nbasic_users_file = \"{}\"\n{}",
            web.display(),
            refused_check()
        );
        async move {
            let cfg = healthgate::config::Config::from_toml_str(&toml).unwrap();
            match healthgate::app::App::build(cfg).await {
                Ok(_) => panic!("built"),
                Err(e) => e.to_string(),
            }
        }
    };
    let e = build("basic_auth_users:\n  alice: plain-text-password\n").await;
    assert!(
        e.contains("server.auth.basic_users_file") && e.contains("the hash of user \"alice\" is not a bcrypt hash"),
        "{e}"
    );
    let e = build("tls_server_config: {}\n").await;
    assert!(e.contains("no basic_auth_users"), "{e}");
    let e = build("basic_auth_users: [unclosed\n").await;
    assert!(e.contains("not YAML"), "{e}");
    let e = healthgate::config::Config::from_toml_str(&format!("[server.auth]\nprobes = true\n{}", refused_check()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("server.auth.basic_users_file: [server.auth] needs basic_users_file"),
        "{e}"
    );
}

//! `/status`, `/history`, the badges and compressed answers, over HTTP: what
//! each answers, the headers that make them safe, and the history file.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use healthgate::page::{self, PageInput};
use healthgate::snapshot::{CheckView, Presentation, Snapshot};
use healthgate::status::{State, Status};

use crate::support::app::{spawn_app, TestApp};
use crate::support::process::tmpdir;

/// `n` tcp checks against a port nothing listens on: they fail, with reasons.
fn failing_checks(n: usize) -> String {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    (0..n)
        .map(|i| format!("[[checks]]\nname = \"check-{i}\"\nkind = \"tcp\"\naddress = \"{addr}\"\ninterval = \"10s\"\ntimeout = \"200ms\"\njitter = \"0s\"\n"))
        .collect()
}

async fn raw(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    if let Some(a) = accept {
        req = req.header("accept-encoding", a);
    }
    req.send().await.unwrap()
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn large_answers_are_gzipped_for_clients_that_accept_it() {
    let app = spawn_app(&failing_checks(40)).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| {
        a.body.contains("connection refused")
    })
    .await;
    for path in ["/healthz", "/status", "/status?format=json", "/history"] {
        let plain = raw(&app, path, None).await;
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let plain = plain.text().await.unwrap();
        let gz = raw(&app, path, Some("br;q=1.0, gzip;q=0.8")).await;
        assert_eq!(gz.headers()["content-encoding"], "gzip", "{path}");
        assert_eq!(gz.headers()["vary"], "accept-encoding", "{path}");
        let bytes = gz.bytes().await.unwrap();
        assert!(
            bytes.len() * 3 < plain.len(),
            "{path}: {} of {} bytes",
            bytes.len(),
            plain.len()
        );
        let text = gunzip(&bytes);
        if path == "/healthz" {
            // The same snapshot, the same body.
            assert_eq!(text, plain);
        }
        for refused in ["gzip;q=0", "identity", "deflate, br"] {
            let r = raw(&app, path, Some(refused)).await;
            assert!(r.headers().get("content-encoding").is_none(), "{path} with {refused}");
        }
    }
    app.stop().await;
    // A small body is not worth compressing.
    let app = spawn_app(&failing_checks(1)).await;
    let r = raw(&app, "/healthz", Some("gzip")).await;
    assert!(r.headers().get("content-encoding").is_none());
    app.stop().await;
}

#[tokio::test]
async fn status_and_history_answer_from_memory_with_their_safety_headers() {
    let app = spawn_app(&failing_checks(2)).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| {
        a.body.contains("connection refused")
    })
    .await;
    let r = raw(&app, "/status", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.starts_with("default-src 'none'; script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let html = r.text().await.unwrap();
    assert!(html.len() < 30 * 1024, "{} bytes", html.len());
    for name in ["check-0", "check-1"] {
        assert!(html.contains(&format!("id=\"check-{name}\"")), "{name}");
    }
    assert!(html.contains("<span class=\"word\">FAIL</span>"));
    let j = app.get("/status?format=json").await;
    assert_eq!(j.json["status"], "fail");
    assert!(j.json["title"].as_str().unwrap().starts_with("FAIL · "));
    assert!(j.json["html"].as_str().unwrap().contains("id=\"check-check-1\""));

    let h = app.get("/history").await;
    assert_eq!(h.json["checks"].as_array().unwrap().len(), 2);
    let c = &h.json["checks"][0];
    assert_eq!(c["name"], "check-0");
    assert_eq!(c["kind"], "tcp");
    assert_eq!(c["state"], "fail");
    assert_eq!(c["uptime1h"], 0.0);
    assert_eq!(c["minutes"]["slots"].as_array().unwrap().len(), 60);
    assert_eq!(c["tenMinutes"]["slots"].as_array().unwrap().len(), 144);
    assert_eq!(h.json["slotFields"].as_array().unwrap().len(), 11);
    let last = c["minutes"]["slots"].as_array().unwrap().last().unwrap().clone();
    assert!(last[2].as_u64().unwrap() > 0, "time failing is counted: {last}");
    assert_eq!(c["transitions"][0]["to"], "fail");
    assert!(c["transitions"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("connection refused"));
    let one = app.get("/history?check=check-1").await;
    assert_eq!(one.json["checks"].as_array().unwrap().len(), 1);
    let missing = app.get("/history?check=nope").await;
    assert_eq!(missing.status, 404);
    assert!(missing.json["error"].as_str().unwrap().contains("no check"));
    app.stop().await;
}

#[tokio::test]
async fn badges_show_states_and_uptime_and_cache_briefly() {
    let app = spawn_app(&failing_checks(1)).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 503)
        .await;
    let r = raw(&app, "/badge.svg", None).await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert_eq!(r.headers()["cache-control"], "public, max-age=5");
    let svg = r.text().await.unwrap();
    assert!(svg.contains("aria-label=\"health: fail\""), "{svg}");
    let one = app.get("/badge/check-0.svg").await.body;
    assert!(one.contains("check-0: fail"), "{one}");
    let up = app
        .get("/badge/check-0.svg?uptime=24h&label=search%20uptime")
        .await
        .body;
    assert!(up.contains("search uptime: 0.00% 24h"), "{up}");
    assert_eq!(app.get("/badge/check-0.svg?uptime=7d").await.status, 400);
    assert_eq!(app.get("/badge/nope.svg").await.status, 404);
    assert_eq!(app.get("/badge/check-0").await.status, 404);
    app.stop().await;
}

fn view(name: &str, state: State, output: &str) -> CheckView {
    CheckView {
        name: name.into(),
        kind: "http",
        critical: true,
        shared: false,
        state,
        output: output.into(),
        observed: None,
        measurement: "responseTime",
        component_type: "component",
        time: Some(SystemTime::now()),
        duration: Some(Duration::from_millis(2)),
        flapping: false,
        starting_warns: false,
        shared_outage: None,
        history: Arc::new(healthgate::history::CheckHistory::new(0)),
    }
}

#[test]
fn the_page_hides_reasons_unless_details_are_allowed_and_caps_them() {
    let long = format!("secret-ish detail {}", "y".repeat(10_000));
    let snap = Snapshot::build(
        3,
        vec![
            view("api", State::Known(Status::Fail), &long),
            view("db", State::Unknown, "no result yet"),
        ],
        None,
        &Presentation {
            codes: healthgate::config::StatusCodes {
                pass: 200,
                warn: 200,
                fail: 503,
            },
            agent: Default::default(),
        },
    );
    let input = |details| PageInput {
        snap: &snap,
        fleet: None,
        details,
        instance: "app-1",
        now: SystemTime::now(),
    };
    let hidden = page::page(&input(false));
    assert!(!hidden.contains("secret-ish"), "reasons follow server.show_details");
    assert!(hidden.contains("reason hidden"));
    assert!(
        hidden.contains("<span class=\"word\">UNKNOWN</span>"),
        "unknown is its own word"
    );
    let shown = page::page(&input(true));
    assert!(shown.contains("secret-ish detail"));
    assert!(
        shown.len() < hidden.len() + 1000,
        "a 10 KB reason is cut: {} bytes",
        shown.len()
    );
}

#[tokio::test]
async fn the_history_file_survives_a_restart_and_a_corrupt_one_is_ignored() {
    let dir = tmpdir();
    let file = dir.path().join("history.json");
    let toml = format!(
        "{}[history]\nfile = \"{}\"\nsave_interval = \"1s\"\n",
        failing_checks(1),
        file.display()
    );
    let app = spawn_app(&toml).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 503)
        .await;
    let before = app.get("/history?check=check-0").await.json;
    app.stop().await;
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.starts_with("{\"format\":\"healthgate-history/1\""), "{saved}");

    let app = spawn_app(&toml).await;
    let after = app.get("/history?check=check-0").await.json;
    let was = &before["checks"][0]["transitions"][0];
    let journal = after["checks"][0]["transitions"].as_array().unwrap();
    assert!(journal.iter().any(|t| t == was), "the journal came back: {after}");
    assert_eq!(
        after["checks"][0]["uptime1h"], 0.0,
        "the failing time before the restart counts"
    );
    app.stop().await;

    std::fs::write(&file, b"{\"format\":\"something else\"").unwrap();
    let app = spawn_app(&toml).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 503)
        .await;
    let h = app.get("/history?check=check-0").await.json;
    assert_eq!(
        h["checks"][0]["transitions"].as_array().unwrap().len(),
        1,
        "a fresh history: {h}"
    );
    app.stop().await;
}

#[test]
fn an_answer_is_compressed_once_and_only_when_worth_it() {
    use healthgate::snapshot::Prepared;
    let body = bytes::Bytes::from("{\"status\":\"pass\"}".repeat(200));
    let p = Prepared::new(axum::http::StatusCode::OK, "application/json", body.clone());
    let first = p.gzipped().expect("3 KB of JSON shrinks").clone();
    let again = p.gzipped().unwrap();
    assert_eq!(
        first.as_ptr(),
        again.as_ptr(),
        "the same bytes, not a second compression"
    );
    assert_eq!(gunzip(&first), String::from_utf8(body.to_vec()).unwrap());
    let small = Prepared::new(
        axum::http::StatusCode::OK,
        "text/plain",
        bytes::Bytes::from_static(b"OK\n"),
    );
    assert!(small.gzipped().is_none());
}

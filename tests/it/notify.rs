//! Webhooks on transitions against a local receiver that refuses, hangs,
//! answers 500 and 429 with `Retry-After`, and closes mid-answer: the event
//! arrives once the receiver recovers, every attempt with the same id and a
//! valid signature, probes stay fast, and a flapping check does not flood.

use std::time::{Duration, Instant};

use healthgate::simulator::Mode;

use crate::support::app::{es_check, spawn_app, spawn_sim, TestApp, FAST_PROBE};
use crate::support::process::tmpdir;
use crate::support::receiver::{Behaviour, Receiver};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The value of one series in `/metrics` (0 when absent).
async fn metric(app: &TestApp, series: &str) -> f64 {
    let body = app.get("/metrics").await.body;
    body.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

fn notify_toml(dir: &std::path::Path, url: &str, extra: &str) -> String {
    let url_file = dir.join("url");
    std::fs::write(&url_file, format!("{url}\n")).unwrap();
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    format!(
        "[[notify]]\nname = \"ops\"\nurl_file = \"{}\"\nsigning_secret_file = \"{}\"\n{extra}\n",
        url_file.display(),
        secret_file.display()
    )
}

async fn wait_received(r: &Receiver, within: Duration, pred: impl Fn(&[crate::support::receiver::Received]) -> bool) {
    let t = Instant::now();
    while !pred(&r.received()) {
        assert!(t.elapsed() < within, "receiver got: {:#?}", r.received());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_survives_a_receiver_that_refuses_hangs_and_fails_and_keeps_its_id() {
    let sim = spawn_sim().await;
    let dir = tmpdir();
    // A port with nothing on it yet: the first attempts are refused.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{addr}/hooks/T0KEN-s3cret-path");
    let toml = format!(
        "{}{}",
        es_check("es", &[sim.url()], "200ms", "150ms", "fall = 1\nrise = 1"),
        notify_toml(
            dir.path(),
            &url,
            "timeout = \"400ms\"\nbackoff = \"200ms\"\nmax_backoff = \"2s\"\nmax_attempts = 30\nmin_interval = \"0s\""
        ),
    );
    let app = spawn_app(&toml).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 200)
        .await;
    sim.set_mode(Mode::Red).await.unwrap();
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 503)
        .await;
    // Refused for a while; probes answer from memory meanwhile.
    let mut probes = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(1200) {
        probes.push(app.get("/healthz").await.elapsed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(metric(&app, "healthgate_notify_failed_attempts_total{notify=\"ops\"}").await >= 2.0);
    let r = Receiver::start(
        addr,
        vec![
            Behaviour::Hang,
            Behaviour::Status(500, None),
            Behaviour::Status(429, Some(1)),
            Behaviour::CloseMidAnswer,
        ],
    )
    .await;
    let t = Instant::now();
    while !r.received().iter().any(|x| x.answered == Behaviour::Status(200, None)) {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "never delivered: {:#?}",
            r.received()
        );
        probes.push(app.get("/healthz").await.elapsed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Never waiting on the receiver: every probe well under one attempt's
    // 400 ms timeout, and typically fast (the slowest samples are this test
    // client's own scheduling on two shared cores).
    probes.sort();
    assert!(probes[probes.len() - 1] < Duration::from_millis(300), "{probes:?}");
    assert!(probes[probes.len() / 2] < FAST_PROBE, "{probes:?}");
    let got = r.received();
    assert_eq!(got.len(), 5, "{got:#?}");
    let id = got[0].headers["webhook-id"].clone();
    assert!(
        got.iter().all(|x| x.headers["webhook-id"] == id),
        "one id for every attempt"
    );
    // Retry-After: 1 was honoured.
    assert!(
        got[3].at - got[2].at >= Duration::from_millis(950),
        "{:?}",
        got[3].at - got[2].at
    );
    for x in &got {
        let ts: u64 = x.headers["webhook-timestamp"].parse().unwrap();
        let key = healthgate::notify::payload::signing_key(SECRET);
        let want = healthgate::notify::payload::signature(&key, &id, ts, x.body.as_bytes());
        assert_eq!(x.headers["webhook-signature"], want);
    }
    let body: serde_json::Value = serde_json::from_str(&got[4].body).unwrap();
    assert_eq!(body["type"], "healthgate.check.transition");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(
        (body["check"].as_str(), body["from"].as_str(), body["to"].as_str()),
        (Some("es"), Some("pass"), Some("fail"))
    );
    assert_eq!(body["status"], "fail");
    assert_eq!(body["critical"], true);
    assert!(body["reason"].as_str().unwrap().contains("red"), "{body}");
    assert!(body["time"].as_str().unwrap().ends_with('Z'));
    assert!(body["instance"].as_str().is_some_and(|i| !i.is_empty()));
    assert_eq!(metric(&app, "healthgate_notify_sent_total{notify=\"ops\"}").await, 1.0);

    // Recovery is another event, with another id.
    sim.set_mode(Mode::Green).await.unwrap();
    wait_received(&r, Duration::from_secs(5), |g| g.len() == 6).await;
    let resolved = &r.received()[5];
    assert_ne!(resolved.headers["webhook-id"], id);
    let body: serde_json::Value = serde_json::from_str(&resolved.body).unwrap();
    assert_eq!(
        (body["from"].as_str(), body["to"].as_str()),
        (Some("fail"), Some("pass"))
    );
    // The URL is a secret: not in the metrics, not in any answer.
    assert!(!app.get("/metrics").await.body.contains("T0KEN"));
    assert!(!app.get("/status").await.body.contains("T0KEN"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flapping_check_costs_the_receiver_one_event_per_interval() {
    let sim = spawn_sim().await;
    let dir = tmpdir();
    let r = Receiver::start("127.0.0.1:0".parse().unwrap(), Vec::new()).await;
    let toml = format!(
        "{}{}",
        es_check("es", &[sim.url()], "100ms", "80ms", "fall = 1\nrise = 1"),
        notify_toml(dir.path(), &r.url(), "format = \"slack\"\nmin_interval = \"1500ms\""),
    );
    let app = spawn_app(&toml).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 200)
        .await;
    let t = Instant::now();
    let mut flips = 0;
    while t.elapsed() < Duration::from_secs(3) {
        sim.set_mode(if flips % 2 == 0 { Mode::Red } else { Mode::Green })
            .await
            .unwrap();
        flips += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    sim.set_mode(Mode::Green).await.unwrap();
    // The last held change goes out within one interval of the previous event.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got = r.received();
    assert!(flips >= 9, "{flips}");
    assert!(
        (2..=4).contains(&got.len()),
        "{} events for {flips} flaps: {:#?}",
        got.len(),
        got
    );
    for pair in got.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(1400),
            "events closer than min_interval"
        );
    }
    let last: serde_json::Value = serde_json::from_str(&got.last().unwrap().body).unwrap();
    let text = last["text"].as_str().unwrap();
    assert!(
        text.contains("*es* is PASS"),
        "the receiver ends up knowing it recovered: {text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_and_counts_it() {
    let dir = tmpdir();
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut toml = String::new();
    for i in 0..4 {
        toml.push_str(&format!(
            "[[checks]]\nname = \"c{i}\"\nkind = \"tcp\"\naddress = \"{addr}\"\ninterval = \"10s\"\ntimeout = \"200ms\"\njitter = \"0s\"\n"
        ));
    }
    toml.push_str(&notify_toml(
        dir.path(),
        &format!("http://{addr}/h"),
        "queue = 1\nbackoff = \"5s\"\nmax_backoff = \"5s\"\nmin_interval = \"0s\"",
    ));
    let app = spawn_app(&toml).await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 503)
        .await;
    let t = Instant::now();
    while metric(
        &app,
        "healthgate_notify_dropped_total{notify=\"ops\",reason=\"queue_full\"}",
    )
    .await
        < 1.0
    {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{}",
            app.get("/metrics").await.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(metric(&app, "healthgate_notify_queue_length{notify=\"ops\"}").await <= 1.0);
    app.stop().await;
}

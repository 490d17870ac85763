//! The Elasticsearch check against the simulator, through healthgate's HTTP API.

use std::time::{Duration, Instant};

use crate::support::app::*;
use healthgate::simulator::{Mode, SimAuth};

const KEY: &str = "es:clusterHealth";

async fn app_for(sim_url: &str, extra: &str) -> TestApp {
    spawn_app(&es_check("es", &[sim_url.to_string()], "200ms", "150ms", extra)).await
}

#[tokio::test]
async fn green_yellow_red_map_to_status_codes() {
    let sim = spawn_sim().await;
    let app = app_for(&sim.url(), "").await;
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| {
            a.status == 200 && a.json["status"] == "pass"
        })
        .await;
    assert_eq!(a.json["checks"][KEY][0]["observedValue"], "green");
    assert!(
        output_of(&a, KEY).contains("cluster \"elasticsearch\" is green, 3 nodes"),
        "{}",
        a.body
    );

    sim.set_mode(Mode::Yellow).await.unwrap();
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| a.json["status"] == "warn")
        .await;
    assert_eq!(a.status, 200, "warn answers 200 by default");
    // One cluster changing colour: same name, same nodes.
    assert!(
        output_of(&a, KEY).contains("cluster \"elasticsearch\" is yellow, 3 nodes"),
        "{}",
        a.body
    );

    sim.set_mode(Mode::Red).await.unwrap();
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| a.status == 503)
        .await;
    assert_eq!(a.json["status"], "fail");
    assert!(
        output_of(&a, KEY).contains("cluster \"elasticsearch\" is red, 2 nodes (2 data), 62 unassigned shards"),
        "{}",
        a.body
    );

    sim.set_mode(Mode::Green).await.unwrap();
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn yellow_can_be_configured_to_fail() {
    let sim = spawn_sim().await;
    sim.set_mode(Mode::Yellow).await.unwrap();
    let app = app_for(&sim.url(), "yellow = \"fail\"").await;
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| status_of(a, KEY) != "unknown")
        .await;
    assert_eq!(a.status, 503);
    assert_eq!(status_of(&a, KEY), "fail");
    // One cluster changing colour: same name, same nodes.
    assert!(
        output_of(&a, KEY).contains("cluster \"elasticsearch\" is yellow, 3 nodes"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn every_failure_mode_fails_with_a_reason_naming_the_cause() {
    let sim = spawn_sim().await;
    let app = app_for(&sim.url(), "").await;
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    let cases = [
        (Mode::Refused, "connection refused"),
        (Mode::ServerError, "server error: HTTP 500 null_pointer_exception"),
        (Mode::ServerErrorEmpty, "server error: HTTP 500 from"),
        (Mode::Unauthorized, "authentication failed"),
        (Mode::Forbidden, "authorization failed"),
        (Mode::Garbage, "invalid JSON in cluster health answer"),
        (Mode::WrongShape, "unexpected cluster health shape"),
        (Mode::Huge, "exceeds the 1048576 byte cap"),
        (
            Mode::NoMaster,
            "no elected master: HTTP 503 master_not_discovered_exception",
        ),
        (Mode::Blocked, "cluster blocked: HTTP 503 cluster_block_exception"),
        (Mode::Timeout408, "timed out"),
        (Mode::StallBody, "timed out after 150ms"),
        (Mode::Hang, "timed out after 150ms"),
    ];
    for (mode, needle) in cases {
        sim.set_mode(mode.clone()).await.unwrap();
        let a = app
            .wait_for("/healthz", Duration::from_secs(5), |a| {
                output_of(a, KEY).contains(needle)
            })
            .await;
        assert_eq!(a.status, 503, "{mode:?}: {}", a.body);
        assert_eq!(status_of(&a, KEY), "fail", "{mode:?}");
        sim.set_mode(Mode::Green).await.unwrap();
        app.wait_for("/healthz", Duration::from_secs(5), |a| a.status == 200)
            .await;
    }
}

#[tokio::test]
async fn hang_fails_within_timeout_plus_interval_while_healthz_stays_fast() {
    let sim = spawn_sim().await;
    let app = spawn_app(&es_check("es", &[sim.url()], "1s", "500ms", "")).await;
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    sim.set_mode(Mode::Hang).await.unwrap();
    let t0 = Instant::now();
    let mut slowest = Duration::ZERO;
    let failed_after = loop {
        let a = app.get("/healthz").await;
        slowest = slowest.max(a.elapsed);
        if a.status == 503 {
            assert!(output_of(&a, KEY).contains("timed out after 500ms"), "{}", a.body);
            break t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_millis(2500),
            "no fail within timeout + interval + 1s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(failed_after <= Duration::from_millis(2500), "{failed_after:?}");
    assert!(slowest < FAST_PROBE, "slowest /healthz while ES hangs: {slowest:?}");
    assert!(app.get("/livez").await.status == 200);
}

#[tokio::test]
async fn first_node_down_second_up_passes_naming_the_second() {
    let sim = spawn_sim().await;
    // A port that refuses: bind, learn it, close.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = app_for(&format!("http://{dead}\", \"{}", sim.url()), "").await;
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    let out = output_of(&a, KEY);
    assert!(out.ends_with(&format!("via {}", sim.url())), "{out}");

    // Both down: the reason lists each node.
    sim.set_mode(Mode::Refused).await.unwrap();
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| a.status == 503)
        .await;
    let out = output_of(&a, KEY);
    assert!(out.starts_with("all 2 nodes failed"), "{out}");
    assert!(
        out.contains(&dead.to_string()) && out.contains(&sim.addr().to_string()),
        "{out}"
    );
}

#[tokio::test]
async fn a_burst_of_probes_adds_no_elasticsearch_requests() {
    let sim = spawn_sim().await;
    let app = spawn_app(&es_check("es", &[sim.url()], "1s", "500ms", "")).await;
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    let before = sim.requests();
    let t0 = Instant::now();
    for _ in 0..40 {
        let batch: Vec<_> = (0..50).map(|_| app.client.get(app.url("/healthz")).send()).collect();
        for r in futures_util::future::join_all(batch).await {
            assert_eq!(r.unwrap().status(), 200);
        }
    }
    let elapsed = t0.elapsed();
    let added = sim.requests() - before;
    let scheduled = elapsed.as_secs_f64().ceil() as u64 + 1;
    assert!(
        added <= scheduled,
        "2000 probes in {elapsed:?} caused {added} ES requests; the schedule allows {scheduled}"
    );
}

#[tokio::test]
async fn basic_auth_and_api_key_reach_the_cluster_and_never_leak() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pw-marker-1234\n").unwrap();
    let sim = spawn_sim().await;
    sim.set_auth(SimAuth::Basic("elastic".into(), "pw-marker-1234".into()));
    let extra = format!("username = \"elastic\"\npassword_file = \"{}\"", pw.display());
    let app = app_for(&sim.url(), &extra).await;
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;

    sim.set_auth(SimAuth::Basic("elastic".into(), "another-password".into()));
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| a.status == 503)
        .await;
    let out = output_of(&a, KEY);
    assert!(out.starts_with("authentication failed"), "{out}");
    assert!(
        out.contains("HTTP 401 security_exception: unable to authenticate"),
        "{out}"
    );
    assert!(!a.body.contains("pw-marker-1234"));
    let metrics = app.get("/metrics").await.body;
    assert!(!metrics.contains("pw-marker-1234"));

    let key = dir.path().join("key");
    std::fs::write(&key, "apikey-marker-5678").unwrap();
    sim.set_auth(SimAuth::ApiKey("apikey-marker-5678".into()));
    let app2 = app_for(&sim.url(), &format!("api_key_file = \"{}\"", key.display())).await;
    app2.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
}

#[tokio::test]
async fn ping_mode_uses_head_root() {
    let sim = spawn_sim().await;
    let app = app_for(&sim.url(), "mode = \"ping\"").await;
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
    assert!(a.json["checks"]["es:responseTime"][0]["output"]
        .as_str()
        .unwrap()
        .contains("answered HEAD / with 200"));
    // Elasticsearch 7 and later answer `GET /` from the node's local state
    // without an elected master; 6.x answered 503 with the info body.
    sim.set_mode(Mode::NoMaster).await.unwrap();
    let since = sim.requests();
    app.wait_for("/healthz", Duration::from_secs(3), |_| sim.requests() >= since + 3)
        .await;
    let a = app.get("/healthz").await;
    assert_eq!(a.status, 200, "8.x pings fine without a master: {}", a.body);
    sim.set_version("6.3.2").unwrap();
    let a = app
        .wait_for("/healthz", Duration::from_secs(3), |a| a.status == 503)
        .await;
    assert!(
        a.json["checks"]["es:responseTime"][0]["output"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{}",
        a.body
    );
    sim.set_mode(Mode::Green).await.unwrap();
    app.wait_for("/healthz", Duration::from_secs(3), |a| a.status == 200)
        .await;
}

/// Without a master, a real cluster answers master-routed requests only after
/// `master_timeout` (30 s by default). The check bounds that wait inside its
/// own timeout, so the reason names the cause instead of "timed out".
#[tokio::test]
async fn no_master_is_named_within_the_timeout_not_timed_out() {
    let sim = spawn_sim().await;
    sim.set_mode(Mode::NoMaster).await.unwrap();
    for mode in [
        "",
        "mode = \"index_health\"\nindices = [\"orders\"]",
        "mode = \"master\"",
        "mode = \"ccr\"",
    ] {
        let app = spawn_app(&es_check("es", &[sim.url()], "1s", "600ms", mode)).await;
        let first = |a: &Answer| a.json["checks"].as_object().unwrap().values().next().unwrap()[0].clone();
        let a = app
            .wait_for("/healthz", Duration::from_secs(4), |a| first(a)["status"] == "fail")
            .await;
        let out = first(&a)["output"].as_str().unwrap().to_string();
        assert!(out.contains("no elected master"), "{mode}: {out}");
        assert!(!out.contains("timed out"), "{mode}: {out}");
        app.stop().await;
    }
}

/// The simulator waits as Elasticsearch does: `master_timeout`, else `timeout`,
/// else 30 s; `local=true` answers at once from the node's own state (red).
#[tokio::test]
async fn simulator_without_master_waits_master_timeout() {
    let sim = spawn_sim().await;
    sim.set_mode(Mode::NoMaster).await.unwrap();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let timed = async |q: &str| {
        let t = Instant::now();
        let r = c.get(format!("{}/_cluster/health{q}", sim.url())).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap(), t.elapsed())
    };
    let (status, body, took) = timed("?master_timeout=300ms").await;
    assert_eq!(status, 503);
    assert!(body.contains("master_not_discovered_exception"), "{body}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    let (status, _, took) = timed("?timeout=200ms").await;
    assert_eq!(status, 503);
    assert!(took >= Duration::from_millis(200), "{took:?}");
    let (status, body, took) = timed("?local=true").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"red\""), "{body}");
    assert!(took < Duration::from_millis(200), "{took:?}");
    let (status, body, _) = timed("?master_timeout=2x").await;
    assert_eq!(status, 400);
    assert!(body.contains("failed to parse setting [master_timeout]"), "{body}");
    let slow = tokio::time::timeout(Duration::from_secs(1), timed("")).await;
    assert!(slow.is_err(), "the default wait is 30 s");
}

#[tokio::test]
async fn liveness_never_depends_on_elasticsearch() {
    let sim = spawn_sim().await;
    sim.set_mode(Mode::Refused).await.unwrap();
    let app = app_for(&sim.url(), "").await;
    app.wait_for("/healthz", Duration::from_secs(3), |a| {
        a.status == 503 && a.json["status"] == "fail"
    })
    .await;
    let live = app.get("/livez").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body, "ok\n");
    sim.set_mode(Mode::Hang).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.get("/livez").await.status, 200);
}

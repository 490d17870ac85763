//! CCR, health report, per-index health and master presence against the simulator.

use std::time::Duration;

use crate::support::app::*;
use healthgate::simulator::{CcrState, Mode};

const WAIT: Duration = Duration::from_secs(3);

async fn app(sim_url: &str, name: &str, extra: &str) -> TestApp {
    spawn_app(&es_check(name, &[sim_url.to_string()], "150ms", "100ms", extra)).await
}

/// Waits until the check's output contains `needle`; returns the answer.
async fn until_output(app: &TestApp, key: &str, needle: &str) -> Answer {
    app.wait_for("/healthz", WAIT, |a| output_of(a, key).contains(needle))
        .await
}

#[tokio::test]
async fn ccr_follower_states() {
    let sim = spawn_sim().await;
    let app = app(
        &sim.url(),
        "ccr",
        "mode = \"ccr\"\nfollowers = [\"follower_index\"]\nmax_lag_operations = 1000\nmax_time_since_last_read = \"60s\"",
    )
    .await;
    let key = "ccr:ccrLag";
    let a = until_output(&app, key, "max lag 256 operations").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["checks"][key][0]["observedValue"], 256.0);
    let m = app.get("/metrics").await.body;
    assert!(
        m.contains(r#"healthgate_es_ccr_lag_operations{check="ccr",follower="follower_index"} 256"#),
        "{m}"
    );
    assert!(m.contains(r#"healthgate_es_ccr_fatal_exception{check="ccr",follower="follower_index"} 0"#));

    sim.set_ccr(CcrState::Lagging);
    let a = until_output(&app, key, "lag 50000 operations > max_lag_operations 1000").await;
    assert_eq!(a.status, 503);
    assert!(
        output_of(&a, key).contains("last read 120s ago > max_time_since_last_read 1m"),
        "{}",
        a.body
    );

    sim.set_ccr(CcrState::ReadExceptions);
    let a = until_output(&app, key, "has 1 read exception(s): node_disconnected_exception").await;
    assert_eq!((a.status, status_of(&a, key).as_str()), (200, "warn"));

    sim.set_ccr(CcrState::Fatal);
    let a = until_output(&app, key, "shard 0 stopped: illegal_state_exception").await;
    assert_eq!(a.status, 503);
    let m = app.get("/metrics").await.body;
    assert!(m.contains(r#"healthgate_es_ccr_fatal_exception{check="ccr",follower="follower_index"} 1"#));

    sim.set_ccr(CcrState::Paused);
    let a = until_output(&app, key, "not being followed (paused, or not a follower index)").await;
    assert_eq!(a.status, 503);
}

#[tokio::test]
async fn ccr_unknown_follower_and_all_followers() {
    let sim = spawn_sim().await;
    let app1 = app(&sim.url(), "ccr", "mode = \"ccr\"\nfollowers = [\"nope\"]").await;
    // Elasticsearch answers a name with no follow task (a missing index, a
    // leader, a paused follower) with a 404 resource_not_found_exception.
    let a = until_output(&app1, "ccr:ccrLag", "No shard follow tasks for follower indices [nope]").await;
    assert_eq!(a.status, 503);
    assert!(output_of(&a, "ccr:ccrLag").starts_with("not being followed (paused, or not a follower index)"));

    let app2 = app(&sim.url(), "all", "mode = \"ccr\"").await;
    until_output(&app2, "all:ccrLag", "1 follower(s), max lag 256").await;
    let m = app2.get("/metrics").await.body;
    assert!(
        m.contains(r#"healthgate_es_ccr_lag_operations{check="all",follower="_all"} 256"#),
        "{m}"
    );
}

#[tokio::test]
async fn health_report_colours_and_symptoms() {
    let sim = spawn_sim().await;
    let app = app(&sim.url(), "report", "mode = \"health_report\"").await;
    let key = "report:healthReport";
    let a = until_output(&app, key, "health report green (8 indicators)").await;
    assert_eq!(a.status, 200);
    sim.set_mode(Mode::Red).await.unwrap();
    let a = until_output(
        &app,
        key,
        "shards_availability red: This cluster has 1 unavailable primary.",
    )
    .await;
    assert_eq!(a.status, 503);
    let m = app.get("/metrics").await.body;
    assert!(m.contains(r#"healthgate_es_health_indicator_status{check="report",indicator="shards_availability"} 2"#));
    assert!(m.contains(r#"healthgate_es_health_report_status{check="report"} 2"#));
    sim.set_mode(Mode::Yellow).await.unwrap();
    let a = until_output(&app, key, "1 unavailable replica shard").await;
    assert_eq!((a.status, status_of(&a, key).as_str()), (200, "warn"));
}

#[tokio::test]
async fn index_health_names_red_and_missing_indices() {
    let sim = spawn_sim().await;
    let app = app(
        &sim.url(),
        "idx",
        "mode = \"index_health\"\nindices = [\"orders\", \"logs\"]",
    )
    .await;
    let key = "idx:indexHealth";
    let a = until_output(&app, key, "index \"orders\" is green; index \"logs\" is green").await;
    assert_eq!(a.status, 200);
    sim.set_mode(Mode::Red).await.unwrap();
    let a = until_output(&app, key, "index \"orders\" is red").await;
    assert_eq!(a.status, 503);

    let app2 = app_missing(&sim.url()).await;
    sim.set_mode(Mode::Green).await.unwrap();
    let a = until_output(&app2, "gone:indexHealth", "index \"gone\" is red (missing)").await;
    assert_eq!(a.status, 503);
    let m = app2.get("/metrics").await.body;
    assert!(
        m.contains(r#"healthgate_es_index_status{check="gone",index="gone"} 2"#),
        "{m}"
    );
    assert!(
        m.contains(r#"healthgate_es_index_status{check="gone",index="orders"} 0"#),
        "{m}"
    );
}

async fn app_missing(url: &str) -> TestApp {
    app(url, "gone", "mode = \"index_health\"\nindices = [\"orders\", \"gone\"]").await
}

#[tokio::test]
async fn master_presence() {
    let sim = spawn_sim().await;
    let app = app(&sim.url(), "master", "mode = \"master\"").await;
    let key = "master:master";
    let a = until_output(&app, key, "elected master is YzWoH_2 (127.0.0.1)").await;
    assert_eq!(a.status, 200);
    sim.set_mode(Mode::NoMaster).await.unwrap();
    let a = until_output(&app, key, "no elected master: HTTP 503 master_not_discovered_exception").await;
    assert_eq!(a.status, 503);
    assert!(app
        .get("/metrics")
        .await
        .body
        .contains(r#"healthgate_es_master_present{check="master"} 0"#));
}

#[tokio::test]
async fn series_stay_present_while_the_cluster_is_unreachable() {
    let sim = spawn_sim().await;
    sim.set_mode(Mode::Red).await.unwrap();
    let app = spawn_app(&es_check("es", &[sim.url()], "150ms", "100ms", "min_nodes = 3")).await;
    app.wait_for("/healthz", WAIT, |a| status_of(a, "es:clusterHealth") == "fail")
        .await;
    sim.set_mode(Mode::Refused).await.unwrap();
    until_output(&app, "es:clusterHealth", "connection refused").await;
    let m = app.get("/metrics").await.body;
    for line in [
        r#"healthgate_es_cluster_status{check="es"} 2"#,
        r#"healthgate_es_nodes{check="es"} 2"#,
        r#"healthgate_es_unassigned_shards{check="es"} 62"#,
        r#"healthgate_es_expected_nodes{check="es"} 3"#,
        r#"healthgate_check_status{check="es",state="fail"} 1"#,
        r#"healthgate_status{state="fail"} 1"#,
    ] {
        assert!(m.contains(line), "missing {line} in\n{m}");
    }
}

#[tokio::test]
async fn a_scrape_storm_adds_no_elasticsearch_requests() {
    let sim = spawn_sim().await;
    let app = spawn_app(&es_check("es", &[sim.url()], "1s", "500ms", "")).await;
    app.wait_for("/healthz", WAIT, |a| a.status == 200).await;
    let before = sim.requests();
    let t0 = std::time::Instant::now();
    for _ in 0..20 {
        let batch: Vec<_> = (0..50).map(|_| app.client.get(app.url("/metrics")).send()).collect();
        for r in futures_util::future::join_all(batch).await {
            assert_eq!(r.unwrap().status(), 200);
        }
    }
    let added = sim.requests() - before;
    let allowed = t0.elapsed().as_secs_f64().ceil() as u64 + 1;
    assert!(
        added <= allowed,
        "1000 scrapes caused {added} ES requests; the schedule allows {allowed}"
    );
}

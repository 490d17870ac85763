//! The DR failback gate (`mode = "failback"`) against two simulated clusters:
//! the table, the latch and its confirmation through the admin API and the
//! CLI, metrics, and every bad input and peer fault the issue lists. The drill
//! through a real HAProxy is in `haproxy.rs`.

use std::time::{Duration, Instant};

use crate::support::app::*;
use healthgate::config::Config;
use healthgate::simulator::{CcrState, IndexChange, Mode, SimAuth, Simulator};

const WAIT: Duration = Duration::from_secs(5);
const KEY: &str = "dr:drFailback";
const TOKEN: &str = "dr-admin-token-0123456789";

/// A primary and a secondary whose `orders` follows the primary's.
pub async fn two_clusters() -> (Simulator, Simulator) {
    let (p, s) = (spawn_sim().await, spawn_sim().await);
    p.set_cluster("primary", "PRIMARYuuid0000000000a");
    s.set_cluster("secondary", "SECONDARYuuid00000000b");
    s.change_index("orders", follow("primary", 0, 0)).unwrap();
    (p, s)
}

pub fn follow(remote: &str, behind: u64, rate: u64) -> IndexChange {
    IndexChange::Follow {
        remote_cluster: remote.into(),
        leader_index: "orders".into(),
        behind,
        rate,
    }
}

/// The gate's check entry; `extra` adds keys.
pub fn gate_check(primary: &str, secondary: &str, extra: &str) -> String {
    format!(
        "[[checks]]\nname = \"dr\"\nkind = \"elasticsearch\"\nmode = \"failback\"\nurls = [\"{primary}\"]\npeer_urls = [\"{secondary}\"]\nindices = [\"orders\"]\npeer_alias = \"secondary\"\nalias_on_peer = \"primary\"\ninterval = \"200ms\"\ntimeout = \"180ms\"\njitter = \"0s\"\ncaught_up_rounds = 3\n{extra}\n"
    )
}

async fn until(app: &TestApp, needle: &str) -> Answer {
    app.wait_for("/healthz", WAIT, |a| output_of(a, KEY).contains(needle))
        .await
}

async fn gate_app(dir: &tempfile::TempDir, p: &Simulator, s: &Simulator, extra: &str) -> TestApp {
    let tok = dir.path().join("token");
    std::fs::write(&tok, TOKEN).unwrap();
    let server = format!("admin_token_file = \"{}\"", tok.display());
    spawn_app_with(&server, &gate_check(&p.url(), &s.url(), extra)).await
}

/// `healthgate dr ARGS --url APP` with the admin token in the environment.
async fn dr_cli(app: &TestApp, token: &str, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_healthgate"))
        .arg("dr")
        .args(args)
        .arg("--url")
        .arg(format!("http://{}", app.addr))
        .env("HEALTHGATE_ADMIN_TOKEN", token)
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn latch_confirm_and_switch_back_with_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = two_clusters().await;
    let app = gate_app(&dir, &p, &s, "").await;
    let a = until(&app, "caught up for 1 of 3 rounds").await;
    assert_eq!((a.status, status_of(&a, KEY).as_str()), (200, "warn"));
    let a = until(&app, "the secondary follows it, 0 operations behind").await;
    assert_eq!((a.status, status_of(&a, KEY).as_str()), (200, "pass"));
    let m = app.get("/metrics").await.body;
    for line in [
        r#"healthgate_es_dr_gate{check="dr"} 0"#,
        r#"healthgate_es_dr_local_role{check="dr",index="orders"} 1"#,
        r#"healthgate_es_dr_peer_role{check="dr",index="orders"} 2"#,
        r#"healthgate_es_dr_peer_lag_operations{check="dr",index="orders"} 0"#,
    ] {
        assert!(m.contains(line), "{line}\n{m}");
    }

    // Failover: the secondary's follower promoted. The gate latches.
    s.change_index("orders", IndexChange::Promote).unwrap();
    let a = until(&app, "orders is a leader on both clusters (the secondary was promoted").await;
    assert_eq!(a.status, 503);
    assert!(output_of(&a, KEY).contains("latched since"), "{}", a.body);
    let m = app.get("/metrics").await.body;
    assert!(m.contains(r#"healthgate_es_dr_gate{check="dr"} 3"#), "{m}");
    assert!(
        m.contains(r#"healthgate_es_dr_peer_role{check="dr",index="orders"} 1"#),
        "{m}"
    );

    // The admin API shows it; a confirmation without the token is refused.
    let c = &app.client;
    let r = c.get(app.url("/admin/dr")).bearer_auth(TOKEN).send().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(
        body["gates"][0]["latched"]["reason"]
            .as_str()
            .unwrap()
            .contains("leader on both clusters"),
        "{body}"
    );
    let r = c
        .post(app.url("/admin/dr/confirm"))
        .body(r#"{"reason":"x","ttl":"1h"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(app.url("/admin/dr/confirm"))
        .bearer_auth(TOKEN)
        .body(r#"{"reason":"","ttl":"1h"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // The CLI confirms; the gate opens (warn: the secondary is no follower).
    let out = dr_cli(
        &app,
        TOKEN,
        &["confirm", "--reason", "drill: writes replayed", "--ttl", "2s"],
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"confirmed\":true"));
    let a = until(&app, "an operator confirmed until").await;
    assert_eq!((a.status, status_of(&a, KEY).as_str()), (200, "warn"), "{}", a.body);
    // The confirmation expires with split leaders still there: latched again.
    let a = app
        .wait_for("/healthz", Duration::from_secs(6), |a| a.status == 503)
        .await;
    assert!(output_of(&a, KEY).contains("leader on both clusters"), "{}", a.body);

    // The planned switch back: the secondary follows the primary again, and
    // the gate opens only after three caught-up rounds.
    s.change_index("orders", follow("primary", 300, 1000)).unwrap();
    let a = until(&app, "orders on the secondary is").await;
    assert_eq!(a.status, 503, "{}", a.body);
    let a = until(&app, "caught up for 2 of 3 rounds").await;
    assert_eq!(a.status, 503, "still latched: {}", a.body);
    let a = app.wait_for("/healthz", WAIT, |a| a.status == 200).await;
    assert_eq!(status_of(&a, KEY), "pass", "{}", a.body);
}

#[tokio::test]
async fn an_alias_is_judged_by_its_index() {
    let (p, s) = two_clusters().await;
    s.change_index("orders", IndexChange::Promote).unwrap();
    let cfg = gate_check(&p.url(), &s.url(), "").replace("indices = [\"orders\"]", "indices = [\"orders-write\"]");
    let app = spawn_app(&cfg).await;
    // The secondary's alias resolves to its leader `orders`; here too.
    until(&app, "orders-write is a leader on both clusters").await;
    s.change_index("orders", follow("primary", 0, 0)).unwrap();
    // Stats are asked for the concrete follower index the alias named.
    until(&app, "orders-write: the secondary follows it, 0 operations behind").await;
}

#[tokio::test]
async fn check_config_warns_without_a_state_file_and_the_cli_shows_the_gate() {
    use crate::support::binary::{command, write_file};
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = two_clusters().await;
    let body = gate_check(&p.url(), &s.url(), "");
    let check_config = |path: &std::path::Path| {
        command()
            .arg("--config")
            .arg(path)
            .arg("check-config")
            .output()
            .unwrap()
    };
    let out = check_config(&write_file(dir.path(), "a.toml", &body));
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: check dr: no state_file, so a restart forgets a latched failback gate"),
        "{err}"
    );
    let path = write_file(
        dir.path(),
        "b.toml",
        &gate_check(
            &p.url(),
            &s.url(),
            &format!("state_file = \"{}\"", dir.path().join("g.json").display()),
        ),
    );
    let out = check_config(&path);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("Failback on") && summary.contains("latch kept in"),
        "{summary}"
    );

    s.change_index("orders", IndexChange::Promote).unwrap();
    let app = gate_app(&dir, &p, &s, "").await;
    until(&app, "latched since").await;
    let out = dr_cli(&app, TOKEN, &["status"]).await;
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gate = &v["gates"][0];
    assert_eq!(gate["check"], "dr");
    assert!(gate["latched"]["since"].is_string(), "{v}");
    assert_eq!(gate["clusters"]["peer"], "SECONDARYuuid00000000b");
    // A wrong token: refused, and a failing exit.
    let out = dr_cli(&app, "wrong-token-0123456789", &["status"]).await;
    assert!(!out.status.success());
}

#[tokio::test]
async fn probes_add_no_request_to_either_cluster() {
    let (p, s) = two_clusters().await;
    let app = spawn_app(&gate_check(&p.url(), &s.url(), "")).await;
    until(&app, "the secondary follows it").await;
    let (p0, s0, t0) = (p.requests(), s.requests(), Instant::now());
    for _ in 0..300 {
        assert_eq!(app.get("/healthz").await.status, 200);
    }
    let rounds = (t0.elapsed().as_millis() / 200 + 2) as u64;
    // A round: GET / and one _ccr/info per index on each side, _stats of
    // each leader, and _ccr/stats on the side with an active follower.
    let (dp, ds) = (p.requests() - p0, s.requests() - s0);
    assert!(dp <= rounds * 3, "{dp} requests to the primary in {rounds} rounds");
    assert!(ds <= rounds * 3, "{ds} requests to the secondary in {rounds} rounds");
}

#[tokio::test]
async fn writes_the_secondary_has_not_seen_are_lag() {
    let (p, s) = two_clusters().await;
    let app = spawn_app(&gate_check(&p.url(), &s.url(), "")).await;
    until(&app, "the secondary follows it, 0 operations behind").await;
    // The primary takes writes its follower has not read (a slow or broken
    // link, before time_since_last_read tells): measured against the
    // primary's own global checkpoint, not the follower's view of it.
    p.change_index("orders", IndexChange::Write(500)).unwrap();
    let a = until(
        &app,
        "orders on the secondary is 500 operations behind (max_lag_operations 0)",
    )
    .await;
    assert_eq!((a.status, status_of(&a, KEY).as_str()), (200, "warn"));
    let m = app.get("/metrics").await.body;
    assert!(
        m.contains(r#"healthgate_es_dr_peer_lag_operations{check="dr",index="orders"} 500"#),
        "{m}"
    );
}

#[tokio::test]
async fn reseeding_and_local_faults_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = two_clusters().await;
    s.change_index("orders", IndexChange::Promote).unwrap();
    p.change_index("orders", follow("secondary", 5000, 0)).unwrap();
    let app = gate_app(&dir, &p, &s, "").await;
    let a = until(&app, "orders is re-seeding from the secondary, 5000 operations behind").await;
    assert_eq!(a.status, 503);
    let m = app.get("/metrics").await.body;
    assert!(
        m.contains(r#"healthgate_es_dr_reseed_lag_operations{check="dr",index="orders"} 5000"#),
        "{m}"
    );

    // A follower of a third cluster here.
    p.change_index("orders", follow("elsewhere", 0, 0)).unwrap();
    until(&app, "follows elsewhere:orders, a third cluster, not the secondary").await;
    // The index missing here.
    p.change_index("orders", IndexChange::Delete).unwrap();
    let a = until(&app, "orders does not exist on this cluster").await;
    assert_eq!(a.status, 503);
    // This cluster unreachable.
    p.set_mode(Mode::Refused).await.unwrap();
    let a = until(&app, "this cluster: ").await;
    assert!(output_of(&a, KEY).contains("connection refused"), "{}", a.body);
}

#[tokio::test]
async fn peer_faults_warn_with_a_reason_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = two_clusters().await;
    let app = gate_app(&dir, &p, &s, "").await;
    until(&app, "the secondary follows it").await;

    s.set_mode(Mode::Unauthorized).await.unwrap();
    let a = until(&app, "authentication failed").await;
    assert_eq!((a.status, status_of(&a, KEY).as_str()), (200, "warn"));
    s.set_mode(Mode::Forbidden).await.unwrap();
    until(&app, "needs the cluster privilege \"monitor\"").await;

    // Hung: the peer's share of the round ends first, with its own reason.
    s.set_mode(Mode::Hang).await.unwrap();
    let a = until(&app, "the secondary: no answer within").await;
    assert_eq!(status_of(&a, KEY), "warn", "{}", a.body);
    let started = Instant::now();
    app.get("/healthz").await;
    assert!(started.elapsed() < FAST_PROBE, "a probe never waits on the peer");

    // The index missing on the secondary; a follower of a third cluster there.
    s.set_mode(Mode::Green).await.unwrap();
    s.change_index("orders", IndexChange::Delete).unwrap();
    until(&app, "orders does not exist on the secondary").await;
    s.change_index("orders", follow("third", 0, 0)).unwrap();
    until(&app, "follows third:orders, a third cluster, not this one").await;
    s.change_index("orders", follow("primary", 0, 0)).unwrap();
    s.change_index("orders", IndexChange::Condition(CcrState::Fatal))
        .unwrap();
    until(&app, "stopped replicating: shard 0 stopped: illegal_state_exception").await;
    s.change_index("orders", IndexChange::Pause).unwrap();
    until(&app, "is a paused follower").await;
    s.change_index("orders", IndexChange::Resume).unwrap();
    s.change_index("orders", IndexChange::Condition(CcrState::Following))
        .unwrap();
    until(&app, "the secondary follows it").await;

    // Another cluster behind the secondary's address: fail, and say so.
    s.set_cluster("impostor", "IMPOSTORuuid0000000000c");
    let a = until(
        &app,
        "the secondary is now cluster \"impostor\" (IMPOSTORuuid0000000000c)",
    )
    .await;
    assert_eq!(a.status, 503);
}

#[tokio::test]
async fn peer_unreachable_fail_and_peer_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = two_clusters().await;
    s.set_auth(SimAuth::Basic("gate".into(), "s3cret-peer-pass".into()));
    std::env::set_var("HG_TEST_PEER_PASS", "s3cret-peer-pass");
    let extra = "peer_username = \"gate\"\npeer_password_env = \"HG_TEST_PEER_PASS\"\npeer_unreachable = \"fail\"";
    let app = gate_app(&dir, &p, &s, extra).await;
    until(&app, "the secondary follows it").await;
    s.set_mode(Mode::Refused).await.unwrap();
    let a = until(&app, "(peer_unreachable = \"fail\")").await;
    assert_eq!(a.status, 503);
    assert!(!a.body.contains("s3cret-peer-pass"));
}

/// `/healthz` of a binary's check `dr`: (status, output).
pub async fn gate_of(url: &str) -> (u16, String) {
    let c = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    match c.get(format!("{url}/healthz")).send().await {
        Ok(r) => {
            let code = r.status().as_u16();
            let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or_default();
            (
                code,
                v["checks"][KEY][0]["output"].as_str().unwrap_or_default().to_string(),
            )
        }
        Err(e) => (0, e.to_string()),
    }
}

/// Polls a binary's gate until its output contains `needle`.
pub async fn until_binary(url: &str, needle: &str, within: Duration) -> (u16, String) {
    let deadline = Instant::now() + within;
    loop {
        let got = gate_of(url).await;
        if got.1.contains(needle) {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "no \"{needle}\" within {within:?}; last: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_latch_survives_a_reload_that_changes_the_check() {
    use crate::support::binary::serve;
    use crate::support::process::Signal;
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = two_clusters().await;
    s.change_index("orders", IndexChange::Promote).unwrap();
    let (run, url) = serve(dir.path(), &gate_check(&p.url(), &s.url(), ""));
    until_binary(&url, "latched since", WAIT).await;
    // The secondary follows again, and the check changes (rebuilt on reload):
    // without the latch, three caught-up rounds would open it at once.
    s.change_index("orders", follow("primary", 0, 0)).unwrap();
    let port = url.rsplit(':').next().unwrap();
    let path = dir.path().join(format!("healthgate-{port}.toml"));
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("caught_up_rounds = 3", "caught_up_rounds = 20");
    std::fs::write(&path, text).unwrap();
    run.signal(Signal::HUP);
    run.wait_log("reloaded: 0 checks kept, 1 started", WAIT)
        .expect("reloaded");
    let (code, out) = until_binary(&url, "caught up for 5 of 20 rounds", WAIT).await;
    assert_eq!(code, 503, "a reload keeps the latch: {out}");
    assert!(out.contains("latched since"), "{out}");
}

#[test]
fn bad_configurations_name_the_key() {
    let base = gate_check("http://127.0.0.1:9200", "http://127.0.0.1:9201", "");
    let cases = [
        (
            base.replace("indices = [\"orders\"]", "indices = []"),
            "indices",
            "at least one index",
        ),
        (base.replace("9201", "9200"), "peer_urls[0]", "is also in urls"),
        (
            base.replace("peer_urls = [\"http://127.0.0.1:9201\"]\n", ""),
            "peer_urls",
            "missing required key",
        ),
        (
            base.replace("caught_up_rounds = 3", "caught_up_rounds = 0"),
            "caught_up_rounds",
            "must be between 1 and",
        ),
        (
            base.replace("mode = \"failback\"", "mode = \"failback\"\nrole = \"secondary\""),
            "role",
            "expected \"primary\"",
        ),
        (
            base.replace("mode = \"failback\"", "mode = \"ccr\""),
            "peer_urls",
            "only used with mode = \"failback\"",
        ),
        (
            format!("{base}state_file = \"/nonexistent-dir/gate.json\"\n"),
            "state_file",
            "does not exist",
        ),
        (
            format!("{base}peer_unreachable = \"ignore\"\n"),
            "peer_unreachable",
            "expected \"warn\" or \"fail\"",
        ),
    ];
    for (text, key, needle) in cases {
        let err = Config::from_toml_str(&text).expect_err(key).to_string();
        assert!(
            err.contains(&format!("checks[0].{key}")) && err.contains(needle),
            "{key}: {err}"
        );
    }
}

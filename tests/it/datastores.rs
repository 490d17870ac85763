//! PostgreSQL, MariaDB, Redis and Memcached checks against real servers started by
//! the test (Debian packages installed by scripts/test), through healthgate's API.

use std::time::{Duration, Instant};

use crate::support::app::*;
use crate::support::binary::serve;
use crate::support::mariadb::Mariadb;
use crate::support::memcached::memcached;
use crate::support::postgres::Postgres;
use crate::support::redis::redis;

const WAIT: Duration = Duration::from_secs(10);

fn check(name: &str, kind: &str, body: &str) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"{kind}\"\ninterval = \"500ms\"\ntimeout = \"450ms\"\njitter = \"0s\"\n{body}\n"
    )
}

fn secret_file(dir: &tempfile::TempDir, name: &str, value: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, format!("{value}\n")).unwrap();
    p.display().to_string()
}

async fn until(app: &TestApp, key: &str, needle: &str) -> Answer {
    app.wait_for("/healthz", WAIT, |a| output_of(a, key).contains(needle))
        .await
}

/// While a dependency is paused, /healthz keeps answering at once.
async fn fast_while(app: &TestApp, within: Duration) {
    let t0 = Instant::now();
    let mut slowest = Duration::ZERO;
    while t0.elapsed() < within {
        slowest = slowest.max(app.get("/healthz").await.elapsed);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(slowest < FAST_PROBE, "slowest /healthz {slowest:?}");
}

/// Runs the healthgate binary with `checks` until `/healthz` satisfies `done`
/// (at most 10 s); returns the body.
async fn binary_health(dir: &tempfile::TempDir, checks: &str, done: impl Fn(&str) -> bool) -> String {
    let (child, url) = serve(dir.path(), checks);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let t0 = Instant::now();
    let mut last = String::new();
    while t0.elapsed() < WAIT {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await {
            last = r.text().await.unwrap_or_default();
            if done(&last) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(child);
    last
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pass_errors_pause_restart_and_replica() {
    let pg = blocking(Postgres::start).await;
    let port = pg.server.port;
    let dir = tempfile::tempdir().unwrap();
    let good = secret_file(&dir, "good", "apppw");
    let bad = secret_file(&dir, "bad", "wrong-pw-marker");
    let url = format!("postgres://app@127.0.0.1:{port}/appdb");
    let mut cfg = check(
        "pg",
        "postgres",
        &format!("url = \"{url}\"\npassword_file = \"{good}\""),
    );
    cfg += &check(
        "pgprimary",
        "postgres",
        &format!("url = \"{url}\"\npassword_file = \"{good}\"\nexpect_primary = true"),
    );
    let app = spawn_app(&cfg).await;
    // Every check's first result, not just this one's, decides the overall status.
    let a = app
        .wait_for("/healthz", WAIT, |a| {
            a.status == 200 && output_of(a, "pg:responseTime").contains("query ok")
        })
        .await;
    assert_eq!(status_of(&a, "pgprimary:responseTime"), "pass", "{}", a.body);
    // Rejected credentials and an unknown database, through the real binary.
    let mut bad_cfg = check(
        "pgbad",
        "postgres",
        &format!("url = \"{url}\"\npassword_file = \"{bad}\""),
    );
    bad_cfg += &check(
        "pgnodb",
        "postgres",
        &format!("url = \"postgres://app@127.0.0.1:{port}/nope\"\npassword_file = \"{good}\""),
    );
    let body = binary_health(&dir, &bad_cfg, |b| {
        b.contains("pgbad") && b.contains("pgnodb") && !b.contains("unknown")
    })
    .await;
    assert!(
        body.contains(r#"postgres: password authentication failed for user \"app\""#),
        "{body}"
    );
    assert!(body.contains(r#"postgres: database \"nope\" does not exist"#), "{body}");
    assert!(!body.contains("wrong-pw-marker"));

    // Paused: timeouts, and /healthz stays fast.
    pg.server.pause();
    until(&app, "pg:responseTime", "timed out after 450ms").await;
    fast_while(&app, Duration::from_millis(600)).await;
    pg.server.resume();
    until(&app, "pg:responseTime", "query ok").await;

    // Stopped, then restarted: recovery without restarting healthgate.
    let mut pg = pg;
    let pg = blocking(move || {
        pg.server.stop();
        pg
    })
    .await;
    until(&app, "pg:responseTime", "connection refused").await;
    let pg = blocking(move || {
        let mut pg = pg;
        pg.server.restart();
        pg
    })
    .await;
    app.wait_for("/healthz", WAIT, |a| {
        a.status == 200 && output_of(a, "pg:responseTime").contains("query ok")
    })
    .await;

    // A streaming replica.
    let (pg, replica) = blocking(move || {
        let r = pg.replica();
        (pg, r)
    })
    .await;
    let rurl = format!("postgres://app@127.0.0.1:{}/appdb", replica.port);
    let mut cfg = check(
        "replica",
        "postgres",
        &format!("url = \"{rurl}\"\npassword_file = \"{good}\"\nexpect_replica = true\nmax_replication_lag = \"10s\""),
    );
    cfg += &check(
        "notprimary",
        "postgres",
        &format!("url = \"{rurl}\"\npassword_file = \"{good}\"\nexpect_primary = true"),
    );
    let app2 = spawn_app(&cfg).await;
    until(&app2, "replica:responseTime", "replica, lag").await;
    until(
        &app2,
        "notprimary:responseTime",
        "expected a primary, the server is a replica",
    )
    .await;
    drop(replica);
    drop(pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_pass_errors_read_only_and_restart() {
    let db = blocking(Mariadb::start).await;
    let port = db.server.port;
    let dir = tempfile::tempdir().unwrap();
    let good = secret_file(&dir, "good", "apppw");
    let bad = secret_file(&dir, "bad", "wrong-pw-marker");
    let url = format!("mysql://app@127.0.0.1:{port}/appdb");
    let mut cfg = check(
        "my",
        "mysql",
        &format!("url = \"{url}\"\npassword_file = \"{good}\"\nread_only = false"),
    );
    cfg += &check(
        "mybad",
        "mysql",
        &format!("url = \"{url}\"\npassword_file = \"{bad}\"\ncritical = false"),
    );
    cfg += &check(
        "mynodb",
        "mysql",
        &format!("url = \"mysql://app@127.0.0.1:{port}/nope\"\npassword_file = \"{good}\"\ncritical = false"),
    );
    cfg += &check(
        "myro",
        "mysql",
        &format!("url = \"{url}\"\npassword_file = \"{good}\"\nread_only = true\ncritical = false"),
    );
    cfg += &check(
        "mylag",
        "mysql",
        &format!("url = \"{url}\"\npassword_file = \"{good}\"\nmax_replica_lag = \"5s\"\ncritical = false"),
    );
    let app = spawn_app(&cfg).await;
    let a = until(&app, "my:responseTime", "read_only OFF").await;
    assert_eq!(status_of(&a, "my:responseTime"), "pass");
    let a = until(&app, "mybad:responseTime", "Access denied for user 'app'").await;
    assert!(!a.body.contains("wrong-pw-marker"));
    until(&app, "mynodb:responseTime", "database 'nope'").await;
    until(&app, "myro:responseTime", "read_only is OFF, expected true").await;
    until(&app, "mylag:responseTime", "not a replica").await;

    db.server.pause();
    until(&app, "my:responseTime", "timed out after 450ms").await;
    fast_while(&app, Duration::from_millis(600)).await;
    db.server.resume();
    until(&app, "my:responseTime", "read_only OFF").await;

    let db = blocking(move || {
        let mut db = db;
        db.server.stop();
        db
    })
    .await;
    until(&app, "my:responseTime", "connection refused").await;
    let db = blocking(move || {
        let mut db = db;
        db.server.restart();
        db
    })
    .await;
    until(&app, "my:responseTime", "read_only OFF").await;
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_auth_roles_pause_and_restart() {
    let (primary, _d1) = blocking(|| redis(None)).await;
    let (replica, _d2) = blocking({
        let p = primary.port;
        move || redis(Some(p))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pw = secret_file(&dir, "pw", "pw1");
    let app_pw = secret_file(&dir, "apppw", "apppw");
    let bad = secret_file(&dir, "bad", "wrong-pw-marker");
    let (p, r) = (primary.port, replica.port);
    let mut cfg = check(
        "rd",
        "redis",
        &format!("url = \"redis://127.0.0.1:{p}/0\"\npassword_file = \"{pw}\"\nexpect_role = \"master\""),
    );
    cfg += &check(
        "acl",
        "redis",
        &format!("url = \"redis://app@127.0.0.1:{p}/2\"\npassword_file = \"{app_pw}\""),
    );
    cfg += &check(
        "bad",
        "redis",
        &format!("url = \"redis://127.0.0.1:{p}\"\npassword_file = \"{bad}\"\ncritical = false"),
    );
    cfg += &check(
        "noauth",
        "redis",
        &format!("url = \"redis://127.0.0.1:{p}\"\ncritical = false"),
    );
    cfg += &check(
        "rep",
        "redis",
        &format!("url = \"redis://127.0.0.1:{r}\"\npassword_file = \"{pw}\"\nexpect_role = \"replica\""),
    );
    cfg += &check(
        "repmaster",
        "redis",
        &format!(
            "url = \"redis://127.0.0.1:{r}\"\npassword_file = \"{pw}\"\nexpect_role = \"master\"\ncritical = false"
        ),
    );
    let app = spawn_app(&cfg).await;
    let a = app
        .wait_for("/healthz", WAIT, |a| {
            a.status == 200 && output_of(a, "rep:responseTime").contains("role slave")
        })
        .await;
    assert!(
        output_of(&a, "rd:responseTime").contains("PONG, role master"),
        "{}",
        a.body
    );
    assert!(output_of(&a, "acl:responseTime").contains("PONG"), "{}", a.body);
    let a = until(&app, "bad:responseTime", "redis: authentication failed").await;
    assert!(!a.body.contains("wrong-pw-marker"));
    until(&app, "noauth:responseTime", "NOAUTH").await;
    until(
        &app,
        "repmaster:responseTime",
        "expected role master, the server is slave",
    )
    .await;

    primary.pause();
    until(&app, "rd:responseTime", "timed out after 450ms").await;
    fast_while(&app, Duration::from_millis(600)).await;
    primary.resume();
    until(&app, "rd:responseTime", "role master").await;

    let primary = blocking(move || {
        let mut p = primary;
        p.stop();
        p
    })
    .await;
    until(&app, "rd:responseTime", "connection refused").await;
    let primary = blocking(move || {
        let mut p = primary;
        p.restart();
        p
    })
    .await;
    // A restarted server lost its ACL users (no persistence): the primary check
    // with requirepass recovers.
    until(&app, "rd:responseTime", "role master").await;
    drop((primary, replica));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memcached_version_and_tcp_banner() {
    let mc = blocking(memcached).await;
    let port = mc.port;
    let mut cfg = check(
        "mc",
        "memcached",
        &format!("address = \"memcached://127.0.0.1:{port}\""),
    );
    cfg += &check(
        "banner",
        "tcp",
        &format!("address = \"127.0.0.1:{port}\"\nsend = \"version\\r\\n\"\nexpect = \"VERSION 1.\""),
    );
    cfg += &check(
        "wrongbanner",
        "tcp",
        &format!("address = \"127.0.0.1:{port}\"\nsend = \"version\\r\\n\"\nexpect = \"SSH-2.0\"\ncritical = false"),
    );
    let app = spawn_app(&cfg).await;
    app.wait_for("/healthz", WAIT, |a| {
        a.status == 200 && output_of(a, "mc:responseTime").contains("memcached 1.")
    })
    .await;
    until(&app, "banner:connectTime", "banner matched").await;
    until(
        &app,
        "wrongbanner:connectTime",
        "no \"SSH-2.0\" within 405ms (got \"VERSION 1.",
    )
    .await;
    let mc = blocking(move || {
        let mut mc = mc;
        mc.stop();
        mc
    })
    .await;
    until(&app, "mc:responseTime", "connection refused").await;
    let _mc = blocking(move || {
        let mut mc = mc;
        mc.restart();
        mc
    })
    .await;
    until(&app, "mc:responseTime", "memcached 1.").await;
}

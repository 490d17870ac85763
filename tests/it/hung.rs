//! Dependencies that hang for many intervals must not pile anything up: the real
//! binary, every kind hung at once, rounds cut off by the timeout ten times a
//! second; runtime tasks and open files stay flat, and cut-off PostgreSQL queries
//! do not keep running on the server.

use std::time::{Duration, Instant};

use crate::support::app::FAST_PROBE;
use crate::support::binary::serve;
use crate::support::fault::Fault;
use crate::support::rig::Rig;

/// The value of an unlabelled series in a scrape.
fn gauge(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

/// Dependencies that hang for many intervals, in every way they can hang: the
/// proxies accept and never answer (so connects hang mid-handshake), and queries
/// that never end on connections that did open. Rounds are cut off by the
/// timeout ten times a second; the sidecar's tasks and open files stay flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_dependencies_leave_tasks_and_files_flat() {
    let rig = Rig::start().await;
    let schedule = "interval = \"100ms\"\ntimeout = \"90ms\"\njitter = \"0s\"\nrise = 1\nfall = 1";
    let mut checks = rig.checks(schedule);
    let pw = rig.dir.path().join("pw").display().to_string();
    checks += &format!(
        "[[checks]]\nname = \"pgsleep\"\nkind = \"postgres\"\n{schedule}\nurl = \"postgres://app@127.0.0.1:{}/appdb\"\npassword_file = \"{pw}\"\nquery = \"SELECT pg_sleep(60)\"\n",
        rig.pg.server.port
    );
    checks += &format!(
        "[[checks]]\nname = \"mysleep\"\nkind = \"mysql\"\n{schedule}\nurl = \"mysql://app@127.0.0.1:{}/appdb\"\npassword_file = \"{pw}\"\nquery = \"SELECT SLEEP(60)\"\n",
        rig.my.server.port
    );
    rig.set(Fault::Blackhole);
    let (child, url) = serve(rig.dir.path(), &checks);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let scrape = async || {
        let m = client
            .get(format!("{url}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (
            gauge(&m, "healthgate_runtime_alive_tasks"),
            gauge(&m, "process_open_fds"),
            m,
        )
    };
    // A sample catches some rounds mid-connect, so compare the highest of ten
    // samples over a second, early and late.
    let window = async || {
        let (mut tasks, mut fds, mut last) = (0f64, 0f64, String::new());
        for _ in 0..10 {
            let (t, f, m) = scrape().await;
            (tasks, fds, last) = (tasks.max(t), fds.max(f), m);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (tasks, fds, last)
    };
    // Settle: every check has been cut off a few times.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (tasks0, fds0, _) = window().await;
    let t0 = Instant::now();
    let mut slowest = Duration::ZERO;
    while t0.elapsed() < Duration::from_secs(5) {
        let t = Instant::now();
        let r = client.get(format!("{url}/healthz")).send().await.unwrap();
        slowest = slowest.max(t.elapsed());
        assert_eq!(r.status(), 503);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (tasks1, fds1, m) = window().await;
    let runs: f64 = m
        .lines()
        .filter(|l| l.starts_with("healthgate_check_runs_total{") && l.contains("outcome=\"timeout\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    // Cut-off queries were cancelled on the server too: backends do not pile up.
    let (pg, io) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={} user=app password=apppw dbname=appdb",
            rig.pg.server.port
        ),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(io);
    let sleeping: i64 = pg
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(sleeping <= 2, "{sleeping} cut-off queries still running on the server");
    drop(child);
    rig.set(Fault::Pass);
    eprintln!("tasks {tasks0} -> {tasks1}, fds {fds0} -> {fds1}, {runs} rounds cut off");
    assert!(runs >= 9.0 * 50.0, "expected many cut-off rounds, saw {runs}");
    assert!(
        tasks1 <= tasks0 + 2.0,
        "tasks grew from {tasks0} to {tasks1} over {runs} cut-off rounds"
    );
    assert!(
        fds1 <= fds0 + 2.0,
        "open files grew from {fds0} to {fds1} over {runs} cut-off rounds"
    );
    // Under the 90 ms check timeout (see FAST_PROBE for the margin).
    assert!(slowest < FAST_PROBE, "slowest /healthz {slowest:?}");
}

//! The fault matrix: every network check kind, each behind a fault-injecting proxy
//! in front of a real server (PostgreSQL, MariaDB, Redis, Memcached) or the
//! Elasticsearch simulator (elasticsearch, http, tcp). For each transport fault,
//! every check must reach the expected status with a reason naming the cause,
//! while `/healthz` keeps answering at once (under 50 ms round trip from a client
//! sharing the machine with the checks, against fault delays of 200 ms and
//! more). Then: hysteresis holds through
//! a dependency that flaps every round. (Hung dependencies left for many
//! intervals: tests/hung.rs.)
//!
//! HTTP-level faults (5xx, invalid JSON, wrong shape, a 10 GiB body, a stalled
//! body) are the simulator's modes, covered for both HTTP kinds below; TLS faults
//! are in tests/tls.rs; names that do not resolve in tests/probes.rs and here.

use std::time::{Duration, Instant};

use crate::support::app::*;
use crate::support::fault::Fault;
use crate::support::rig::{Rig, KINDS};
use healthgate::simulator::Mode;

/// The check's state and output in an aggregate body.
fn check_of(a: &Answer, name: &str) -> (String, String) {
    let c = a.json["checks"]
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.starts_with(&format!("{name}:"))))
        .map(|(_, v)| v[0].clone())
        .unwrap_or_default();
    (
        c["status"].as_str().unwrap_or("").to_string(),
        c["output"].as_str().unwrap_or("").to_string(),
    )
}

/// Polls /healthz until every check matches `want(name) = (status, any of reasons)`;
/// every answer along the way must be [`FAST_PROBE`] (the smallest delay a fault
/// adds is 200 ms).
async fn converge<'a>(app: &TestApp, what: &str, want: impl Fn(&str) -> (&'static str, &'a [&'a str])) {
    reach(app, what, want, Some(FAST_PROBE)).await
}

/// The first convergence after start (connections being opened, the test's own
/// client warming up) is not a fault: only reached, not timed.
async fn started(app: &TestApp) {
    reach(app, "all pass after start", |_| ("pass", &[]), None).await
}

async fn reach<'a>(
    app: &TestApp,
    what: &str,
    want: impl Fn(&str) -> (&'static str, &'a [&'a str]),
    fast: Option<Duration>,
) {
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut slowest = Duration::ZERO;
    loop {
        let a = app.get("/healthz").await;
        slowest = slowest.max(a.elapsed);
        let missing: Vec<String> = KINDS
            .iter()
            .filter_map(|name| {
                let (status, output) = check_of(&a, name);
                let (want_status, reasons) = want(name);
                let ok = (want_status == "*" || status == want_status)
                    && (reasons.is_empty() || reasons.iter().any(|r| output.contains(r)));
                (!ok).then(|| format!("{name}: {status} {output:?} (want {want_status} {reasons:?})"))
            })
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within 8 s:\n{}",
            missing.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(limit) = fast {
        assert!(slowest < limit, "{what}: slowest /healthz {slowest:?}");
    }
}

/// A dependency that does not answer in time.
fn timed_out(name: &str) -> (&'static str, &'static [&'static str]) {
    match name {
        // tcp stops reading at nine tenths of its budget, to say what it saw.
        "tcp" => ("fail", &["no \"for Search\" within 540ms (got \"\")"]),
        _ => ("fail", &["timed out after 600ms"]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_through_every_transport_fault() {
    let rig = Rig::start().await;
    let schedule = "interval = \"600ms\"\ntimeout = \"600ms\"\njitter = \"0s\"\nrise = 1\nfall = 1";
    let app = spawn_app(&rig.checks(schedule)).await;
    started(&app).await;

    rig.set(Fault::Refuse);
    converge(&app, "refused", |_| ("fail", &["connection refused"])).await;
    rig.set(Fault::Pass);
    converge(&app, "recovered from refused", |_| ("pass", &[])).await;

    rig.set(Fault::Blackhole);
    converge(&app, "accept, never answer", timed_out).await;
    rig.set(Fault::Pass);
    converge(&app, "recovered from blackhole", |_| ("pass", &[])).await;

    rig.set(Fault::ResetMidResponse);
    converge(&app, "reset mid-response", |_| ("fail", &["connection reset by peer"])).await;
    rig.set(Fault::Pass);
    converge(&app, "recovered from reset", |_| ("pass", &[])).await;

    // Slow but inside the timeout: still a pass, and the delay is really there.
    rig.set(Fault::Slow(Duration::from_millis(200)));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    converge(&app, "slow, under the timeout", |_| ("pass", &[])).await;
    let m = app.get("/metrics").await.body;
    for name in KINDS {
        let slow = slow_rounds(&m, name);
        assert!(slow >= 1.0, "{name}: no round took over 100 ms while slowed:\n{m}");
    }
    rig.set(Fault::Slow(Duration::from_millis(1000)));
    converge(&app, "slow, over the timeout", timed_out).await;
    rig.set(Fault::Pass);
    converge(&app, "recovered from slow", |_| ("pass", &[])).await;

    // HTTP-level faults for both HTTP kinds (the simulator answers /_cluster/health).
    for (mode, es, http) in [
        (
            Mode::ServerError,
            "HTTP 500 null_pointer_exception",
            "unexpected HTTP status 500: {\"error\":{\"root_cause\"",
        ),
        (
            Mode::ServerErrorEmpty,
            "HTTP 500",
            "unexpected HTTP status 500 (empty body)",
        ),
        (Mode::Garbage, "invalid JSON", "not JSON"),
        (Mode::WrongShape, "unexpected cluster health shape", "/status"),
        (Mode::Huge, "exceeds the 1048576 byte cap", "exceeds"),
        (Mode::StallBody, "timed out after 600ms", "timed out after 600ms"),
    ] {
        rig.sim.set_mode(mode.clone()).await.unwrap();
        let (es, http) = ([es], [http]);
        converge(&app, &format!("{mode:?}"), |name| match name {
            "es" => ("fail", &es[..]),
            "http" => ("fail", &http[..]),
            // tcp reads the same server: whatever it says is beside the point here.
            "tcp" => ("*", &[]),
            _ => ("pass", &[]),
        })
        .await;
        rig.sim.set_mode(Mode::Green).await.unwrap();
        converge(&app, "recovered from the HTTP fault", |_| ("pass", &[])).await;
    }
    app.stop().await;

    flapping_is_absorbed_by_hysteresis(&rig).await;
}

/// Rounds of `check` slower than 100 ms, from the duration histogram.
fn slow_rounds(metrics: &str, check: &str) -> f64 {
    let series = |le: &str| {
        let prefix = format!("healthgate_check_duration_seconds_bucket{{check=\"{check}\",le=\"{le}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    series("+Inf") - series("0.1")
}

/// Every other round fails (odd connections are reset, even ones close after use):
/// with `fall = 3` the state never leaves pass, and both outcomes are counted.
async fn flapping_is_absorbed_by_hysteresis(rig: &Rig) {
    let schedule = "interval = \"200ms\"\ntimeout = \"200ms\"\njitter = \"0s\"\nrise = 2\nfall = 3";
    let app = spawn_app(&rig.checks(schedule)).await;
    started(&app).await;
    rig.set(Fault::Flap);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(3) {
        let a = app.get("/healthz").await;
        assert_eq!(a.status, 200, "flapping reached the overall status: {}", a.body);
        assert!(a.elapsed < FAST_PROBE, "slow /healthz {:?}", a.elapsed);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let m = app.get("/metrics").await.body;
    for name in KINDS {
        let runs = |outcome: &str| runs_total(&m, name, outcome);
        assert!(runs("fail") >= 3 && runs("pass") >= 3, "{name} did not flap: {m}");
        let transitions = format!("healthgate_check_transitions_total{{check=\"{name}\"}} ");
        let n = m.lines().find_map(|l| l.strip_prefix(&transitions)).unwrap_or("?");
        assert_eq!(n, "1", "{name}: only unknown -> pass, never a flap");
    }
    rig.set(Fault::Pass);
    app.stop().await;
}

/// A host name that does not resolve fails every kind with a reason that says so.
// Multi-threaded: the test's client must not share a thread with the checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_do_not_resolve_fail_every_kind() {
    let host = "no-such-host.invalid";
    let schedule = "interval = \"1s\"\ntimeout = \"900ms\"\njitter = \"0s\"\nrise = 1\nfall = 1";
    let bodies = [
        format!("kind = \"elasticsearch\"\nurls = [\"http://{host}:9200\"]"),
        format!("kind = \"http\"\nurl = \"http://{host}/\""),
        format!("kind = \"tcp\"\naddress = \"{host}:80\""),
        format!("kind = \"postgres\"\nurl = \"postgres://app@{host}:5432/appdb\""),
        format!("kind = \"mysql\"\nurl = \"mysql://app@{host}:3306/appdb\""),
        format!("kind = \"redis\"\nurl = \"redis://{host}:6379/0\""),
        format!("kind = \"memcached\"\naddress = \"{host}:11211\""),
        format!("kind = \"grpc\"\naddress = \"{host}:50051\""),
    ];
    let cfg: String = KINDS
        .iter()
        .zip(bodies)
        .map(|(name, body)| format!("[[checks]]\nname = \"{name}\"\n{schedule}\n{body}\n"))
        .collect();
    let app = spawn_app(&cfg).await;
    converge(&app, "unresolvable names", |_| ("fail", &["does not resolve"])).await;
}

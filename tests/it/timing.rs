//! Check timing that follows the state, measured with real parts: a real
//! HAProxy (the shipped `haproxy/app-backend.cfg`, `fall 3 rise 2`) in front of
//! sidecars with and without `fast_interval`, and the upstream-requests counter
//! against the simulator's own count.

use std::time::{Duration, Instant};

use healthgate::simulator::Mode;

use crate::support::app::*;
use crate::support::haproxy::*;

/// The sidecar's Elasticsearch check: `fall = 3`, `rise = 2` like HAProxy's.
fn sidecar(es: &str, interval: &str, fast: Option<&str>) -> String {
    let fast = fast.map(|f| format!("fast_interval = \"{f}\"\n")).unwrap_or_default();
    format!(
        "[[checks]]\nname = \"es\"\nkind = \"elasticsearch\"\nurls = [\"{es}\"]\ninterval = \"{interval}\"\ntimeout = \"150ms\"\njitter = \"0s\"\nfall = 3\nrise = 2\n{fast}"
    )
}

/// Measured: seconds from the cluster turning red to HAProxy's DOWN, and from
/// green again to UP; and the simulator's requests over a steady 4 s.
struct Measured {
    evicted: Duration,
    readmitted: Duration,
    steady_requests: u64,
}

async fn measure(inter: &str, fast: Option<&str>) -> Measured {
    let sim = spawn_sim().await;
    let (a1, a2) = (
        backend("app1", "127.0.0.1:0").await,
        backend("app2", "127.0.0.1:0").await,
    );
    let h1 = spawn_app(&sidecar(&sim.url(), inter, fast)).await;
    let h2 = spawn_app(&sidecar(&sim.url(), inter, fast)).await;
    let env = vec![
        ("APP1_ADDR", a1.addr.to_string()),
        ("APP2_ADDR", a2.addr.to_string()),
        ("APP1_HEALTH_PORT", h1.addr.port().to_string()),
        ("APP2_HEALTH_PORT", h2.addr.port().to_string()),
        ("CHECK_INTER", inter.to_string()),
    ];
    let hap = start_haproxy("app-backend.cfg", &env);
    let servers = ["app/app1", "app/app2"];
    hap.wait_status(&servers, "UP", Duration::from_secs(10)).await;
    // Steady and passing: the load is the interval's, fast_interval or not.
    let before = sim.requests();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let steady_requests = sim.requests() - before;

    sim.set_mode(Mode::Red).await.unwrap();
    let evicted = hap.wait_status(&servers, "DOWN", Duration::from_secs(20)).await;
    sim.set_mode(Mode::Green).await.unwrap();
    let readmitted = hap.wait_status(&servers, "UP", Duration::from_secs(20)).await;
    Measured {
        evicted,
        readmitted,
        steady_requests,
    }
}

/// The README's "how long until evicted / re-admitted" table comes from this
/// test's output (`cargo nextest run timing --no-capture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_interval_evicts_sooner_with_the_same_steady_load() {
    let (slow2, fast2, slow1, fast1) = tokio::join!(
        measure("2s", None),
        measure("2s", Some("200ms")),
        measure("1s", None),
        measure("1s", Some("200ms")),
    );
    for (name, m) in [
        ("inter 2s, interval 2s", &slow2),
        ("inter 2s, interval 2s, fast_interval 200ms", &fast2),
        ("inter 1s, interval 1s", &slow1),
        ("inter 1s, interval 1s, fast_interval 200ms", &fast1),
    ] {
        println!(
            "measured: {name}: evicted after {:.1} s, re-admitted after {:.1} s, {} requests per sidecar pair in a steady 4 s",
            m.evicted.as_secs_f64(),
            m.readmitted.as_secs_f64(),
            m.steady_requests
        );
    }
    for (slow, fast) in [(&slow2, &fast2), (&slow1, &fast1)] {
        // fall 3 at the sidecar: two intervals saved, less the fast rounds.
        assert!(
            fast.evicted + Duration::from_millis(800) < slow.evicted,
            "fast_interval evicts sooner: {:?} vs {:?}",
            fast.evicted,
            slow.evicted
        );
        assert!(
            fast.steady_requests.abs_diff(slow.steady_requests) <= 2,
            "the steady load is the interval's: {} vs {}",
            fast.steady_requests,
            slow.steady_requests
        );
    }
}

/// The upstream counter counts what the cluster received: one request per
/// round to the node that answered, and one per round to the dead node tried
/// first (refused, so the simulator never saw those).
#[tokio::test]
async fn the_upstream_counter_equals_what_the_cluster_received() {
    let sim = spawn_sim().await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let urls = [format!("http://{dead}"), sim.url()];
    let app = spawn_app(&es_check("es", &urls, "100ms", "90ms", "")).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    // Read both sides between rounds: the round's result is counted when it
    // is recorded, just after the simulator saw its request.
    let t0 = Instant::now();
    loop {
        let metrics = app.get("/metrics").await.body;
        let seen = sim.requests();
        let count = |target: &str| -> u64 {
            metrics
                .lines()
                .find(|l| {
                    l.starts_with(&format!(
                        "healthgate_upstream_requests_total{{check=\"es\",target=\"{target}\"}}"
                    ))
                })
                .and_then(|l| l.rsplit(' ').next()?.parse().ok())
                .unwrap_or(0)
        };
        let (to_dead, to_sim) = (count(&dead.to_string()), count(&sim.addr().to_string()));
        if to_sim == seen {
            assert!(to_sim >= 8, "{to_sim} rounds in 1.2 s at 100 ms");
            assert!(
                to_dead.abs_diff(to_sim) <= 1,
                "failover tried the dead node every round: {to_dead} vs {to_sim}"
            );
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "counted {to_sim}, the simulator saw {seen}"
        );
        tokio::time::sleep(Duration::from_millis(7)).await;
    }
}

/// A dependency still starting: `unknown` with `starting (N s left)` for the
/// start period, counted as configured by `while_starting`; then failing.
#[tokio::test]
async fn a_starting_check_reports_unknown_then_counts() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let toml = |extra: &str| {
        format!(
            "[[checks]]\nname = \"db\"\nkind = \"tcp\"\naddress = \"{dead}\"\ninterval = \"100ms\"\ntimeout = \"50ms\"\njitter = \"0s\"\nstart_period = \"1500ms\"\n{extra}\n"
        )
    };
    let strict = spawn_app(&toml("")).await;
    let lenient = spawn_app(&toml("while_starting = \"warn\"")).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let a = strict.get("/healthz").await;
    assert_eq!(
        a.status, 503,
        "a starting critical check keeps the instance out: {}",
        a.body
    );
    assert_eq!(status_of(&a, "db:connectTime"), "unknown");
    let out = output_of(&a, "db:connectTime");
    assert!(out.starts_with("starting (") && out.contains("s left): "), "{out}");
    let a = lenient.get("/healthz").await;
    assert_eq!((a.status, a.json["status"].as_str()), (200, Some("warn")), "{}", a.body);
    assert_eq!(strict.get("/livez").await.status, 200);
    // After the period, failures count: fail for both.
    for app in [&strict, &lenient] {
        let a = app
            .wait_for("/healthz", Duration::from_secs(3), |a| {
                status_of(a, "db:connectTime") == "fail"
            })
            .await;
        assert_eq!(a.status, 503, "{}", a.body);
    }
}

//! Five sidecars on 127.0.0.2-6 (one port), found through `peers_dns` on a
//! real dnsmasq, five app servers behind a real HAProxy checking through their
//! sidecars (`inter` and `fall` as in `haproxy/app-backend.cfg`), and each
//! sidecar's Elasticsearch check through its own fault proxy to one simulator.

use std::time::{Duration, Instant};

use crate::support::app::{es_check, spawn_app_on, spawn_sim, TestApp};
use crate::support::dnsmasq::{start_dnsmasq, Dnsmasq};
use crate::support::fault::{Fault, FaultProxy};
use crate::support::haproxy::{backend, start_haproxy, Backend, Haproxy};
use healthgate::simulator::Simulator;

const SERVERS: [&str; 5] = ["app/app1", "app/app2", "app/app3", "app/app4", "app/app5"];

struct Fleet {
    sidecars: Vec<TestApp>,
    es: Vec<FaultProxy>,
    /// Sidecar 5 reads its peers through these (so it can be cut off from them).
    cut: Vec<FaultProxy>,
    haproxy: Haproxy,
    _backends: Vec<Backend>,
    _dns: Dnsmasq,
    _sim: Simulator,
}

/// The shipped app-backend.cfg with five servers, each checked at its sidecar.
fn haproxy_config(dir: &std::path::Path, apps: &[&Backend], port: u16) -> String {
    let shipped = std::fs::read_to_string(format!("{}/app-backend.cfg", crate::support::haproxy::CONFIGS)).unwrap();
    let mut out: String = shipped
        .lines()
        .filter(|l| !l.trim_start().starts_with("server "))
        .map(|l| format!("{l}\n"))
        .collect();
    for (i, app) in apps.iter().enumerate() {
        out.push_str(&format!(
            "    server app{} {} check addr 127.0.0.{} port {port}\n",
            i + 1,
            app.addr,
            i + 2
        ));
    }
    let path = dir.join("fleet-backend.cfg");
    std::fs::write(&path, out).unwrap();
    path.display().to_string()
}

async fn fleet(guard: bool) -> (Fleet, tempfile::TempDir) {
    let sim = spawn_sim().await;
    let port = crate::support::process::free_port();
    let hosts: String = (2..=6)
        .map(|i| format!("127.0.0.{i} fleet.test\n"))
        .chain((2..=5).map(|i| format!("127.0.1.{i} cut.test\n")))
        .collect();
    let dns = start_dnsmasq(&hosts);
    let mut es = Vec::new();
    let mut cut = Vec::new();
    for i in 2..=5 {
        let bind = format!("127.0.1.{i}:{port}").parse().unwrap();
        cut.push(FaultProxy::start_on(bind, format!("127.0.0.{i}:{port}").parse().unwrap()).await);
    }
    let mut sidecars = Vec::new();
    for i in 0..5 {
        let proxy = FaultProxy::start(sim.addr()).await;
        let name = if i == 4 { "cut.test" } else { "fleet.test" };
        let toml = format!(
            "{}\n[fleet]\npeers_dns = \"{name}:{port}\"\nnameserver = \"127.0.0.1:{}\"\ninterval = \"1s\"\ntimeout = \"500ms\"\nguard = {guard}\ninstance = \"app{}\"\n",
            es_check("es", &[format!("http://127.0.0.1:{}", proxy.port)], "1s", "500ms", "scope = \"shared\""),
            dns.port,
            i + 1
        );
        sidecars.push(spawn_app_on(&format!("127.0.0.{}:{port}", i + 2), "0s", "", &toml).await);
        es.push(proxy);
    }
    let mut backends = Vec::new();
    for name in ["app1", "app2", "app3", "app4", "app5"] {
        backends.push(backend(name, "127.0.0.1:0").await);
    }
    let dir = crate::support::process::tmpdir();
    let cfg = haproxy_config(dir.path(), &backends.iter().collect::<Vec<_>>(), port);
    let haproxy = start_haproxy(&cfg, &[]);
    let f = Fleet {
        sidecars,
        es,
        cut,
        haproxy,
        _backends: backends,
        _dns: dns,
        _sim: sim,
    };
    f.haproxy.wait_status(&SERVERS, "UP", Duration::from_secs(15)).await;
    (f, dir)
}

impl Fleet {
    async fn region(&self) -> String {
        self.sidecars[0].get("/fleet?format=text").await.body
    }

    async fn wait_region(&self, want: &str, within: Duration) -> Duration {
        let t0 = Instant::now();
        self.sidecars[0]
            .wait_for("/fleet?format=text", within, |a| a.body.starts_with(want))
            .await;
        t0.elapsed()
    }

    /// Waits until every sidecar's own Elasticsearch check reports fail.
    async fn wait_es_failing_everywhere(&self) {
        for s in &self.sidecars {
            s.wait_for("/healthz/es", Duration::from_secs(5), |a| a.status == 503)
                .await;
        }
    }

    /// Watches HAProxy for `during`: the servers that went DOWN at any point.
    async fn downs_during(&self, during: Duration) -> Vec<String> {
        let t0 = Instant::now();
        let mut down = Vec::new();
        while t0.elapsed() < during {
            for s in SERVERS {
                if self.haproxy.status(s).starts_with("DOWN") && !down.contains(&s.to_string()) {
                    down.push(s.to_string());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        down
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_keeps_the_fleet_serving_through_a_shared_outage_and_the_region_fails() {
    let (f, _dir) = fleet(true).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // Broken for one: that one evicted, the others serve, the region passes.
    f.es[1].set(Fault::Refuse);
    f.haproxy
        .wait_status(&["app/app2"], "DOWN", Duration::from_secs(15))
        .await;
    for s in ["app/app1", "app/app3", "app/app4", "app/app5"] {
        assert!(f.haproxy.status(s).starts_with("UP"), "{s}: {}", f.haproxy.status(s));
    }
    assert_eq!(f.region().await, "OK\n");
    f.es[1].set(Fault::Pass);
    f.haproxy.wait_status(&SERVERS, "UP", Duration::from_secs(15)).await;

    // Down for all: nobody blinks DOWN, every sidecar serves warn with the
    // reason, the region fails within interval x 2 + timeout, the gauge is 1.
    for p in &f.es {
        p.set(Fault::Refuse);
    }
    f.wait_es_failing_everywhere().await;
    let took = f.wait_region("FAIL", Duration::from_secs(10)).await;
    assert!(
        took <= Duration::from_millis(2500),
        "the region failed {took:?} after the last sidecar"
    );
    let downs = f.downs_during(Duration::from_secs(8)).await;
    assert!(downs.is_empty(), "evicted during a shared outage: {downs:?}");
    for s in &f.sidecars {
        let a = s.get("/healthz").await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body.contains(r#""status":"warn""#), "{}", a.body);
        assert!(
            a.body.contains("shared outage: es failing on 5 of 5 instances"),
            "{}",
            a.body
        );
    }
    assert_eq!(f.haproxy.get(&client).await.map(|_| ()), Ok(()));
    let metrics = f.sidecars[0].get("/metrics").await.body;
    assert!(
        metrics.contains("healthgate_fleet_shared_outage{check=\"es\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("healthgate_fleet_status{state=\"fail\"} 1"),
        "{metrics}"
    );

    // One instance cut off from its peers (and from Elasticsearch): it cannot
    // prove the outage is shared, so it alone is evicted.
    for p in &f.cut {
        p.set(Fault::Blackhole);
    }
    f.haproxy
        .wait_status(&["app/app5"], "DOWN", Duration::from_secs(20))
        .await;
    for s in ["app/app1", "app/app2", "app/app3", "app/app4"] {
        assert!(f.haproxy.status(s).starts_with("UP"), "{s}: {}", f.haproxy.status(s));
    }

    // Recovery: all UP, the region passes.
    for p in f.cut.iter().chain(&f.es) {
        p.set(Fault::Pass);
    }
    f.haproxy.wait_status(&SERVERS, "UP", Duration::from_secs(20)).await;
    f.wait_region("OK", Duration::from_secs(5)).await;

    // Hovering at the quorum: app1, app2 and app3 fail; app3 comes and goes
    // each second, so app1 sees 2 then 1 of its 4 peers failing, alternately.
    // The guard holds: app1 never answers 503.
    for p in &f.es[..3] {
        p.set(Fault::Refuse);
    }
    f.sidecars[0]
        .wait_for("/healthz", Duration::from_secs(10), |a| {
            a.body.contains("shared outage")
        })
        .await;
    let t0 = Instant::now();
    let mut flips = 0;
    while t0.elapsed() < Duration::from_secs(8) {
        f.es[2].set(if flips % 2 == 0 { Fault::Pass } else { Fault::Refuse });
        flips += 1;
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until {
            let a = f.sidecars[0].get("/healthz").await;
            assert_eq!(a.status, 200, "the guard flapped at the quorum: {}", a.body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_guard_a_shared_outage_evicts_everyone() {
    let (f, _dir) = fleet(false).await;
    for p in &f.es {
        p.set(Fault::Refuse);
    }
    f.haproxy.wait_status(&SERVERS, "DOWN", Duration::from_secs(20)).await;
    f.wait_region("FAIL", Duration::from_secs(5)).await;
    // The fleet still sees the shared outage (the alert fires); it just does not act.
    let metrics = f.sidecars[0].get("/metrics").await.body;
    assert!(
        metrics.contains("healthgate_fleet_shared_outage{check=\"es\"} 1"),
        "{metrics}"
    );
    for p in &f.es {
        p.set(Fault::Pass);
    }
    f.haproxy.wait_status(&SERVERS, "UP", Duration::from_secs(20)).await;
}

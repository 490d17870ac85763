//! The fleet: peers that lie, hang or flood; discovery through a real DNS
//! server; bounded fan-out. (`fleet_haproxy` has the five sidecars behind a
//! real HAProxy.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::app::{spawn_app_on, spawn_sim, TestApp, FAST_PROBE};
use crate::support::dnsmasq::start_dnsmasq;

/// How a stand-in peer answers `/fleet/self`.
#[derive(Clone, Copy)]
enum Peer {
    Hang,
    Slow,
    Error500,
    Html,
    Garbage,
    Huge,
    OtherVersion,
}

/// A stand-in peer on a free loopback port.
async fn fake_peer(kind: Peer) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let ok = |body: &str| {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                };
                let answer = match kind {
                    Peer::Hang => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    }
                    Peer::Slow => {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        ok(
                            r#"{"format":"healthgate-fleet/1","id":"slow","instance":"s","serving":true,"status":"pass","age_ms":1,"checks":{}}"#,
                        )
                    }
                    Peer::Error500 => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!".into(),
                    Peer::Html => ok("<html><script>alert(1)</script></html>"),
                    Peer::Garbage => ok("\u{1}{{{\"format\":"),
                    Peer::OtherVersion => ok(r#"{"format":"healthgate-fleet/2","members":[]}"#),
                    Peer::Huge => {
                        // No length: the reader must stop at its cap by itself.
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"format\":\"healthgate-fleet/1\",\"id\":\"").await;
                        let chunk = vec![b'x'; 64 * 1024];
                        for _ in 0..160 {
                            if s.write_all(&chunk).await.is_err() {
                                return;
                            }
                        }
                        return;
                    }
                };
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    addr
}

fn fleet_toml(fleet: &str) -> String {
    format!("[fleet]\ninterval = \"1s\"\ntimeout = \"500ms\"\n{fleet}\n")
}

fn member<'a>(v: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["address"] == address)
        .unwrap_or_else(|| panic!("no member {address} in {v}"))
}

/// Waits until `pred` holds for `/fleet`'s JSON (through `TestApp::wait_for`).
async fn wait_fleet(app: &TestApp, within: Duration, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let a = app
        .wait_for("/fleet", within, |a| {
            serde_json::from_str::<serde_json::Value>(&a.body).is_ok_and(|v| pred(&v))
        })
        .await;
    serde_json::from_str(&a.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peers_each_get_a_reason_and_the_good_one_counts() {
    let sim = spawn_sim().await;
    let real = spawn_app_on(
        "127.0.0.1:0",
        "0s",
        "",
        &crate::support::app::es_check("es", &[format!("http://{}", sim.addr())], "200ms", "150ms", ""),
    )
    .await;
    let refused = crate::support::haproxy::free_addr();
    let mut fakes = Vec::new();
    for kind in [
        Peer::Hang,
        Peer::Slow,
        Peer::Error500,
        Peer::Html,
        Peer::Garbage,
        Peer::Huge,
        Peer::OtherVersion,
    ] {
        fakes.push(fake_peer(kind).await);
    }
    let port = real.addr.port();
    let mut peers = vec![
        format!("\"{}\"", real.addr),
        // The same address again (written differently), and another name for it.
        format!("\"http://{}/\"", real.addr),
        format!("\"localhost:{port}\""),
        format!("\"{refused}\""),
    ];
    peers.extend(fakes.iter().map(|a| format!("\"{a}\"")));
    // No checks: a regional aggregator, reading every member.
    let agg = spawn_app_on(
        "127.0.0.1:0",
        "0s",
        "",
        &fleet_toml(&format!("peers = [{}]", peers.join(", "))),
    )
    .await;
    let v = wait_fleet(&agg, Duration::from_secs(8), |v| {
        v["members"].as_array().is_some_and(|ms| {
            ms.len() == 10
                && ms
                    .iter()
                    .all(|m| m["status"] == "serving" || m["reason"].as_str().is_some_and(|r| r != "not read yet"))
        }) && member(v, &format!("localhost:{port}"))["duplicateOf"].is_string()
    })
    .await;
    let reason = |a: &SocketAddr| member(&v, &a.to_string())["reason"].as_str().unwrap_or("").to_string();
    assert_eq!(member(&v, &real.addr.to_string())["status"], "serving", "{v}");
    assert_eq!(
        member(&v, &format!("localhost:{port}"))["duplicateOf"],
        real.addr.to_string()
    );
    assert!(reason(&refused).contains("connection refused"), "{v}");
    assert!(reason(&fakes[0]).contains("no answer within 500ms"), "hang: {v}");
    assert!(reason(&fakes[1]).contains("no answer within 500ms"), "slow: {v}");
    assert!(reason(&fakes[2]).contains("answered HTTP 500"), "500: {v}");
    assert!(
        reason(&fakes[3]).contains("not a healthgate fleet answer (invalid JSON"),
        "html: {v}"
    );
    assert!(
        reason(&fakes[4]).contains("not a healthgate fleet answer"),
        "garbage: {v}"
    );
    assert!(reason(&fakes[5]).contains("answer larger than 256 KiB"), "huge: {v}");
    assert!(reason(&fakes[6]).contains("healthgate-fleet/2"), "other version: {v}");
    assert!(
        !v.to_string().contains("<script>"),
        "a peer's body is never quoted: {v}"
    );
    // One good member of nine (the duplicate not counted): below 50 %.
    assert_eq!(v["summary"]["members"], 9, "{v}");
    assert_eq!(v["summary"]["serving"], 1, "{v}");
    assert_eq!(v["status"], "fail");
    let t0 = Instant::now();
    let text = agg.get("/fleet?format=text").await;
    assert!(t0.elapsed() < FAST_PROBE, "/fleet waited: {:?}", t0.elapsed());
    assert_eq!((text.status, text.body.as_str()), (503, "FAIL\n"));
    // The real peer's answer: states only, small.
    let own = real.get("/fleet/self").await;
    assert!(
        own.body.len() < 1024 && own.body.contains(r#""es":"pass""#),
        "{}",
        own.body
    );
    assert!(
        !own.body.contains("green"),
        "no reason or value in the fleet answer: {}",
        own.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_by_dns_two_hundred_addresses_and_a_name_that_does_not_resolve() {
    let hosts: String = (1..=200).map(|i| format!("127.0.3.{i} many.test\n")).collect();
    let dns = start_dnsmasq(&hosts);
    let port = crate::support::process::free_port();
    let ns = format!("nameserver = \"127.0.0.1:{}\"\n", dns.port);
    let agg = spawn_app_on(
        "127.0.0.1:0",
        "0s",
        "",
        &fleet_toml(&format!(
            "peers_dns = \"many.test:{port}\"\n{ns}resolve_interval = \"1s\"\n"
        )),
    )
    .await;
    let v = wait_fleet(&agg, Duration::from_secs(8), |v| v["summary"]["members"] == 200).await;
    assert_eq!(v["discovery"]["addresses"], 200, "{v}");
    assert!(
        v["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["status"] == "unreachable"),
        "{v}"
    );
    // The name is resolved again: the fleet follows it.
    dns.set_hosts("127.0.3.1 many.test\n127.0.3.2 many.test\n127.0.3.3 many.test\n");
    wait_fleet(&agg, Duration::from_secs(5), |v| v["summary"]["members"] == 3).await;
    dns.set_hosts(&hosts);
    // A sidecar (it has a check) reads `sample` peers a round, not all 200.
    let sim = spawn_sim().await;
    let check = crate::support::app::es_check("es", &[format!("http://{}", sim.addr())], "1s", "500ms", "");
    let sidecar = spawn_app_on(
        "127.0.0.1:0",
        "0s",
        "",
        &format!(
            "{check}\n{}",
            fleet_toml(&format!("peers_dns = \"many.test:{port}\"\n{ns}sample = 16\n"))
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let metrics = sidecar.get("/metrics").await.body;
    let reads: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("healthgate_fleet_peer_reads_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(
        reads == 16 || reads == 32,
        "reads after one or two rounds: {reads}\n{metrics}"
    );
    // A name the server does not know: a reason, no peers, no hang.
    let lost = spawn_app_on(
        "127.0.0.1:0",
        "0s",
        "",
        &fleet_toml(&format!("peers_dns = \"missing.test:{port}\"\n{ns}")),
    )
    .await;
    let v = wait_fleet(&lost, Duration::from_secs(5), |v| {
        v["discovery"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("missing.test"))
    })
    .await;
    assert_eq!(v["status"], "fail");
    assert_eq!(v["summary"]["members"], 0);
    let t0 = Instant::now();
    let _ = lost.get("/fleet").await;
    assert!(t0.elapsed() < FAST_PROBE);
    drop(dns);
}

#[tokio::test]
async fn no_fleet_means_a_clear_404_and_shared_needs_a_fleet() {
    let sim = spawn_sim().await;
    let app = crate::support::app::spawn_app(&crate::support::app::es_check(
        "es",
        &[format!("http://{}", sim.addr())],
        "1s",
        "500ms",
        "",
    ))
    .await;
    let a = app.get("/fleet").await;
    assert_eq!(a.status, 404);
    assert!(a.body.contains("no [fleet] section"), "{}", a.body);
    // /fleet/self is there without [fleet]: an aggregator may read plain sidecars.
    assert_eq!(app.get("/fleet/self").await.status, 200);
    let err = healthgate::config::Config::from_toml_str(
        "[[checks]]\nname = \"es\"\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\nscope = \"shared\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("checks[0].scope") && err.contains("no [fleet] section"),
        "{err}"
    );
}

#[test]
fn check_config_describes_the_fleet_and_warns_about_a_guard_with_nothing_to_guard() {
    let cfg = healthgate::config::Config::from_toml_str(
        "[fleet]\npeers_dns = \"sidecars.test:9898\"\n[[checks]]\nname = \"app\"\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let summary = healthgate::cli::summary(&cfg);
    assert!(summary.contains("every address of sidecars.test:9898"), "{summary}");
    assert!(
        summary.contains("16 per round; guard on (quorum 50%, min_peers 2)"),
        "{summary}"
    );
    let warnings = healthgate::cli::warnings(&cfg).join("\n");
    assert!(warnings.contains("nothing to guard"), "{warnings}");
    let bad = healthgate::config::Config::from_toml_str(
        "[fleet]\npeers = [\"https://a:1\", \"a\"]\ntimeout = \"3s\"\nshared_quorum = \"150%\"\nbogus = 1\n",
    )
    .unwrap_err()
    .to_string();
    for needle in [
        "fleet.peers[0]: unsupported scheme \"https\"",
        "fleet.peers[1]: invalid peer \"a\"",
        "fleet.timeout: must be shorter than interval",
        "fleet.shared_quorum",
        "fleet.bogus",
    ] {
        assert!(bad.contains(needle), "{needle} missing from:\n{bad}");
    }
}

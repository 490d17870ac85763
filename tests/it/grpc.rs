//! The gRPC health service with real clients: Python's grpcio and
//! grpcio-health-checking (as Kubernetes and Envoy speak it) for Check and
//! Watch following the simulator, List through a stub generated from the
//! vendored proto, the same over TLS; and tonic for the stream cap.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use healthgate::http::grpc::pb::health_client::HealthClient;
use healthgate::http::grpc::pb::HealthCheckRequest;
use healthgate::simulator::Mode;

use crate::support::app::{es_check, refused_check, spawn_app_with, spawn_sim, FAST_PROBE};
use crate::support::certs::{tls_section, Ca};
use crate::support::grpcio::python;

/// A tonic channel to the app's gRPC listener (plain).
async fn channel_to(app: &crate::support::app::TestApp) -> tonic::transport::Channel {
    let url = format!("http://{}", app.grpc.unwrap());
    tonic::transport::Endpoint::from_shared(url)
        .unwrap()
        .connect()
        .await
        .unwrap()
}

const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/grpc/health_client.py");

/// One answer of the Python client.
fn client(addr: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(python())
        .arg(CLIENT)
        .arg(addr)
        .args(args)
        .output()
        .expect("python runs (./scripts/test makes target/pyenv with grpcio)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|_| panic!("client said: {stdout}{}", String::from_utf8_lossy(&out.stderr)))
}

/// A Python `Watch` running in the background; its answers, as they came.
struct Watcher {
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    child: std::process::Child,
}

impl Watcher {
    fn start(addr: &str, service: &str, seconds: u32) -> Watcher {
        let mut child = Command::new(python())
            .arg(CLIENT)
            .args([addr, "watch", service, &seconds.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                let word = v["status"].as_str().or(v["code"].as_str()).unwrap_or("?").to_string();
                l2.lock().unwrap().push(word);
            }
        });
        Watcher { lines, child }
    }

    fn seen(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    async fn wait(&self, n: usize, within: Duration) {
        let t = Instant::now();
        while self.seen().len() < n {
            assert!(t.elapsed() < within, "watch saw {:?}", self.seen());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_clients_check_watch_and_list_as_healthz_answers() {
    let sim = spawn_sim().await;
    let app = spawn_app_with(
        "grpc_listen = \"127.0.0.1:0\"\nheader_read_timeout = \"1s\"",
        &format!(
            "{}{}",
            es_check("es", &[sim.url()], "200ms", "150ms", "fall = 1\nrise = 1"),
            refused_check()
        ),
    )
    .await;
    app.wait_for("/healthz", Duration::from_secs(5), |a| {
        a.status == 200 && a.body.contains("\"fail\"")
    })
    .await;
    let addr = app.grpc.unwrap().to_string();
    assert_eq!(
        client(&addr, &["check", ""])["status"],
        "SERVING",
        "the aggregate, as /healthz: 200"
    );
    assert_eq!(client(&addr, &["check", "es"])["status"], "SERVING");
    assert_eq!(
        client(&addr, &["check", "t"])["status"],
        "NOT_SERVING",
        "/healthz/t is 503"
    );
    let missing = client(&addr, &["check", "nope"]);
    assert_eq!(missing["code"], "NOT_FOUND");
    assert!(
        missing["details"].as_str().unwrap().contains("no service \"nope\""),
        "{missing}"
    );
    let list = client(&addr, &["list"]);
    assert_eq!(
        list["statuses"],
        serde_json::json!({"": "SERVING", "es": "SERVING", "t": "NOT_SERVING"}),
        "{list}"
    );

    // Watch: the status now, then each change once; the cluster goes red and back.
    let all = Watcher::start(&addr, "", 30);
    let es = Watcher::start(&addr, "es", 30);
    let later = Watcher::start(&addr, "not-yet", 30);
    all.wait(1, Duration::from_secs(10)).await;
    es.wait(1, Duration::from_secs(10)).await;
    later.wait(1, Duration::from_secs(10)).await;
    sim.set_mode(Mode::Red).await.unwrap();
    all.wait(2, Duration::from_secs(5)).await;
    sim.set_mode(Mode::Green).await.unwrap();
    all.wait(3, Duration::from_secs(5)).await;
    es.wait(3, Duration::from_secs(5)).await;
    // A few more snapshots come and go: nothing more is sent without a change.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(all.seen(), ["SERVING", "NOT_SERVING", "SERVING"]);
    assert_eq!(es.seen(), ["SERVING", "NOT_SERVING", "SERVING"]);
    assert_eq!(
        later.seen(),
        ["SERVICE_UNKNOWN"],
        "an unknown service: one message, the stream open"
    );

    // HTTP/1 to the gRPC port fails at once; gRPC goes on.
    let t = Instant::now();
    let http1 = reqwest::Client::new()
        .get(format!("http://{addr}/"))
        .timeout(Duration::from_secs(3))
        .send()
        .await;
    assert!(http1.is_err() || !http1.unwrap().status().is_success());
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(client(&addr, &["check", ""])["status"], "SERVING");
    // A client that connects and sends nothing is cut after header_read_timeout.
    use tokio::io::AsyncReadExt;
    let mut silent = tokio::net::TcpStream::connect(app.grpc.unwrap()).await.unwrap();
    let mut buf = [0u8; 8];
    let cut = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut buf)).await;
    assert!(matches!(cut, Ok(Ok(0)) | Ok(Err(_))), "{cut:?}");
    assert!(app.get("/healthz").await.elapsed < FAST_PROBE);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_tls_with_the_listener_certificate() {
    let ca = Ca::new("ca");
    ca.leaf("server", false);
    let app = spawn_app_with(
        &format!("grpc_listen = \"127.0.0.1:0\"\n{}", tls_section(&ca, "server", "")),
        &refused_check(),
    )
    .await;
    let addr = format!("localhost:{}", app.grpc.unwrap().port());
    let ca_file = ca.ca_file().display().to_string();
    assert_eq!(client(&addr, &["check", "", "--ca", &ca_file])["status"], "SERVING");
    // Plain gRPC to the TLS port is refused.
    let plain = client(&addr, &["check", ""]);
    assert_eq!(plain["code"], "UNAVAILABLE", "{plain}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_watches_meet_the_cap_and_closed_ones_free_their_slots() {
    let app = spawn_app_with(
        "grpc_listen = \"127.0.0.1:0\"\ngrpc_max_streams = 1000",
        &refused_check(),
    )
    .await;
    let channel = channel_to(&app).await;
    // Each watch reports how it went, then holds its stream (never reading
    // it again) until every one of the 10,000 has reported.
    let (release, held) = tokio::sync::watch::channel(false);
    let (report, mut reports) = tokio::sync::mpsc::unbounded_channel();
    let t = Instant::now();
    for _ in 0..10_000 {
        let mut c = HealthClient::new(channel.clone());
        let (report, mut held) = (report.clone(), held.clone());
        tokio::spawn(async move {
            match c.watch(HealthCheckRequest { service: String::new() }).await {
                Ok(resp) => {
                    let mut stream = resp.into_inner();
                    let first = stream.message().await;
                    let _ = report.send(Ok(first.map(|m| m.is_some()).unwrap_or(false)));
                    let _ = held.wait_for(|go| *go).await;
                    drop(stream);
                }
                Err(status) => {
                    let _ = report.send(Err(status.code()));
                }
            }
        });
    }
    let (mut open, mut refused) = (0, 0);
    for _ in 0..10_000 {
        match tokio::time::timeout(Duration::from_secs(30), reports.recv())
            .await
            .unwrap()
            .unwrap()
        {
            Ok(true) => open += 1,
            Err(tonic::Code::ResourceExhausted) => refused += 1,
            other => panic!("unexpected: {other:?}"),
        }
    }
    let _ = release.send(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(open, 1000, "{open} open, {refused} refused");
    assert_eq!(refused, 9000);
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    // The slots are free again, and probes never waited.
    let mut c = HealthClient::new(channel);
    let mut s = c
        .watch(HealthCheckRequest { service: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert!(s.message().await.unwrap().is_some());
    assert!(app.get("/healthz").await.elapsed < FAST_PROBE);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_probes_behind_auth_grpc_needs_credentials_too() {
    let dir = crate::support::process::tmpdir();
    let token = crate::support::binary::write_file(dir.path(), "token", "grpc-probe-token-0123456789");
    let app = spawn_app_with(
        &format!(
            "grpc_listen = \"127.0.0.1:0\"\n[server.auth]\nbearer_token_file = \"{}\"\nprobes = true\n",
            token.display()
        ),
        &refused_check(),
    )
    .await;
    let channel = channel_to(&app).await;
    let mut c = HealthClient::new(channel);
    let refused = c
        .check(HealthCheckRequest { service: String::new() })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let mut req = tonic::Request::new(HealthCheckRequest { service: String::new() });
    req.metadata_mut()
        .insert("authorization", "Bearer grpc-probe-token-0123456789".parse().unwrap());
    assert_eq!(c.check(req).await.unwrap().into_inner().status, 1, "SERVING");
    app.stop().await;
}

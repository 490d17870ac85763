//! TLS on the HTTP listener, with real clients: curl with and without a
//! client certificate, HAProxy checking with `check-ssl verify required`,
//! Prometheus scraping over TLS, a certificate rotated under a probing
//! client, and every bad file refused at start with its name.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use healthgate::simulator::Mode;

use crate::support::app::{es_check, refused_check, spawn_app_with, spawn_sim};
use crate::support::binary::{write_file, Running};
use crate::support::certs::{tls_section, Ca};
use crate::support::haproxy::start_haproxy;
use crate::support::process::{free_port, tmpdir, Signal};
use crate::support::prometheus::{has_result_within, start_prometheus_job};

fn args(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

/// curl's exit status and the HTTP code it printed.
fn curl(url: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_required_or_requested_and_plain_or_stalled_clients_are_cut() {
    let ca = Ca::new("ca");
    ca.leaf("server", false);
    ca.leaf("client", false);
    let intruders = Ca::new("other");
    intruders.leaf("intruder", false);
    let ca_arg = ca.ca_file().display().to_string();
    let client = [
        "--cacert",
        &ca_arg,
        "--cert",
        &ca.path("client.pem").display().to_string(),
        "--key",
        &ca.path("client.key").display().to_string(),
    ]
    .map(String::from);
    let intruder = [
        "--cacert",
        &ca_arg,
        "--cert",
        &intruders.path("intruder.pem").display().to_string(),
        "--key",
        &intruders.path("intruder.key").display().to_string(),
    ]
    .map(String::from);
    let require = tls_section(
        &ca,
        "server",
        &format!("client_ca_file = \"{ca_arg}\"\nclient_auth = \"require\""),
    );
    let app = spawn_app_with(&format!("header_read_timeout = \"500ms\"\n{require}"), &refused_check()).await;
    let url = format!("https://127.0.0.1:{}/healthz", app.addr.port());
    assert_eq!(
        curl(&url, &args(&client)),
        (0, "200".into()),
        "a client certificate from the CA"
    );
    let (code, _) = curl(&url, &["--cacert", &ca_arg]);
    assert_ne!(code, 0, "no client certificate under require");
    let (code, _) = curl(&url, &args(&intruder));
    assert_ne!(code, 0, "a client certificate from another CA");
    let (code, _) = curl(&url, &[]);
    assert_ne!(code, 0, "the server's certificate is not from a public CA");
    // Plain HTTP to the TLS port: refused at once, and TLS goes on.
    let t = Instant::now();
    let (code, _) = curl(&format!("http://127.0.0.1:{}/healthz", app.addr.port()), &[]);
    assert_ne!(code, 0);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // A handshake that never comes: cut after header_read_timeout.
    use tokio::io::AsyncReadExt;
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("closed by the server");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    assert!(t.elapsed() >= Duration::from_millis(400), "cut after {:?}", t.elapsed());
    assert_eq!(curl(&url, &args(&client)), (0, "200".into()), "still serving");
    // Liveness through TLS too; the probe path answers over TLS like the router.
    let live = format!("https://127.0.0.1:{}/livez", app.addr.port());
    assert_eq!(curl(&live, &args(&client)), (0, "200".into()));
    app.stop().await;

    // request: a certificate is verified when shown, not required.
    let request = tls_section(
        &ca,
        "server",
        &format!("client_ca_file = \"{ca_arg}\"\nclient_auth = \"request\""),
    );
    let app = spawn_app_with(&request, &refused_check()).await;
    let url = format!("https://127.0.0.1:{}/livez", app.addr.port());
    assert_eq!(curl(&url, &["--cacert", &ca_arg]), (0, "200".into()));
    assert_eq!(curl(&url, &args(&client)), (0, "200".into()));
    assert_ne!(
        curl(&url, &args(&intruder)).0,
        0,
        "a certificate shown is still verified"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_certificate_files_stop_the_start_and_name_the_file() {
    let ca = Ca::new("ca");
    ca.leaf("server", false);
    ca.leaf("old", true);
    ca.leaf("other", false);
    let build = |tls: String| async move {
        let toml = format!("[server]\nlisten = \"127.0.0.1:0\"\n{tls}\n{}", refused_check());
        let cfg = healthgate::config::Config::from_toml_str(&toml).unwrap();
        match healthgate::app::App::build(cfg).await {
            Ok(_) => panic!("built with {tls}"),
            Err(e) => e.to_string(),
        }
    };
    let e = build(tls_section(&ca, "old", "")).await;
    assert!(
        e.contains("server.tls.cert_file")
            && e.contains("old.pem")
            && e.contains("the certificate expired: valid from 2020-01-01T00:00:00Z until 2021-01-01T00:00:00Z"),
        "{e}"
    );
    let mismatched = format!(
        "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        ca.path("server.pem").display(),
        ca.path("other.key").display()
    );
    let e = build(mismatched).await;
    assert!(
        e.contains("server.tls.key_file") && e.contains("the key does not match the certificate"),
        "{e}"
    );
    let missing = format!(
        "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        ca.path("nope.pem").display(),
        ca.path("server.key").display()
    );
    let e = build(missing).await;
    assert!(
        e.contains("server.tls.cert_file") && e.contains("nope.pem") && e.contains("cannot read it"),
        "{e}"
    );
    std::fs::write(ca.path("garbage.pem"), "<script>not a certificate</script>").unwrap();
    let garbage = format!(
        "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        ca.path("garbage.pem").display(),
        ca.path("server.key").display()
    );
    let e = build(garbage).await;
    assert!(e.contains("no PEM certificate"), "{e}");
    // A bad key word is a configuration error, with its key.
    let e = healthgate::config::Config::from_toml_str(&format!(
        "[server.tls]\ncert_file = \"a\"\nkey_file = \"b\"\nclient_auth = \"maybe\"\n{}",
        refused_check()
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("server.tls.client_auth: invalid value \"maybe\""), "{e}");
    assert!(e.contains("needs client_ca_file"), "{e}");
}

/// The DER of the certificate `addr` presents to a new connection.
async fn presented(addr: &str, ca: &Path) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca).unwrap();
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_certificate_is_picked_up_without_a_failed_request_and_a_bad_one_is_refused() {
    let ca = Ca::new("ca");
    let first = ca.leaf("server", false);
    let dir = tmpdir();
    let port = free_port();
    let cfg = write_file(
        dir.path(),
        "hg.toml",
        &format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nshutdown_grace = \"0s\"\n{}\n{}",
            tls_section(&ca, "server", ""),
            refused_check()
        ),
    );
    let run = Running::with_config(&cfg);
    let addr = format!("127.0.0.1:{port}");
    let pem = std::fs::read(ca.ca_file()).unwrap();
    let root = reqwest::Certificate::from_pem(&pem).unwrap();
    let kept = reqwest::Client::builder()
        .add_root_certificate(root.clone())
        .no_proxy()
        .build()
        .unwrap();
    let fresh = reqwest::Client::builder()
        .add_root_certificate(root)
        .pool_max_idle_per_host(0)
        .no_proxy()
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/livez");
    let t = Instant::now();
    while kept.get(&url).send().await.is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "never served: {}", run.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(presented(&addr, &ca.ca_file()).await, first);
    let (mut ok, mut failed) = (0, 0);
    let mut second = Vec::new();
    let t = Instant::now();
    let mut stage = 0;
    while t.elapsed() < Duration::from_secs(12) {
        for c in [&kept, &fresh] {
            match c.get(&url).send().await {
                Ok(r) if r.status() == 200 => ok += 1,
                _ => failed += 1,
            }
        }
        let e = t.elapsed();
        if stage == 0 && e > Duration::from_millis(500) {
            // Rotation by writing the files (the key after the certificate: the
            // watcher may see a mismatched pair for a moment and keep the old one).
            second = ca.leaf("server", false);
            stage = 1;
        } else if stage == 1 && presented(&addr, &ca.ca_file()).await == second {
            // Picked up by the file watcher. Now a broken certificate, then SIGHUP.
            std::fs::write(ca.path("server.pem"), "-----BEGIN CERTIFICATE-----\nbroken\n").unwrap();
            run.signal(Signal::HUP);
            stage = 2;
        } else if stage == 2 && run.logs().contains("TLS files not reloaded") {
            stage = 3;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stage, 3, "rotation stages reached: {stage}; log: {}", run.logs());
    assert_eq!(failed, 0, "{failed} failed requests of {}", ok + failed);
    assert!(ok > 100, "{ok}");
    assert_eq!(
        presented(&addr, &ca.ca_file()).await,
        second,
        "the good certificate keeps serving"
    );
    assert!(run.logs().contains("TLS certificate reloaded"), "{}", run.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_verifies_the_certificate_and_prometheus_scrapes_over_tls_with_basic_auth() {
    let sim = spawn_sim().await;
    let ca = Ca::new("ca");
    ca.leaf("server", false);
    let other = Ca::new("other");
    let dir = tmpdir();
    // /metrics behind basic auth as well: Prometheus brings both.
    let hash = bcrypt::hash("scrape-pass-42", 4).unwrap();
    let web = write_file(
        dir.path(),
        "web.yml",
        &format!("basic_auth_users:\n  prometheus: {hash}\n"),
    );
    let app = spawn_app_with(
        &format!(
            "{}[server.auth]\nbasic_users_file = \"{}\"\n",
            tls_section(&ca, "server", ""),
            web.display()
        ),
        &es_check("es", &[sim.url()], "200ms", "150ms", "fall = 1\nrise = 1"),
    )
    .await;
    let port = app.addr.port();
    let cfg = format!(
        "global\n    presetenv FRONTEND_BIND 127.0.0.1:1\n    stats socket \"${{STATS_SOCKET}}\" mode 600 level admin\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind \"${{FRONTEND_BIND}}\"\n    default_backend app\n\
         backend app\n    option httpchk GET /healthz\n    http-check expect status 200\n    default-server inter 300ms fall 1 rise 1\n\
         server good 127.0.0.1:{port} check check-ssl verify required ca-file {} ssl verify required ca-file {}\n\
         server wrong_ca 127.0.0.1:{port} check check-ssl verify required ca-file {} ssl verify required ca-file {}\n",
        ca.ca_file().display(),
        ca.ca_file().display(),
        other.ca_file().display(),
        other.ca_file().display()
    );
    let path = write_file(dir.path(), "tls.cfg", &cfg);
    let hap = start_haproxy(path.to_str().unwrap(), &[]);
    let wait = |server: &'static str, want: &'static str| {
        let hap = &hap;
        async move {
            let t = Instant::now();
            while !hap.status(server).starts_with(want) {
                assert!(
                    t.elapsed() < Duration::from_secs(10),
                    "{server}: {} (wanted {want})",
                    hap.status(server)
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait("app/good", "UP").await;
    wait("app/wrong_ca", "DOWN").await;
    sim.set_mode(Mode::Red).await.unwrap();
    wait("app/good", "DOWN").await;
    sim.set_mode(Mode::Green).await.unwrap();
    wait("app/good", "UP").await;

    let job = |password: &str| {
        format!(
            "scheme: https, tls_config: {{ca_file: \"{}\"}}, basic_auth: {{username: prometheus, password: \"{password}\"}}",
            ca.ca_file().display()
        )
    };
    let prom = start_prometheus_job(
        &format!("localhost:{port}"),
        "groups: []\n",
        None,
        &job("scrape-pass-42"),
    );
    let wrong = start_prometheus_job(&format!("localhost:{port}"), "groups: []\n", None, &job("not-it"));
    assert!(
        has_result_within(prom.port, "up{job=\"healthgate\"} == 1", Duration::from_secs(20)).await,
        "Prometheus does not scrape over TLS with basic auth"
    );
    assert!(
        has_result_within(wrong.port, "up{job=\"healthgate\"} == 0", Duration::from_secs(20)).await,
        "a wrong password is not refused over TLS"
    );
    assert!(
        has_result_within(
            prom.port,
            "healthgate_check_status{check=\"es\",state=\"pass\"} == 1",
            Duration::from_secs(10)
        )
        .await
    );
    app.stop().await;
}

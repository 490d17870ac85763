//! TLS: the http check's CA file and client certificate against a real nginx that
//! demands client certificates, and PostgreSQL's `tls = "require"` against a
//! server with `ssl=on`. Certificates come from the openssl CLI.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::app::*;
use crate::support::mariadb::Mariadb;
use crate::support::pki::{give_to, Pki};
use crate::support::postgres::Postgres;
use crate::support::process::{free_port, signal, Signal};
use crate::support::redis::redis_tls;

const WAIT: Duration = Duration::from_secs(10);

fn check(name: &str, kind: &str, body: &str) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"{kind}\"\ninterval = \"500ms\"\ntimeout = \"450ms\"\njitter = \"0s\"\ncritical = false\n{body}\n"
    )
}

async fn until(app: &TestApp, key: &str, needle: &str) -> Answer {
    app.wait_for("/healthz", WAIT, |a| output_of(a, key).contains(needle))
        .await
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        // QUIT is nginx's graceful stop.
        signal(&self.0, Signal::QUIT);
        let _ = self.0.wait();
    }
}

fn nginx_mtls(pki: &Pki, port: u16) -> Nginx {
    nginx_tls(
        pki,
        port,
        &format!(
            "ssl_client_certificate {};\n    ssl_verify_client on;\n    location /health {{ return 200 \"ok\\n\"; }}",
            pki.path("ca.crt").display()
        ),
    )
}

/// nginx terminating TLS on `port` with the PKI's server certificate; `inside`
/// goes in the server block.
fn nginx_tls(pki: &Pki, port: u16, inside: &str) -> Nginx {
    let d = pki.dir.path();
    let p = |n: &str| pki.path(n).display().to_string();
    let conf = format!(
        "user root;\nworker_processes 1;\npid {pid};\nerror_log {err} warn;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {t}/b; proxy_temp_path {t}/p; fastcgi_temp_path {t}/f; uwsgi_temp_path {t}/u; scgi_temp_path {t}/s;\n  server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {crt};\n    ssl_certificate_key {key};\n    {inside}\n  }}\n}}\n",
        pid = p(&format!("nginx-{port}.pid")),
        err = p("nginx-error.log"),
        t = d.display(),
        crt = p("server.crt"),
        key = p("server.key"),
    );
    let conf_path = pki.path(&format!("nginx-{port}.conf"));
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new("nginx")
        .arg("-p")
        .arg(d)
        .arg("-e")
        .arg(pki.path("nginx-error.log"))
        .arg("-c")
        .arg(&conf_path)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx (run ./scripts/test to install it)");
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(5), "nginx did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Nginx(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_check_with_ca_file_and_client_certificate() {
    let pki = tokio::task::spawn_blocking(Pki::make).await.unwrap();
    let port = free_port();
    let _nginx = nginx_mtls(&pki, port);
    let p = |n: &str| pki.path(n).display().to_string();
    let url = format!("https://127.0.0.1:{port}/health");
    let client = format!(
        "client_cert_file = \"{}\"\nclient_key_file = \"{}\"",
        p("client.crt"),
        p("client.key")
    );
    let mut cfg = check(
        "mtls",
        "http",
        &format!("url = \"{url}\"\nca_file = \"{}\"\n{client}", p("ca.crt")),
    );
    cfg += &check(
        "nocert",
        "http",
        &format!("url = \"{url}\"\nca_file = \"{}\"", p("ca.crt")),
    );
    cfg += &check(
        "wrongca",
        "http",
        &format!("url = \"{url}\"\nca_file = \"{}\"\n{client}", p("other-ca.crt")),
    );
    cfg += &check("publicroots", "http", &format!("url = \"{url}\"\n{client}"));
    cfg += &check(
        "insecure",
        "http",
        &format!("url = \"{url}\"\ntls_insecure_skip_verify = true\n{client}"),
    );
    let app = spawn_app(&cfg).await;
    let a = until(&app, "mtls:responseTime", "HTTP 200").await;
    assert_eq!(status_of(&a, "mtls:responseTime"), "pass");
    until(&app, "nocert:responseTime", "unexpected HTTP status 400").await;
    let a = until(&app, "wrongca:responseTime", "certificate").await;
    assert_eq!(status_of(&a, "wrongca:responseTime"), "fail", "{}", a.body);
    until(&app, "publicroots:responseTime", "certificate").await;
    until(&app, "insecure:responseTime", "HTTP 200").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tls_require_verifies_the_server() {
    let pki = tokio::task::spawn_blocking(Pki::make).await.unwrap();
    for f in ["server.crt", "server.key"] {
        give_to("postgres", &pki.path(f));
    }
    std::fs::set_permissions(
        pki.path("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let settings = vec![
        "-c".to_string(),
        "ssl=on".to_string(),
        "-c".to_string(),
        format!("ssl_cert_file={}", pki.path("server.crt").display()),
        "-c".to_string(),
        format!("ssl_key_file={}", pki.path("server.key").display()),
    ];
    let pg = tokio::task::spawn_blocking(move || Postgres::start_with(settings))
        .await
        .unwrap();
    let plain = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "apppw").unwrap();
    let base = |port: u16| {
        format!(
            "url = \"postgres://app@127.0.0.1:{port}/appdb\"\npassword_file = \"{}\"",
            pw.display()
        )
    };
    let ca = pki.path("ca.crt").display().to_string();
    let mut cfg = check(
        "tls",
        "postgres",
        &format!("{}\ntls = \"require\"\nca_file = \"{ca}\"", base(pg.server.port)),
    );
    cfg += &check(
        "untrusted",
        "postgres",
        &format!("{}\ntls = \"require\"", base(pg.server.port)),
    );
    cfg += &check(
        "notls",
        "postgres",
        &format!("{}\ntls = \"require\"\nca_file = \"{ca}\"", base(plain.server.port)),
    );
    cfg += &check(
        "prefer",
        "postgres",
        &format!("{}\ntls = \"prefer\"\nca_file = \"{ca}\"", base(plain.server.port)),
    );
    let app = spawn_app(&cfg).await;
    let a = until(&app, "tls:responseTime", "query ok").await;
    assert_eq!(status_of(&a, "tls:responseTime"), "pass");
    let a = app
        .wait_for("/healthz", WAIT, |a| status_of(a, "untrusted:responseTime") == "fail")
        .await;
    let why = output_of(&a, "untrusted:responseTime");
    assert!(
        why.to_ascii_lowercase().contains("certificate") || why.contains("UnknownIssuer"),
        "{why}"
    );
    let a = app
        .wait_for("/healthz", WAIT, |a| status_of(a, "notls:responseTime") == "fail")
        .await;
    assert!(output_of(&a, "notls:responseTime").contains("TLS"), "{}", a.body);
    until(&app, "prefer:responseTime", "query ok").await;
    drop((pg, plain));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_and_redis_over_tls() {
    let pki = tokio::task::spawn_blocking(Pki::make).await.unwrap();
    let p = |n: &str| pki.path(n).display().to_string();
    let flags = vec![
        format!("--ssl-cert={}", p("server.crt")),
        format!("--ssl-key={}", p("server.key")),
        format!("--ssl-ca={}", p("ca.crt")),
    ];
    let db = tokio::task::spawn_blocking(move || Mariadb::start_with(flags))
        .await
        .unwrap();
    let (redis, _rdir) = redis_tls(&pki);
    let dir = tempfile::tempdir().unwrap();
    let app_pw = dir.path().join("apppw");
    std::fs::write(&app_pw, "apppw").unwrap();
    let redis_pw = dir.path().join("redispw");
    std::fs::write(&redis_pw, "pw1").unwrap();
    let my = format!(
        "url = \"mysql://app@127.0.0.1:{}/appdb\"\npassword_file = \"{}\"\ntls = \"require\"",
        db.server.port,
        app_pw.display()
    );
    let rd = format!(
        "url = \"rediss://127.0.0.1:{}/0\"\npassword_file = \"{}\"",
        redis.port,
        redis_pw.display()
    );
    let mut cfg = check("mytls", "mysql", &format!("{my}\nca_file = \"{}\"", p("ca.crt")));
    cfg += &check("myuntrusted", "mysql", &my);
    cfg += &check("rdtls", "redis", &format!("{rd}\nca_file = \"{}\"", p("ca.crt")));
    cfg += &check("rduntrusted", "redis", &rd);
    let app = spawn_app(&cfg).await;
    let a = until(&app, "mytls:responseTime", "query ok").await;
    assert_eq!(status_of(&a, "mytls:responseTime"), "pass");
    let a = until(&app, "rdtls:responseTime", "PONG").await;
    assert_eq!(status_of(&a, "rdtls:responseTime"), "pass");
    let a = app
        .wait_for("/healthz", WAIT, |a| status_of(a, "myuntrusted:responseTime") == "fail")
        .await;
    assert!(!output_of(&a, "myuntrusted:responseTime").is_empty());
    let a = app
        .wait_for("/healthz", WAIT, |a| status_of(a, "rduntrusted:responseTime") == "fail")
        .await;
    assert!(!output_of(&a, "rduntrusted:responseTime").is_empty());
    drop((db, redis));
}

/// Elasticsearch behind TLS (nginx in front of the simulator): trusted through
/// its CA file; refused with another CA or the public roots; and TLS spoken to a
/// plain-HTTP node fails the handshake with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elasticsearch_over_tls_trusts_only_its_ca() {
    let pki = tokio::task::spawn_blocking(Pki::make).await.unwrap();
    let sim = spawn_sim().await;
    let port = free_port();
    let _nginx = nginx_tls(
        &pki,
        port,
        &format!("location / {{ proxy_pass http://127.0.0.1:{}; }}", sim.addr().port()),
    );
    let p = |n: &str| pki.path(n).display().to_string();
    let url = format!("https://127.0.0.1:{port}");
    let es = |name: &str, url: &str, extra: &str| {
        format!(
            "[[checks]]\nname = \"{name}\"\nkind = \"elasticsearch\"\nurls = [\"{url}\"]\ninterval = \"300ms\"\ntimeout = \"250ms\"\njitter = \"0s\"\n{extra}\n"
        )
    };
    let mut cfg = es("trusted", &url, &format!("ca_file = \"{}\"", p("ca.crt")));
    cfg += &es(
        "wrongca",
        &url,
        &format!("ca_file = \"{}\"\ncritical = false", p("other-ca.crt")),
    );
    cfg += &es("publicroots", &url, "critical = false");
    cfg += &es(
        "tlstoplain",
        &format!("https://127.0.0.1:{}", sim.addr().port()),
        "critical = false",
    );
    let app = spawn_app(&cfg).await;
    let a = until(&app, "trusted:clusterHealth", "green").await;
    assert_eq!(status_of(&a, "trusted:clusterHealth"), "pass", "{}", a.body);
    let a = until(&app, "wrongca:clusterHealth", "certificate").await;
    assert_eq!(status_of(&a, "wrongca:clusterHealth"), "fail");
    until(&app, "publicroots:clusterHealth", "certificate").await;
    let a = app
        .wait_for("/healthz", WAIT, |a| status_of(a, "tlstoplain:clusterHealth") == "fail")
        .await;
    let why = output_of(&a, "tlstoplain:clusterHealth");
    assert!(
        why.contains("TLS handshake failed: the server does not speak TLS"),
        "{why}"
    );
    let wrong = output_of(&app.get("/healthz").await, "wrongca:clusterHealth");
    assert!(
        wrong.contains("TLS: the server certificate is not signed by a trusted CA"),
        "{wrong}"
    );
}

//! The grpc check kind against real gRPC servers: Python's grpcio with
//! grpcio-health-checking's servicer (every serving status, a server without
//! the health service, one that closes idle connections), and healthgate's own
//! gRPC listener (a service per check, TLS with client certificates, bearer
//! tokens). Transport faults are in the fault matrix (tests/faults.rs).

use std::time::Duration;

use crate::support::app::*;
use crate::support::certs::{tls_section, Ca};
use crate::support::grpcio::PyHealthServer;
use crate::support::lying_grpc::{lying_server, Lie};
use crate::support::rig::grpc_target;

const WAIT: Duration = Duration::from_secs(10);

fn check(name: &str, body: &str) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"grpc\"\ninterval = \"400ms\"\ntimeout = \"400ms\"\njitter = \"0s\"\ncritical = false\n{body}\n"
    )
}

/// Waits until every `(check, status, text in its output)` holds.
async fn until_all(app: &TestApp, want: &[(&str, &str, &str)]) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let a = app.get("/healthz").await;
        let wrong: Vec<String> = want
            .iter()
            .filter_map(|(name, status, text)| {
                let key = format!("{name}:responseTime");
                let (s, o) = (status_of(&a, &key), output_of(&a, &key));
                (s != *status || !o.contains(text)).then(|| format!("{name}: {s} {o:?} (want {status} {text:?})"))
            })
            .collect();
        if wrong.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not reached:\n{}",
            wrong.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_serving_status_and_grpc_error_from_real_servers() {
    let py = PyHealthServer::start(&[
        "=SERVING",
        "orders=NOT_SERVING",
        "warming=UNKNOWN",
        "gone=SERVICE_UNKNOWN",
    ]);
    let bare = PyHealthServer::start(&["--no-health"]);
    let hg = grpc_target().await;
    let sim = spawn_sim().await;
    let at = |addr: &str, service: &str| format!("address = \"{addr}\"\nservice = \"{service}\"");
    let hg_addr = hg.grpc.unwrap().to_string();
    let cfg = [
        check("all", &at(&py.addr(), "")),
        check("orders", &at(&py.addr(), "orders")),
        check("warming", &at(&py.addr(), "warming")),
        check("gone", &at(&py.addr(), "gone")),
        check("missing", &at(&py.addr(), "missing")),
        check("bare", &at(&bare.addr(), "")),
        check("hg", &at(&hg_addr, "up")),
        check("hgall", &at(&hg_addr, "")),
        check("hgnone", &at(&hg_addr, "nope")),
        check("http1", &at(&sim.addr().to_string(), "")),
    ]
    .concat();
    let app = spawn_app(&cfg).await;
    let py_at = py.addr();
    until_all(
        &app,
        &[
            ("all", "pass", &format!("{py_at}: SERVING")),
            ("orders", "fail", &format!("{py_at} service \"orders\": NOT_SERVING")),
            ("warming", "fail", "service \"warming\": UNKNOWN"),
            ("gone", "fail", "service \"gone\": SERVICE_UNKNOWN"),
            (
                "missing",
                "fail",
                "service \"missing\" is not known to the server (NOT_FOUND",
            ),
            (
                "bare",
                "fail",
                "the server does not implement grpc.health.v1.Health (UNIMPLEMENTED",
            ),
            ("hg", "pass", "service \"up\": SERVING"),
            ("hgall", "pass", ": SERVING"),
            (
                "hgnone",
                "fail",
                "service \"nope\" is not known to the server (NOT_FOUND",
            ),
            ("http1", "fail", "before any answer: not a gRPC port"),
        ],
    )
    .await;
    // The observed value is the call's duration, and probes never waited on it.
    let a = app.get("/healthz").await;
    assert_eq!(
        a.json["checks"]["all:responseTime"][0]["observedUnit"], "ms",
        "{}",
        a.body
    );
    assert!(a.elapsed < FAST_PROBE);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_client_certificates_names_each_failure() {
    let ca = Ca::new("ca");
    ca.leaf("server", false);
    ca.leaf("client", false);
    let other = Ca::new("other");
    let ca_file = ca.ca_file().display().to_string();
    let hg = spawn_app_with(
        &format!(
            "grpc_listen = \"127.0.0.1:0\"\n{}",
            tls_section(
                &ca,
                "server",
                &format!("client_ca_file = \"{ca_file}\"\nclient_auth = \"require\"")
            )
        ),
        "[[checks]]\nname = \"up\"\nkind = \"exec\"\ncommand = [\"true\"]\ninterval = \"10s\"\n",
    )
    .await;
    let py_tls = PyHealthServer::start(&[
        "--tls",
        &ca.path("server.pem").display().to_string(),
        &ca.path("server.key").display().to_string(),
        "=SERVING",
    ]);
    let py_plain = PyHealthServer::start(&["=SERVING"]);
    let grpc = hg.grpc.unwrap().to_string();
    let identity = format!(
        "client_cert_file = \"{}\"\nclient_key_file = \"{}\"",
        ca.path("client.pem").display(),
        ca.path("client.key").display()
    );
    let tls = |addr: &str, extra: &str| format!("address = \"{addr}\"\ntls = true\n{extra}");
    let with_ca = format!("ca_file = \"{ca_file}\"");
    let cfg = [
        check("mtls", &tls(&grpc, &format!("{with_ca}\n{identity}\nservice = \"up\""))),
        check("nocert", &tls(&grpc, &with_ca)),
        check(
            "wrongca",
            &tls(
                &grpc,
                &format!("ca_file = \"{}\"\n{identity}", other.ca_file().display()),
            ),
        ),
        check(
            "name",
            &tls(&grpc, &format!("{with_ca}\n{identity}\nauthority = \"wrong.example\"")),
        ),
        check(
            "byname",
            &tls(
                &format!("127.0.0.1:{}", py_tls.port),
                &format!("{with_ca}\nauthority = \"localhost\""),
            ),
        ),
        check("pytls", &tls(&py_tls.addr(), &with_ca)),
        check("toplain", &tls(&py_plain.addr(), &with_ca)),
        check("totls", &format!("address = \"{}\"", py_tls.addr())),
        check("alpn", &tls(&hg.addr.to_string(), &format!("{with_ca}\n{identity}"))),
    ]
    .concat();
    let app = spawn_app(&cfg).await;
    until_all(
        &app,
        &[
            ("mtls", "pass", "service \"up\": SERVING"),
            ("nocert", "fail", "after the server asked for a client certificate: none is configured (client_cert_file, client_key_file)"),
            ("wrongca", "fail", "not signed by a trusted CA (UnknownIssuer; check ca_file)"),
            ("name", "fail", "not valid for this host name (NotValidForName): certificate not valid for name \"wrong.example\""),
            ("byname", "pass", "SERVING"),
            ("pytls", "pass", "SERVING"),
            ("toplain", "fail", "TLS handshake failed"),
            ("totls", "fail", "before any answer: not a gRPC port, or one that wants TLS (tls = true)?"),
            ("alpn", "fail", "TLS: the server does not offer HTTP/2 (ALPN h2): not a gRPC port"),
        ],
    )
    .await;
    app.stop().await;
    hg.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_carries_a_bearer_token_that_never_shows() {
    let dir = crate::support::process::tmpdir();
    let secret = "grpc-check-token-9876543210";
    let token = crate::support::binary::write_file(dir.path(), "token", secret);
    let header = crate::support::binary::write_file(dir.path(), "header", &format!("Bearer {secret}"));
    let hg = spawn_app_with(
        &format!(
            "grpc_listen = \"127.0.0.1:0\"\n[server.auth]\nbearer_token_file = \"{}\"\nprobes = true\n",
            token.display()
        ),
        "[[checks]]\nname = \"up\"\nkind = \"exec\"\ncommand = [\"true\"]\ninterval = \"10s\"\n",
    )
    .await;
    let addr = hg.grpc.unwrap();
    let cfg = [
        check(
            "authed",
            &format!(
                "address = \"{addr}\"\nmetadata_file = {{ authorization = \"{}\" }}\nmetadata = {{ x-caller = \"healthgate\" }}",
                header.display()
            ),
        ),
        check("anonymous", &format!("address = \"{addr}\"")),
    ]
    .concat();
    let app = spawn_app(&cfg).await;
    until_all(
        &app,
        &[("authed", "pass", "SERVING"), ("anonymous", "fail", "(UNAUTHENTICATED")],
    )
    .await;
    for path in ["/healthz", "/metrics", "/status?format=json"] {
        let body = app.get(path).await.body;
        assert!(!body.contains(secret), "{path} shows the token: {body}");
    }
    app.stop().await;
    hg.stop().await;
}

/// A server that closes idle connections (GOAWAY) between rounds: each round
/// opens a new one, and none fails for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_closing_idle_connections_costs_no_round() {
    let py = PyHealthServer::start(&["--idle-ms", "200", "=SERVING"]);
    let app = spawn_app(&format!(
        "[[checks]]\nname = \"idle\"\nkind = \"grpc\"\naddress = \"{}\"\ninterval = \"500ms\"\ntimeout = \"500ms\"\njitter = \"0s\"\nrise = 1\nfall = 1\n",
        py.addr()
    ))
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let m = app.get("/metrics").await.body;
    assert!(runs_total(&m, "idle", "pass") >= 6, "{m}");
    assert_eq!(runs_total(&m, "idle", "fail"), 0, "{m}");
    app.stop().await;
}

#[test]
fn bad_settings_name_the_key() {
    let dir = crate::support::process::tmpdir();
    let err = |body: &str| {
        healthgate::config::Config::from_toml_str(&format!("[[checks]]\nname = \"g\"\nkind = \"grpc\"\n{body}\n"))
            .unwrap_err()
            .to_string()
    };
    let has = |e: &str, needle: &str| assert!(e.contains(needle), "{e}");
    let e = err("address = \"https://api.example:443\"");
    has(&e, "checks[0].address: invalid address \"https://api.example:443\" (expected host:port without a scheme; for TLS set tls = true)");
    let e = err("address = \"api.example\"");
    has(&e, "checks[0].address: invalid address \"api.example\"");
    let ca = crate::support::binary::write_file(dir.path(), "ca.pem", "x");
    let e = err(&format!("address = \"a:1\"\nca_file = \"{}\"", ca.display()));
    has(&e, "checks[0].ca_file: only used with tls = true");
    let e = err("address = \"a:1\"\ntls = true\nclient_cert_file = \"/c.pem\"");
    has(
        &e,
        "checks[0].client_cert_file: client_cert_file and client_key_file go together",
    );
    let e = err("address = \"a:1\"\ntls = true\nclient_cert_file = \"/nope/c.pem\"\nclient_key_file = \"/nope/c.key\"");
    has(&e, "checks[0].client_cert_file: cannot read \"/nope/c.pem\"");
    has(&e, "checks[0].client_key_file: cannot read \"/nope/c.key\"");
    let e = err("address = \"a:1\"\nauthority = \"user@host\"");
    has(&e, "checks[0].authority: invalid authority \"user@host\"");
    let e = err("address = \"a:1\"\nmetadata = { grpc-timeout = \"1S\", \"x y\" = \"z\" }");
    has(&e, "checks[0].metadata: invalid metadata name \"grpc-timeout\"");
    has(&e, "checks[0].metadata: invalid metadata name \"x y\"");
    let e = err("address = \"a:1\"\nmetadata_env = { authorization = \"HEALTHGATE_TEST_NO_SUCH_VAR\" }");
    has(&e, "checks[0].metadata_env.authorization:");
}

/// A bad certificate file is an error at build, naming the file and the check.
#[tokio::test]
async fn an_unreadable_client_key_fails_the_build_naming_it() {
    let dir = crate::support::process::tmpdir();
    let cert = crate::support::binary::write_file(dir.path(), "c.pem", "not a certificate");
    let key = crate::support::binary::write_file(dir.path(), "c.key", "not a key");
    let cfg = healthgate::config::Config::from_toml_str(&format!(
        "[[checks]]\nname = \"g\"\nkind = \"grpc\"\naddress = \"127.0.0.1:1\"\ntls = true\nclient_cert_file = \"{}\"\nclient_key_file = \"{}\"\n",
        cert.display(),
        key.display()
    ))
    .unwrap();
    let e = match healthgate::app::App::build(cfg).await {
        Ok(_) => panic!("a certificate file without a certificate was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("checks[0] (g): client_cert_file \""), "{e}");
    assert!(e.contains("no PEM certificate found"), "{e}");
}

/// A lying server gets a clear fail naming what it did, never a panic or a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_servers_fail_with_what_they_did() {
    let lies = [
        ("details", Lie::BadDetails, "gRPC status (UNKNOWN: lying)"),
        (
            "huge",
            Lie::HugeLength,
            "(OUT_OF_RANGE: Error, decoded message length too large",
        ),
        (
            "protobuf",
            Lie::NotProtobuf,
            "(INTERNAL: failed to decode Protobuf message",
        ),
        (
            "ninetynine",
            Lie::StatusNinetyNine,
            ": serving status 99 (not in the protocol)",
        ),
        ("http503", Lie::Http503, ": HTTP 503, not a gRPC answer"),
        ("html", Lie::Html, ": HTTP 200 (text/html), not a gRPC answer"),
    ];
    let mut cfg = String::new();
    for (name, lie, _) in lies {
        let addr = lying_server(lie).await;
        cfg += &check(name, &format!("address = \"{addr}\""));
    }
    let app = spawn_app(&cfg).await;
    let want: Vec<(&str, &str, &str)> = lies.iter().map(|(n, _, r)| (*n, "fail", *r)).collect();
    until_all(&app, &want).await;
    let m = app.get("/metrics").await.body;
    assert!(!m.contains("outcome=\"error\"} 1"), "a check panicked:\n{m}");
    app.stop().await;
}

//! The router on hand-built snapshots, with `oneshot` (no sockets).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use healthgate::checks::Observed;
use healthgate::config::{ShowDetails, StatusCodes};
use healthgate::http::{router, AppState, DetailsPolicy};
use healthgate::metrics::Metrics;
use healthgate::secret::Secret;
use healthgate::snapshot::{CheckView, Format, Override, Presentation, Snapshot};
use healthgate::status::State;
use healthgate::status::Status;
use http_body_util::BodyExt;
use tower::ServiceExt;

const CODES: StatusCodes = StatusCodes {
    pass: 200,
    warn: 200,
    fail: 503,
};

fn how(codes: StatusCodes) -> Presentation {
    Presentation {
        codes,
        agent: Default::default(),
    }
}

fn view(name: &str, critical: bool, state: State, output: &str) -> CheckView {
    CheckView {
        name: name.into(),
        critical,
        state,
        output: output.into(),
        observed: Some(Observed::Text("green".into())),
        measurement: "clusterHealth",
        component_type: "datastore",
        time: Some(SystemTime::now()),
        duration: Some(Duration::from_millis(3)),
        flapping: false,
        starting_warns: false,
        shared: false,
        shared_outage: None,
        kind: "elasticsearch",
        history: Arc::new(healthgate::history::CheckHistory::new(0)),
    }
}

fn no_fleet() -> healthgate::fleet::FleetHandle {
    healthgate::fleet::FleetHandle {
        me: Arc::new(healthgate::fleet::Identity::new(Some("test"))),
        view: None,
    }
}

fn state(checks: Vec<CheckView>, ov: Option<Override>, mode: ShowDetails) -> AppState {
    AppState {
        admin: None,
        snapshot: Arc::new(ArcSwap::from_pointee(Snapshot::build(1, checks, ov, &how(CODES)))),
        metrics: Arc::new(Metrics::new()),
        details: DetailsPolicy {
            mode,
            token: Some(Secret::new("details-token")),
        },
        gates: Default::default(),
        fleet: no_fleet(),
        pages: Default::default(),
        auth: None,
    }
}

async fn call(app: &AppState, method: Method, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, String, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = router(app.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

fn mixed() -> Vec<CheckView> {
    vec![
        view("es", true, State::Known(Status::Pass), "cluster is green"),
        view(
            "cache",
            false,
            State::Known(Status::Fail),
            "connection refused to 10.1.2.3",
        ),
    ]
}

#[tokio::test]
async fn health_json_shape_and_status_mapping() {
    let app = state(mixed(), None, ShowDetails::Always);
    let (status, ct, body) = call(&app, Method::GET, "/healthz", &[]).await;
    assert_eq!(status, 200, "non-critical failure only warns");
    assert_eq!(ct, "application/health+json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "warn");
    assert_eq!(v["checks"]["es:clusterHealth"][0]["status"], "pass");
    assert_eq!(v["checks"]["es:clusterHealth"][0]["observedValue"], "green");
    assert_eq!(
        v["checks"]["cache:clusterHealth"][0]["output"],
        "connection refused to 10.1.2.3"
    );
    assert!(body.starts_with("{\"status\":\"warn\""), "status comes first: {body}");

    let (status, _, _) = call(&app, Method::GET, "/readyz", &[]).await;
    assert_eq!(status, 200);
    let (status, _, body) = call(&app, Method::GET, "/healthz/cache", &[]).await;
    assert_eq!(status, 503, "one check alone uses the same mapping");
    assert!(body.contains("\"status\":\"fail\""));
    let (status, _, body) = call(&app, Method::GET, "/healthz/nope", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(body, r#"{"error":"no check with that name"}"#);
}

#[tokio::test]
async fn critical_failure_and_unknown_fail() {
    let app = state(
        vec![view("es", true, State::Unknown, "no result yet")],
        None,
        ShowDetails::Always,
    );
    let (status, _, body) = call(&app, Method::GET, "/healthz", &[]).await;
    assert_eq!(status, 503);
    assert!(body.contains("\"status\":\"unknown\""));
    let (status, _, body) = call(&app, Method::GET, "/livez", &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "ok\n"),
        "liveness ignores checks"
    );
}

/// The text body starts with `OK` exactly when the status is 2xx, for every
/// status, override and code mapping (Part A of the house issue: a yellow
/// cluster must not be evicted by a string match while its status is 200).
#[tokio::test]
async fn text_body_says_ok_exactly_when_the_status_is_2xx() {
    let maint = Override::Maintenance(healthgate::snapshot::Maintenance {
        reason: "patching".into(),
        until: SystemTime::now() + Duration::from_secs(60),
    });
    let mappings = [(200, 200, 503), (200, 503, 503), (200, 299, 500), (204, 429, 200)];
    for (pass, warn, fail) in mappings {
        let codes = StatusCodes { pass, warn, fail };
        for status in [Status::Pass, Status::Warn, Status::Fail] {
            for ov in [None, Some(Override::Draining), Some(maint.clone())] {
                let snap = Snapshot::build(
                    1,
                    vec![view("es", true, State::Known(status), "x")],
                    ov.clone(),
                    &how(codes),
                );
                let app = AppState {
                    snapshot: Arc::new(ArcSwap::from_pointee(snap)),
                    ..state(vec![], None, ShowDetails::Never)
                };
                for path in ["/healthz?format=text", "/readyz?format=text", "/healthz/es?format=text"] {
                    let (code, _, body) = call(&app, Method::GET, path, &[]).await;
                    let case = format!("{path} {status:?} {ov:?} codes {pass}/{warn}/{fail}: {code} {body:?}");
                    assert_eq!(code.is_success(), body.starts_with("OK"), "{case}");
                    assert!(
                        ["OK", "FAIL", "DRAINING", "MAINT"].iter().any(|w| body.starts_with(w)),
                        "{case}"
                    );
                    if !code.is_success() {
                        assert!(!body.contains("OK"), "a string match for OK must miss: {case}");
                    }
                }
            }
        }
    }
    let warn = |warn| {
        let codes = StatusCodes { warn, ..CODES };
        Snapshot::build(
            1,
            vec![view("es", true, State::Known(Status::Warn), "yellow")],
            None,
            &how(codes),
        )
    };
    let body = |s: &Snapshot| String::from_utf8(s.aggregate(Format::Text, false).body.to_vec()).unwrap();
    assert_eq!(body(&warn(200)), "OK warn\n");
    assert_eq!(body(&warn(503)), "FAIL warn\n");
}

#[tokio::test]
async fn verbose_text_and_exclude() {
    let app = state(mixed(), None, ShowDetails::Always);
    let (_, _, body) = call(&app, Method::GET, "/healthz?verbose", &[]).await;
    assert_eq!(
        body,
        "[+]es ok (3 ms)\n[-]cache failed (3 ms): connection refused to 10.1.2.3\nhealthz check passed with warnings\n"
    );
    let (_, ct, body) = call(&app, Method::GET, "/healthz?format=text", &[]).await;
    assert_eq!((ct.as_str(), body.as_str()), ("text/plain; charset=utf-8", "OK warn\n"));
    let (_, _, body) = call(&app, Method::GET, "/healthz", &[("accept", "text/plain")]).await;
    assert_eq!(body, "OK warn\n");
    let (status, _, body) = call(&app, Method::GET, "/healthz?exclude=cache&format=text", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "OK\n"));

    let failing = state(
        vec![view("es", true, State::Known(Status::Fail), "red")],
        None,
        ShowDetails::Always,
    );
    let (status, _, body) = call(&failing, Method::GET, "/healthz?format=text", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "FAIL\n"));
    let (status, _, _) = call(&failing, Method::GET, "/healthz?exclude=es", &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn details_policy() {
    let never = state(mixed(), None, ShowDetails::Never);
    let (_, _, body) = call(&never, Method::GET, "/healthz", &[]).await;
    assert!(
        body.contains("cache:clusterHealth") && body.contains("\"status\":\"fail\""),
        "names and statuses stay"
    );
    assert!(!body.contains("10.1.2.3") && !body.contains("observedValue"), "{body}");
    let (_, _, body) = call(&never, Method::GET, "/healthz?verbose", &[]).await;
    assert!(body.contains("[-]cache failed: reason withheld"), "{body}");

    let auth = state(mixed(), None, ShowDetails::Authorized);
    let (_, _, body) = call(&auth, Method::GET, "/healthz", &[]).await;
    assert!(!body.contains("10.1.2.3"));
    let (_, _, body) = call(&auth, Method::GET, "/healthz", &[("authorization", "Bearer wrong")]).await;
    assert!(!body.contains("10.1.2.3"));
    let (_, _, body) = call(
        &auth,
        Method::GET,
        "/healthz",
        &[("authorization", "Bearer details-token")],
    )
    .await;
    assert!(body.contains("10.1.2.3"));
}

#[tokio::test]
async fn draining_fails_readiness_but_not_liveness() {
    let app = state(mixed(), Some(Override::Draining), ShowDetails::Never);
    let (status, _, body) = call(&app, Method::GET, "/healthz", &[]).await;
    assert_eq!(status, 503);
    assert!(body.contains("\"output\":\"draining: shutting down\""), "{body}");
    assert_eq!(call(&app, Method::GET, "/readyz", &[]).await.0, 503);
    assert_eq!(call(&app, Method::GET, "/livez", &[]).await.0, 200);
}

#[tokio::test]
async fn head_unknown_path_and_wrong_method() {
    let app = state(mixed(), None, ShowDetails::Never);
    let (status, _, body) = call(&app, Method::HEAD, "/healthz", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    assert_eq!(call(&app, Method::GET, "/nope", &[]).await.0, 404);
    assert_eq!(call(&app, Method::POST, "/healthz", &[]).await.0, 405);
}

#[tokio::test]
async fn custom_status_codes() {
    let codes = StatusCodes {
        pass: 200,
        warn: 429,
        fail: 500,
    };
    let app = AppState {
        admin: None,
        snapshot: Arc::new(ArcSwap::from_pointee(Snapshot::build(1, mixed(), None, &how(codes)))),
        metrics: Arc::new(Metrics::new()),
        details: DetailsPolicy {
            mode: ShowDetails::Never,
            token: None,
        },
        gates: Default::default(),
        fleet: no_fleet(),
        pages: Default::default(),
        auth: None,
    };
    assert_eq!(call(&app, Method::GET, "/healthz", &[]).await.0, 429);
    assert_eq!(call(&app, Method::GET, "/healthz/cache", &[]).await.0, 500);
}

#[tokio::test]
async fn metrics_are_served_from_memory() {
    let app = state(mixed(), None, ShowDetails::Never);
    let (status, ct, body) = call(&app, Method::GET, "/metrics", &[]).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/plain; version=0.0.4"));
    assert!(body.contains("healthgate_build_info{"));
    assert!(body.contains("process_resident_memory_bytes"));
    call(&app, Method::GET, "/healthz", &[]).await;
    let (_, _, body) = call(&app, Method::GET, "/metrics", &[]).await;
    assert!(
        body.contains(r#"healthgate_http_requests_total{code="200",route="/healthz"} 1"#),
        "{body}"
    );
}

#[tokio::test]
async fn agent_lines_for_every_state() {
    let line = |checks: Vec<CheckView>, ov: Option<Override>| {
        String::from_utf8(Snapshot::build(1, checks, ov, &how(CODES)).agent_line.to_vec()).unwrap()
    };
    let pass = || view("es", true, State::Known(Status::Pass), "green");
    assert_eq!(line(vec![pass()], None), "up ready 100%\n");
    assert_eq!(line(mixed(), None), "up ready 50%\n", "warn");
    assert_eq!(
        line(
            vec![view(
                "es",
                true,
                State::Known(Status::Fail),
                "cluster \"x\" is red\r\n\u{e9}"
            )],
            None
        ),
        "down #es: cluster \"x\" is red\n",
        "one sanitised ASCII line"
    );
    assert_eq!(line(vec![pass()], Some(Override::Draining)), "drain\n");
    let m = healthgate::snapshot::Maintenance {
        reason: "kernel upgrade".into(),
        until: SystemTime::now() + Duration::from_secs(60),
    };
    assert_eq!(
        line(vec![pass()], Some(Override::Maintenance(m))),
        "maint #kernel upgrade\n"
    );
}

#[tokio::test]
async fn admin_api_is_off_without_a_token() {
    let app = state(mixed(), None, ShowDetails::Never);
    let (status, _, body) = call(&app, Method::GET, "/admin/maintenance", &[]).await;
    assert_eq!(status, 404);
    assert!(body.contains("admin API is off"));
}

#[tokio::test]
async fn router_serves_every_listed_endpoint() {
    let app = state(mixed(), None, ShowDetails::Never);
    let (_, _, unrouted) = call(&app, Method::GET, "/no-such-endpoint", &[]).await;
    for (routes, _) in healthgate::http::ENDPOINTS {
        let (methods, paths) = routes.split_once(' ').unwrap();
        for method in methods.split('/') {
            for path in paths.split(", ") {
                let uri = path.replace("{check}", "es");
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                let (status, _, body) = call(&app, method.clone(), &uri, &[]).await;
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
                assert!(
                    status != StatusCode::NOT_FOUND || body != unrouted,
                    "{method} {uri} is not routed"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_shared_outage_serves_as_warn_in_every_format_and_says_why() {
    let mut es = view(
        "es",
        true,
        State::Known(Status::Fail),
        "shared outage: es failing on 4 of 5 instances; cluster is red",
    );
    es.shared = true;
    es.shared_outage = Some("shared outage: es failing on 4 of 5 instances".into());
    let app = state(
        vec![es, view("app", true, State::Known(Status::Pass), "ok")],
        None,
        ShowDetails::Never,
    );
    let (code, _, body) = call(&app, Method::GET, "/healthz", &[]).await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "warn");
    // Shown with details off: it names a check and counts instances, nothing more.
    assert_eq!(v["output"], "shared outage: es failing on 4 of 5 instances");
    assert_eq!(
        call(&app, Method::GET, "/healthz?format=text", &[]).await.2,
        "OK warn\n"
    );
    assert_eq!(&app.snapshot.load().agent_line[..], b"up ready 50%\n");
    // The check alone still says what it is; the fleet sees the raw verdict.
    assert_eq!(call(&app, Method::GET, "/healthz/es", &[]).await.0, 503);
    assert!(!app.snapshot.load().serving());
    let (code, _, own) = call(&app, Method::GET, "/fleet/self", &[]).await;
    assert_eq!(code, 200);
    assert!(
        own.contains(r#""serving":false"#) && own.contains(r#""es":"fail""#),
        "{own}"
    );
}

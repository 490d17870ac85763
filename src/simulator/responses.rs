//! The simulator's answers, built from captured fixtures (`fixtures/es/`).

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use bytes::Bytes;
use futures_util::StreamExt;

use super::{apis, Mode, Shared, SimAuth};

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/es/", $path))
    };
}

/// Every `cluster-health/` fixture, by file name, for `Mode::Fixture`.
pub const CLUSTER_HEALTH_FIXTURES: &[(&str, &str)] = &[
    (
        "elasticsearch-0.90.x-yellow-timed_out-http200.json",
        fixture!("cluster-health/elasticsearch-0.90.x-yellow-timed_out-http200.json"),
    ),
    (
        "elasticsearch-1.7.1-green.json",
        fixture!("cluster-health/elasticsearch-1.7.1-green.json"),
    ),
    (
        "elasticsearch-1.7.1-red.json",
        fixture!("cluster-health/elasticsearch-1.7.1-red.json"),
    ),
    (
        "elasticsearch-1.7.6-yellow.json",
        fixture!("cluster-health/elasticsearch-1.7.6-yellow.json"),
    ),
    (
        "elasticsearch-2.4.5-yellow.json",
        fixture!("cluster-health/elasticsearch-2.4.5-yellow.json"),
    ),
    (
        "elasticsearch-2.x-red-zero-shards-NaN-percent.json",
        fixture!("cluster-health/elasticsearch-2.x-red-zero-shards-NaN-percent.json"),
    ),
    (
        "elasticsearch-5.2.2-green.json",
        fixture!("cluster-health/elasticsearch-5.2.2-green.json"),
    ),
    (
        "elasticsearch-5.4.2-yellow.json",
        fixture!("cluster-health/elasticsearch-5.4.2-yellow.json"),
    ),
    (
        "elasticsearch-5.x-red.json",
        fixture!("cluster-health/elasticsearch-5.x-red.json"),
    ),
    (
        "elasticsearch-6.x-yellow.json",
        fixture!("cluster-health/elasticsearch-6.x-yellow.json"),
    ),
    (
        "elasticsearch-7.13.1-yellow-SEMISYNTHETIC.json",
        fixture!("cluster-health/elasticsearch-7.13.1-yellow-SEMISYNTHETIC.json"),
    ),
    (
        "elasticsearch-7.x-yellow-compact.json",
        fixture!("cluster-health/elasticsearch-7.x-yellow-compact.json"),
    ),
    (
        "elasticsearch-8.x-cloud-red.json",
        fixture!("cluster-health/elasticsearch-8.x-cloud-red.json"),
    ),
    (
        "elasticsearch-docs-yellow.json",
        fixture!("cluster-health/elasticsearch-docs-yellow.json"),
    ),
    (
        "opensearch-1.x-docs-green.json",
        fixture!("cluster-health/opensearch-1.x-docs-green.json"),
    ),
    (
        "opensearch-2.x-docs-green-level_awareness_attributes.json",
        fixture!("cluster-health/opensearch-2.x-docs-green-level_awareness_attributes.json"),
    ),
    (
        "opensearch-3.x-yellow.json",
        fixture!("cluster-health/opensearch-3.x-yellow.json"),
    ),
];

const INFO: &str = fixture!("info/elasticsearch-8.17.0.json");
const GREEN: &str = fixture!("cluster-health/elasticsearch-5.2.2-green.json");
const YELLOW: &str = fixture!("cluster-health/elasticsearch-7.x-yellow-compact.json");
const RED: &str = fixture!("cluster-health/elasticsearch-8.x-cloud-red.json");
const NO_MASTER: &str = fixture!("errors/opendistro-7.x-503-master_not_discovered_exception.json");
const BLOCKED: &str = fixture!("errors/elasticsearch-7.x-503-cluster_block_exception-no_master.json");
const UNAUTHORIZED: &str = fixture!("errors/elasticsearch-8.8.1-401-security_exception.json");
const FORBIDDEN: &str = fixture!("errors/elasticsearch-8.x-403-security_exception-cluster_monitor_main.json");

/// Looks up a cluster-health fixture by file name.
pub fn cluster_health_fixture(name: &str) -> Option<&'static str> {
    CLUSTER_HEALTH_FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
}

pub(super) type Resp = Response<Body>;

/// A fixture file parsed as JSON (fixtures are part of the build).
pub(super) fn fixture_value(path: &str) -> serde_json::Value {
    let text = match path {
        "ccr-stats/elasticsearch-docs-follow_stats.json" => fixture!("ccr-stats/elasticsearch-docs-follow_stats.json"),
        "ccr-stats/elasticsearch-docs-ccr_stats.json" => fixture!("ccr-stats/elasticsearch-docs-ccr_stats.json"),
        "health-report/elasticsearch-8.7.0-green-exporter.json" => {
            fixture!("health-report/elasticsearch-8.7.0-green-exporter.json")
        }
        _ => "null",
    };
    serde_json::from_str(text).expect("fixtures are valid JSON")
}

/// A JSON answer; `product` adds `X-elastic-product` (absent on 401s).
pub(super) fn json_response(status: StatusCode, body: impl Into<Body>, product: bool) -> Resp {
    json(status, body, product)
}

fn json(status: StatusCode, body: impl Into<Body>, product: bool) -> Resp {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if product {
        r.headers_mut()
            .insert("x-elastic-product", HeaderValue::from_static("Elasticsearch"));
    }
    r
}

fn unauthorized(uri: &str, credentials_sent: bool) -> Resp {
    // ES echoes the raw request URI, query string included, in the reason; with
    // wrong credentials it says it could not authenticate them instead.
    let reason = if credentials_sent {
        "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
            .to_string()
    } else {
        format!("missing authentication credentials for REST request [{uri}]")
    };
    let body = UNAUTHORIZED.replace("missing authentication credentials for REST request [/]", &reason);
    let mut r = json(StatusCode::UNAUTHORIZED, body, false);
    let h = r.headers_mut();
    h.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"security\" charset=\"UTF-8\""),
    );
    h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("ApiKey"));
    r
}

/// The `Authorization` header value a client must send, if any.
pub(super) fn expected_header(auth: &SimAuth) -> Option<String> {
    match auth {
        SimAuth::Open => None,
        SimAuth::ApiKey(key) => Some(format!("ApiKey {key}")),
        SimAuth::Basic(user, pass) => {
            // The same header reqwest sends, built by reqwest rather than by hand.
            let req = reqwest::Client::new()
                .get("http://127.0.0.1/")
                .basic_auth(user, Some(pass))
                .build()
                .expect("static request builds");
            req.headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        }
    }
}

/// Answers one request.
pub(super) async fn handle(req: Request<hyper::body::Incoming>, shared: Arc<Shared>) -> Result<Resp, Infallible> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let delay = shared.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mode = shared.mode();
    if mode == Mode::Hang {
        std::future::pending::<()>().await;
    }
    let uri = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let expected = shared.auth.lock().expect("auth lock").clone();
    let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if mode == Mode::Unauthorized || expected.as_deref().is_some_and(|e| given != Some(e)) {
        return Ok(unauthorized(&uri, given.is_some()));
    }
    let path = req.uri().path();
    let resp = match (req.method(), path) {
        (&Method::GET | &Method::HEAD, "/") => root(req.method() == Method::HEAD, &mode),
        (&Method::GET, "/_cluster/health") => cluster_health(&mode),
        (&Method::GET, p) if p.starts_with("/_cluster/health/") => failure(&mode).unwrap_or_else(|| {
            let list = p.trim_start_matches("/_cluster/health/");
            apis::index_health(health_body(&mode), list, &mode)
        }),
        (&Method::GET, p) if p.ends_with("/_ccr/stats") => {
            let state = *shared.ccr.lock().expect("ccr lock");
            failure(&mode).unwrap_or_else(|| apis::ccr_stats(p, state))
        }
        (&Method::GET, "/_health_report") => failure(&mode).unwrap_or_else(|| apis::health_report(&mode)),
        (&Method::GET, "/_cat/master") => failure(&mode).unwrap_or_else(apis::cat_master),
        (m, _) => json(
            StatusCode::BAD_REQUEST,
            format!(r#"{{"error":"no handler found for uri [{uri}] and method [{m}]","status":400}}"#),
            true,
        ),
    };
    Ok(resp)
}

fn root(head: bool, mode: &Mode) -> Resp {
    if let Some(r) = failure(mode) {
        return r;
    }
    // GET / is pretty-printed; HEAD / carries the GET length and no body.
    let body = format!("{INFO}\n");
    let len = body.len();
    let mut r = json(
        StatusCode::OK,
        if head { Body::empty() } else { Body::from(body) },
        true,
    );
    r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    r
}

/// Failure modes shared by every route; `None` for the colour modes.
fn failure(mode: &Mode) -> Option<Resp> {
    Some(match mode {
        Mode::NoMaster => json(StatusCode::SERVICE_UNAVAILABLE, NO_MASTER, true),
        Mode::Blocked => json(StatusCode::SERVICE_UNAVAILABLE, BLOCKED, true),
        Mode::Forbidden => json(StatusCode::FORBIDDEN, FORBIDDEN, true),
        Mode::ServerError => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":{"root_cause":[{"type":"null_pointer_exception","reason":null}],"type":"null_pointer_exception","reason":null},"status":500}"#,
            true,
        ),
        Mode::ServerErrorEmpty => json(StatusCode::INTERNAL_SERVER_ERROR, Body::empty(), true),
        Mode::Garbage => {
            let mut r = json(
                StatusCode::OK,
                "<html><body><h1>Welcome to nginx!</h1></body></html>\n",
                false,
            );
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            r
        }
        Mode::WrongShape => json(StatusCode::OK, r#"{"acknowledged":true,"shards":[1,2,3]}"#, true),
        Mode::Huge => {
            let chunk = Bytes::from(vec![b' '; 64 * 1024]);
            let ten_gib = 10 * 1024 * 1024 * 1024 / chunk.len();
            let stream = futures_util::stream::repeat(chunk)
                .take(ten_gib)
                .map(Ok::<_, std::io::Error>);
            json(StatusCode::OK, Body::from_stream(stream), true)
        }
        Mode::StallBody => {
            let first = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(Bytes::from_static(b"{\"cluster_name\":"))
            });
            let stream = first.chain(futures_util::stream::pending());
            json(StatusCode::OK, Body::from_stream(stream), true)
        }
        Mode::Green
        | Mode::Yellow
        | Mode::Red
        | Mode::Timeout408
        | Mode::Fixture(_)
        | Mode::Unauthorized
        | Mode::Hang
        | Mode::Refused => return None,
    })
}

fn cluster_health(mode: &Mode) -> Resp {
    if let Some(r) = failure(mode) {
        return r;
    }
    match mode {
        Mode::Timeout408 => json(
            StatusCode::REQUEST_TIMEOUT,
            YELLOW.replace("\"timed_out\":false", "\"timed_out\":true"),
            true,
        ),
        _ => json(StatusCode::OK, health_body(mode), true),
    }
}

/// The cluster-health body for a colour mode.
fn health_body(mode: &Mode) -> &'static str {
    match mode {
        Mode::Yellow => YELLOW,
        Mode::Red => RED,
        Mode::Fixture(name) => cluster_health_fixture(name).unwrap_or(GREEN),
        _ => GREEN,
    }
}

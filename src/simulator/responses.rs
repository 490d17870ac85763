//! The simulator's answers, built from captured fixtures (`fixtures/es/`).

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use bytes::Bytes;
use futures_util::StreamExt;

use super::fixtures::*;
use super::{apis, Mode, Shared, SimAuth};

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
    let query = Query::parse(req.uri().query());
    let info = *shared.info.lock().expect("info lock");
    // Master-routed requests wait `master_timeout` for a master that never
    // comes, then fail (TransportMasterNodeAction); the wait is the point: a
    // check that does not bound it times out instead of saying why.
    let master_routed = match (req.method(), path) {
        (&Method::GET, "/_cluster/health") => !query.local,
        (&Method::GET, p) if p.starts_with("/_cluster/health/") => !query.local,
        (&Method::GET, "/_ccr/stats") | (&Method::GET, "/_cat/master") => true,
        (&Method::GET, p) if p.ends_with("/_ccr/info") => true,
        _ => false,
    };
    if mode == Mode::NoMaster && master_routed {
        match query.master_wait() {
            Ok(Some(wait)) => tokio::time::sleep(wait).await,
            Ok(None) => std::future::pending::<()>().await,
            Err(reason) => {
                let err = serde_json::json!({"type": "illegal_argument_exception", "reason": reason});
                let body = serde_json::json!({"error": {"root_cause": [err], "type": "illegal_argument_exception",
                    "reason": reason}, "status": 400});
                return Ok(json(StatusCode::BAD_REQUEST, body.to_string(), true));
            }
        }
    }
    let resp = match (req.method(), path) {
        (&Method::GET | &Method::HEAD, "/") => {
            let identity = shared.identity.lock().expect("identity lock").clone();
            root(req.method() == Method::HEAD, &mode, info, identity.as_ref())
        }
        (&Method::GET, "/_cluster/health") => cluster_health(&mode, query.local),
        (&Method::GET, p) if p.starts_with("/_cluster/health/") => failure(&mode).unwrap_or_else(|| {
            let list = p.trim_start_matches("/_cluster/health/");
            let names = shared.ccr.lock().expect("ccr lock").names();
            apis::index_health(&health_body(&mode), list, &mode, &names)
        }),
        (&Method::GET, p) if p.ends_with("/_ccr/stats") => failure(&mode).unwrap_or_else(|| {
            let list = p
                .strip_suffix("/_ccr/stats")
                .and_then(|l| l.strip_prefix('/'))
                .filter(|l| !l.is_empty());
            shared.ccr.lock().expect("ccr lock").stats(list)
        }),
        (&Method::GET, p) if p.len() > 1 && (p.ends_with("/_stats") || p.contains("/_stats/")) => failure(&mode)
            .unwrap_or_else(|| {
                let list = p.trim_start_matches('/').split('/').next().unwrap_or_default();
                shared.ccr.lock().expect("ccr lock").index_stats(list)
            }),
        (&Method::GET, p) if p.ends_with("/_ccr/info") && p.len() > "/_ccr/info".len() => failure(&mode)
            .unwrap_or_else(|| {
                let list = p.trim_start_matches('/').trim_end_matches("/_ccr/info");
                shared.ccr.lock().expect("ccr lock").info(list)
            }),
        // The health report is how a cluster without a master explains itself.
        (&Method::GET, "/_health_report") if mode == Mode::NoMaster => apis::health_report(&mode),
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

/// The query parameters the simulator honours.
struct Query {
    local: bool,
    master_timeout: Option<String>,
    timeout: Option<String>,
}

impl Query {
    fn parse(query: Option<&str>) -> Query {
        let mut q = Query {
            local: false,
            master_timeout: None,
            timeout: None,
        };
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "local" => q.local = v.is_empty() || v == "true",
                "master_timeout" => q.master_timeout = Some(v.into_owned()),
                "timeout" => q.timeout = Some(v.into_owned()),
                _ => {}
            }
        }
        q
    }

    /// How long a master-routed request waits for a master: `master_timeout`,
    /// else `timeout` (which bounds the master wait too, as observed on 7.1),
    /// else 30 s; `None` for `-1` (forever). A value that is not a time gives
    /// the reason of Elasticsearch's 400.
    fn master_wait(&self) -> Result<Option<Duration>, String> {
        let (key, value) = match (&self.master_timeout, &self.timeout) {
            (Some(v), _) => ("master_timeout", v.as_str()),
            (None, Some(v)) => ("timeout", v.as_str()),
            (None, None) => return Ok(Some(Duration::from_secs(30))),
        };
        if value == "-1" {
            return Ok(None);
        }
        humantime::parse_duration(value).map(Some).map_err(|_| {
            format!(
                "failed to parse setting [{key}] with value [{value}] as a time value: unit is missing or unrecognized"
            )
        })
    }
}

/// `GET /` and `HEAD /`. Without a master, 7.0 and later still answer 200 from
/// the node's local state; 1.x-6.x answer 503 with the info body (PR #29045).
fn root(head: bool, mode: &Mode, info: &'static str, identity: Option<&(String, String)>) -> Resp {
    let no_master = matches!(mode, Mode::NoMaster | Mode::Blocked);
    let status = if no_master && major_version(info) <= 6 {
        StatusCode::SERVICE_UNAVAILABLE
    } else if no_master {
        StatusCode::OK
    } else if let Some(r) = failure(mode) {
        return r;
    } else {
        StatusCode::OK
    };
    // GET / is pretty-printed; HEAD / carries the GET length and no body.
    let body = match identity {
        // Another cluster: the same version's answer with its name and UUID.
        Some((name, uuid)) => format!(
            "{}\n",
            relabel(&relabel(info, "cluster_name", name), "cluster_uuid", uuid).trim_end()
        ),
        None => format!("{}\n", info.trim_end()),
    };
    let len = body.len();
    let mut r = json(status, if head { Body::empty() } else { Body::from(body) }, true);
    r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    r
}

/// `body` with the string value of `"key" : "..."` replaced, the layout kept
/// (`GET /` is pretty-printed).
fn relabel(body: &str, key: &str, value: &str) -> String {
    let marker = format!("\"{key}\" : \"");
    let Some(start) = body.find(&marker).map(|i| i + marker.len()) else {
        return body.to_string();
    };
    let end = body[start..].find('"').map_or(body.len(), |i| start + i);
    format!("{}{value}{}", &body[..start], &body[end..])
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

fn cluster_health(mode: &Mode, local: bool) -> Resp {
    // `local=true` answers from the node's own state, where the no-master
    // block forces red (ClusterStateHealth).
    if local && *mode == Mode::NoMaster {
        let mut doc: serde_json::Value = serde_json::from_str(&health_body(&Mode::Red)).expect("valid JSON");
        doc["number_of_nodes"] = serde_json::json!(1);
        doc["number_of_data_nodes"] = serde_json::json!(1);
        return json(StatusCode::OK, doc.to_string(), true);
    }
    if let Some(r) = failure(mode) {
        return r;
    }
    match mode {
        Mode::Timeout408 => json(
            StatusCode::REQUEST_TIMEOUT,
            health_body(&Mode::Yellow).replace("\"timed_out\":false", "\"timed_out\":true"),
            true,
        ),
        _ => json(StatusCode::OK, health_body(mode), true),
    }
}

/// The cluster-health body for a colour mode: the captures, re-labelled as the
/// one simulated cluster (3 nodes; red has lost one); a named fixture as captured.
fn health_body(mode: &Mode) -> String {
    match mode {
        Mode::Fixture(name) => cluster_health_fixture(name).unwrap_or(GREEN).to_string(),
        Mode::Yellow => as_simulated_cluster(YELLOW, 3),
        Mode::Red => as_simulated_cluster(RED, 2),
        _ => as_simulated_cluster(GREEN, 3),
    }
}

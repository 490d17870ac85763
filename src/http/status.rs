//! `/status` (the page and its JSON), `/history` and the badges: read the
//! snapshot (and the fleet view), render once per snapshot, never wait.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use bytes::Bytes;

use super::cache::Cached;
use super::{error_answer, send_negotiated, AppState, JSON};
use crate::history::HistoryEntry;
use crate::page::{self, badge, PageInput};
use crate::snapshot::{Prepared, Snapshot};

const HTML: &str = "text/html; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// What a page render depends on: the snapshot's generation, the fleet
/// view's identity, and whether details are shown.
type PageKey = (u64, usize, bool);

/// The kept renders of `/status` and `/history`.
#[derive(Default)]
pub struct PageCache {
    page: [Cached<PageKey>; 2],
    json: [Cached<PageKey>; 2],
    history: [Cached<PageKey>; 2],
    one: Cached<(u64, bool, String)>,
}

fn query_has(uri: &Uri, key: &str, value: &str) -> bool {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).any(|(k, v)| k == key && v == value)
}

fn query_get(uri: &Uri, key: &str) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// `GET /status`: the page, or with `?format=json` what its script polls.
pub(super) async fn status(
    State(app): State<AppState>,
    authenticated: Option<axum::Extension<super::auth::Authenticated>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let snap = app.snapshot.load_full();
    let fleet = app.fleet.view.as_ref().map(|v| v.load_full());
    let details = app.details.allows(&headers, authenticated.is_some());
    let key = (
        snap.generation,
        fleet.as_ref().map_or(0, |f| Arc::as_ptr(f) as usize),
        details,
    );
    let input = PageInput {
        snap: &snap,
        fleet: fleet.as_deref(),
        details,
        instance: &app.fleet.me.instance,
        now: SystemTime::now(),
    };
    let json = query_has(&uri, "format", "json");
    let cells = if json { &app.pages.json } else { &app.pages.page };
    let kept = cells[usize::from(details)].get(key, || {
        if json {
            Prepared::new(StatusCode::OK, JSON, Bytes::from(page::json(&input)))
        } else {
            Prepared::new(StatusCode::OK, HTML, Bytes::from(page::page(&input)))
        }
    });
    let mut resp = send_negotiated(&kept.1, &headers);
    if !json {
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(page::assets::csp()),
        );
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    resp.map(Body::new)
}

fn entries(snap: &Snapshot) -> Vec<HistoryEntry<'_>> {
    snap.checks
        .iter()
        .map(|c| HistoryEntry {
            name: &c.name,
            kind: c.kind,
            critical: c.critical,
            state: c.state,
            history: &c.history,
        })
        .collect()
}

/// `GET /history` (every check) or `?check=NAME` (one; 404 if unknown).
pub(super) async fn history(
    State(app): State<AppState>,
    authenticated: Option<axum::Extension<super::auth::Authenticated>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let snap = app.snapshot.load_full();
    let details = app.details.allows(&headers, authenticated.is_some());
    let now = SystemTime::now();
    let resp = match query_get(&uri, "check") {
        None => {
            let kept = app.pages.history[usize::from(details)].get((snap.generation, 0, details), || {
                Prepared::new(
                    StatusCode::OK,
                    JSON,
                    Bytes::from(crate::history::to_json(&entries(&snap), details, now)),
                )
            });
            send_negotiated(&kept.1, &headers)
        }
        Some(name) => {
            let all = entries(&snap);
            let Some(one) = all.into_iter().find(|e| e.name == name) else {
                return error_answer(
                    StatusCode::NOT_FOUND,
                    "no check with that name (GET /history lists every check)",
                )
                .map(Body::new);
            };
            let kept = app.pages.one.get((snap.generation, details, name), || {
                Prepared::new(
                    StatusCode::OK,
                    JSON,
                    Bytes::from(crate::history::to_json(&[one], details, now)),
                )
            });
            send_negotiated(&kept.1, &headers)
        }
    };
    resp.map(Body::new)
}

/// How long a cache may keep a badge.
const BADGE_MAX_AGE: &str = "public, max-age=5";

fn badge_answer(label: &str, message: &str, colour: &str) -> Response {
    let mut resp = Response::new(Body::from(badge::svg(label, message, colour)));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SVG));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(BADGE_MAX_AGE));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    resp
}

/// `?uptime=`: `None` without it, `Some(None)` for a value it cannot be.
fn uptime_window(uri: &Uri) -> Option<Option<(Duration, &'static str)>> {
    match query_get(uri, "uptime").as_deref() {
        None => None,
        Some("1h") => Some(Some((Duration::from_secs(3600), "1h"))),
        Some("24h") => Some(Some((Duration::from_secs(86_400), "24h"))),
        Some(_) => Some(None),
    }
}

/// `GET /badge.svg`: the overall state (`?label=` renames it).
pub(super) async fn overall(State(app): State<AppState>, uri: Uri) -> Response {
    let snap = app.snapshot.load();
    let label = query_get(&uri, "label").unwrap_or_else(|| "health".into());
    let word = match &snap.override_ {
        Some(crate::snapshot::Override::Draining) => "draining",
        Some(crate::snapshot::Override::Maintenance(_)) => "maintenance",
        None => snap.status().as_str(),
    };
    badge_answer(&label, word, badge::colour_of_state(word))
}

/// `GET /badge/{check}.svg`: one check's state, or `?uptime=1h|24h`.
pub(super) async fn one(State(app): State<AppState>, Path(file): Path<String>, uri: Uri) -> Response {
    let Some(name) = file.strip_suffix(".svg") else {
        return error_answer(StatusCode::NOT_FOUND, "badges end in .svg: /badge/{check}.svg").map(Body::new);
    };
    let snap = app.snapshot.load();
    let Some(c) = snap.checks.iter().find(|c| *c.name == *name) else {
        return error_answer(StatusCode::NOT_FOUND, "no check with that name").map(Body::new);
    };
    let window = match uptime_window(&uri) {
        None => None,
        Some(Some(w)) => Some(w),
        Some(None) => {
            return error_answer(StatusCode::BAD_REQUEST, "uptime must be 1h or 24h").map(Body::new);
        }
    };
    let label = query_get(&uri, "label").unwrap_or_else(|| c.name.to_string());
    match window {
        None => {
            let word = c.state.as_str();
            badge_answer(&label, word, badge::colour_of_state(word))
        }
        Some((d, text)) => {
            let share = c.history.uptime(d, crate::history::unix_ms(SystemTime::now()));
            let message = match share {
                Some(u) => format!("{:.2}% {text}", (u * 10_000.0).floor() / 100.0),
                None => format!("no data {text}"),
            };
            badge_answer(&label, &message, badge::colour_of_uptime(share))
        }
    }
}

//! `/healthz`, `/readyz` and their per-check forms.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::query::HealthQuery;
use super::{error_answer, send, send_negotiated, Answer, AppState};

/// The aggregate answer (routed; the probe fast path calls [`respond`] directly).
pub(super) async fn aggregate(State(app): State<AppState>, req: Request) -> Response {
    let authenticated = req.extensions().get::<super::auth::Authenticated>().is_some();
    respond(&app, req.uri(), req.headers(), authenticated).map(Body::new)
}

/// `/healthz` or `/readyz` with its query, from the current snapshot. The caller
/// counts it (the probe path shares its clock reads with the connection deadline).
pub(super) fn respond(app: &AppState, uri: &Uri, headers: &HeaderMap, authenticated: bool) -> Answer {
    if let Some(resp) = query_too_long(uri) {
        return resp;
    }
    let snap = app.snapshot.load();
    let q = HealthQuery::parse(uri.query());
    let details = app.details.allows(headers, authenticated);
    let format = q.format(headers);
    if q.exclude.is_empty() {
        send_negotiated(snap.aggregate(format, details), headers)
    } else {
        send(&snap.render_excluding(&q.exclude, format, details))
    }
}

/// One check's answer; an unknown name is a 404 with a JSON error.
pub(super) async fn one(
    State(app): State<AppState>,
    Path(name): Path<String>,
    authenticated: Option<axum::Extension<super::auth::Authenticated>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(resp) = query_too_long(&uri) {
        return resp.map(Body::new);
    }
    let snap = app.snapshot.load();
    let q = HealthQuery::parse(uri.query());
    let resp = match snap.check(
        &name,
        q.format(&headers),
        app.details.allows(&headers, authenticated.is_some()),
    ) {
        Some(p) => send_negotiated(p, &headers),
        None => error_answer(StatusCode::NOT_FOUND, "no check with that name"),
    };
    resp.map(Body::new)
}

/// Queries longer than this are refused (414): nothing legitimate needs more.
const MAX_QUERY: usize = 2048;

fn query_too_long(uri: &Uri) -> Option<Answer> {
    (uri.query().map_or(0, str::len) > MAX_QUERY)
        .then(|| error_answer(StatusCode::URI_TOO_LONG, "query string too long (at most 2048 bytes)"))
}

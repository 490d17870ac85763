//! `/fleet` (the regional answer, from the fleet view) and `/fleet/self`
//! (this instance's compact answer for its peers, from the snapshot).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use bytes::Bytes;

use super::query::HealthQuery;
use super::{error_answer, send_negotiated, uncached, Answer, AppState, JSON};
use crate::snapshot::Format;

/// The regional answer (routed; the probe fast path calls [`respond`]).
pub(super) async fn region(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    respond(&app, &uri, &headers).map(Body::new)
}

/// `/fleet`: health+json, or `OK`/`FAIL` with `?format=text`, from the fleet view.
pub(super) fn respond(app: &AppState, uri: &Uri, headers: &HeaderMap) -> Answer {
    let Some(view) = &app.fleet.view else {
        return error_answer(
            StatusCode::NOT_FOUND,
            "no [fleet] section: this instance knows no peers (see the README, Fleets and regions)",
        );
    };
    let text = HealthQuery::parse(uri.query()).format(headers) == Format::Text;
    send_negotiated(view.load().answer(text), headers)
}

/// What this instance tells its peers: states only, whatever `show_details`
/// says (rendered per request: a few hundred bytes, from memory).
pub(super) async fn own(State(app): State<AppState>) -> Response {
    let snap = app.snapshot.load();
    let body = crate::fleet::wire::render(&app.fleet.me, &snap, std::time::SystemTime::now());
    uncached(StatusCode::OK, JSON, Bytes::from(body)).map(Body::new)
}

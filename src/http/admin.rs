//! `/admin/maintenance`: take the instance out of rotation for a while.
//!
//! Only mounted when an admin token is configured. Requests carry
//! `Authorization: Bearer <token>`, compared in constant time; rejections are
//! logged with the peer address, never with the token. Changes go to the
//! publisher as events; the state is read back from the snapshot.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{json_error, AppState};
use crate::publisher::Event;
use crate::snapshot::Maintenance;

/// The longest maintenance window accepted.
const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Rejects requests without the admin token.
pub(super) async fn require_token(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let Some(admin) = &app.admin else {
        return json_error(
            StatusCode::NOT_FOUND,
            "the admin API is off (no admin token configured)",
        );
    };
    let ok = super::bearer(req.headers()).is_some_and(|t| admin.token.matches(t));
    if !ok {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.to_string())
            .unwrap_or_else(|| "unknown".into());
        let given = if req.headers().contains_key(header::AUTHORIZATION) {
            "a wrong token"
        } else {
            "no token"
        };
        tracing::warn!(peer = %peer, path = %req.uri().path(), "admin request rejected: {given}");
        let mut resp = json_error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"healthgate\""),
        );
        return resp;
    }
    next.run(req).await
}

fn state_body(m: Option<&Maintenance>) -> serde_json::Value {
    match m {
        Some(m) => json!({
            "maintenance": true,
            "reason": m.reason,
            "until": humantime::format_rfc3339_seconds(m.until).to_string(),
        }),
        None => json!({ "maintenance": false }),
    }
}

/// `GET /admin/maintenance`.
pub(super) async fn get(State(app): State<AppState>) -> Response {
    Json(state_body(app.snapshot.load().maintenance())).into_response()
}

/// Body of `POST /admin/maintenance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MaintenanceRequest {
    reason: String,
    ttl: String,
}

/// The `reason` (control characters dropped, at most 200 characters, not
/// empty) and `ttl` (1 s to 7 days) of an admin request, or what is wrong
/// with them (a 400): maintenance and DR confirmations take the same two.
pub(super) fn reason_and_ttl(reason: &str, ttl: &str) -> Result<(String, Duration), String> {
    let ttl = match humantime::parse_duration(ttl) {
        Ok(d) if !d.is_zero() && d <= MAX_TTL => d,
        Ok(_) => return Err("ttl must be between 1s and 7 days".into()),
        Err(_) => return Err(format!("invalid ttl \"{ttl}\" (e.g. \"15m\")")),
    };
    let reason: String = reason.chars().filter(|c| !c.is_control()).take(200).collect();
    if reason.trim().is_empty() {
        return Err("reason must not be empty".into());
    }
    Ok((reason, ttl))
}

/// `POST /admin/maintenance` with `{"reason": "...", "ttl": "15m"}`.
pub(super) async fn set(State(app): State<AppState>, body: axum::body::Bytes) -> Response {
    let req: MaintenanceRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"reason\": \"...\", \"ttl\": \"15m\"}}: {e}"),
            )
        }
    };
    let (reason, ttl) = match reason_and_ttl(&req.reason, &req.ttl) {
        Ok(r) => r,
        Err(why) => return json_error(StatusCode::BAD_REQUEST, &why),
    };
    let m = Maintenance {
        reason,
        until: SystemTime::now() + ttl,
    };
    send(&app, Event::Maintenance(Some(m.clone()))).await;
    Json(state_body(Some(&m))).into_response()
}

/// `DELETE /admin/maintenance`.
pub(super) async fn clear(State(app): State<AppState>) -> Response {
    send(&app, Event::Maintenance(None)).await;
    Json(state_body(None)).into_response()
}

async fn send(app: &AppState, event: Event) {
    if let Some(admin) = &app.admin {
        let _ = admin.events.send(event).await;
    }
}

/// `POST /admin/reload`: re-read the configuration file (like SIGHUP); 200 with
/// the summary, or 400 with every problem (the running configuration stays).
pub(super) async fn reload(State(app): State<AppState>) -> Response {
    let Some(admin) = &app.admin else {
        return json_error(StatusCode::NOT_FOUND, "the admin API is off");
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    if admin.reload.send(tx).await.is_err() {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    let Ok(Ok(result)) = tokio::time::timeout(Duration::from_secs(30), rx).await else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the reload did not finish");
    };
    match result {
        Ok(done) => Json(json!({ "reloaded": true, "summary": done.to_string() })).into_response(),
        Err(problems) => json_error(StatusCode::BAD_REQUEST, &problems.to_string()),
    }
}

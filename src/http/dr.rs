//! `/admin/dr`: the failback gates' state, and an operator's confirmation
//! that opens a latched gate (`healthgate dr status|confirm`).
//!
//! Behind the admin token like the rest of `/admin`. A confirmation changes
//! the gate at once; `/healthz` shows it from the check's next round.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{json_error, AppState};
use crate::checks::elasticsearch::failback::gate::ConfirmError;

/// `GET /admin/dr`.
pub(super) async fn get(State(app): State<AppState>) -> Response {
    Json(json!({ "gates": app.gates.status() })).into_response()
}

/// Body of `POST /admin/dr/confirm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfirmRequest {
    #[serde(default)]
    check: Option<String>,
    reason: String,
    ttl: String,
}

/// `POST /admin/dr/confirm` with `{"reason": "...", "ttl": "1h", "check": "..."}`.
pub(super) async fn confirm(State(app): State<AppState>, body: axum::body::Bytes) -> Response {
    let req: ConfirmRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"reason\": \"...\", \"ttl\": \"1h\", \"check\": \"NAME\" (optional)}}: {e}"),
            )
        }
    };
    let (reason, ttl) = match super::admin::reason_and_ttl(&req.reason, &req.ttl) {
        Ok(r) => r,
        Err(why) => return json_error(StatusCode::BAD_REQUEST, &why),
    };
    match app.gates.confirm(req.check.as_deref(), &reason, ttl) {
        Ok(gate) => Json(json!({ "confirmed": true, "gate": gate })).into_response(),
        Err(e @ (ConfirmError::NoGate | ConfirmError::Unknown(_))) => json_error(StatusCode::NOT_FOUND, &e.to_string()),
        Err(e @ ConfirmError::Ambiguous(_)) => json_error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

//! The simulator's control listener, separate from the Elasticsearch port so it
//! keeps answering while that port refuses connections.
//!
//! `GET /stats` → `{"mode":"green","requests":12}`; `PUT /mode/<mode>`
//! (`red`, `hang`, `refused`, `fixture:<file>`, ...); `PUT /delay/<ms>`.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use tokio::net::TcpListener;

use super::{Mode, SimHandle};

/// Serves the control API until the task is dropped.
pub async fn serve_control(listener: TcpListener, sim: SimHandle) -> std::io::Result<()> {
    let app = Router::new()
        .route("/stats", get(stats))
        .route("/mode/{mode}", put(set_mode).post(set_mode))
        .route("/delay/{ms}", put(set_delay).post(set_delay))
        .with_state(sim);
    axum::serve(listener, app).await
}

async fn stats(State(sim): State<SimHandle>) -> impl IntoResponse {
    Json(serde_json::json!({ "mode": sim.mode().name(), "requests": sim.requests() }))
}

async fn set_mode(State(sim): State<SimHandle>, Path(mode): Path<String>) -> impl IntoResponse {
    let Some(m) = Mode::parse(&mode) else {
        let msg = format!(
            "unknown mode \"{mode}\"; expected one of {} or fixture:<file>\n",
            Mode::NAMES.join(", ")
        );
        return (StatusCode::BAD_REQUEST, msg);
    };
    match sim.set_mode(m).await {
        Ok(()) => (StatusCode::OK, format!("mode {mode}\n")),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot switch to {mode}: {e}\n"),
        ),
    }
}

async fn set_delay(State(sim): State<SimHandle>, Path(ms): Path<u64>) -> impl IntoResponse {
    sim.set_delay(Duration::from_millis(ms));
    format!("delay {ms}ms\n")
}

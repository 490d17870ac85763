//! The simulator's control listener, separate from the Elasticsearch port so it
//! keeps answering while that port refuses connections.
//!
//! `GET /stats` → `{"mode":"green","requests":12}`; `PUT /mode/<mode>`
//! (`red`, `hang`, `refused`, `fixture:<file>`, ...); `PUT /delay/<ms>`;
//! `PUT /ccr/<following|lagging|read_exceptions|fatal|paused>`; `PUT /version/<8.17.0|7.17.0|6.3.2>`;
//! `PUT /cluster/<name>/<uuid>`; and one index's CCR role, as a DR drill
//! changes it: `PUT /index/<index>/<pause|resume|promote|create|delete>` and
//! `PUT /index/<index>/follow?remote=<alias>&leader=<index>&behind=<ops>&rate=<ops/s>`,
//! `PUT /index/<index>/write?ops=<n>` (a leader's checkpoint moves on).

use std::time::Duration;

use axum::extract::{Path, Query, State};
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
        .route("/ccr/{state}", put(set_ccr).post(set_ccr))
        .route("/version/{version}", put(set_version).post(set_version))
        .route("/cluster/{name}/{uuid}", put(set_cluster).post(set_cluster))
        .route("/index/{index}/{action}", put(change_index).post(change_index))
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

async fn set_ccr(State(sim): State<SimHandle>, Path(state): Path<String>) -> impl IntoResponse {
    match super::CcrState::parse(&state) {
        Some(s) => {
            sim.set_ccr(s);
            (StatusCode::OK, format!("ccr {state}\n"))
        }
        None => (
            StatusCode::BAD_REQUEST,
            format!("unknown CCR state \"{state}\"; expected following, lagging, read_exceptions, fatal or paused\n"),
        ),
    }
}

async fn set_version(State(sim): State<SimHandle>, Path(version): Path<String>) -> impl IntoResponse {
    match sim.set_version(&version) {
        Ok(()) => (StatusCode::OK, format!("version {version}\n")),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")),
    }
}

async fn set_cluster(State(sim): State<SimHandle>, Path((name, uuid)): Path<(String, String)>) -> impl IntoResponse {
    sim.set_cluster(&name, &uuid);
    format!("cluster {name} {uuid}\n")
}

/// The query of `PUT /index/<index>/follow`.
#[derive(Debug, serde::Deserialize)]
struct FollowQuery {
    remote: Option<String>,
    leader: Option<String>,
    #[serde(default)]
    behind: u64,
    #[serde(default)]
    rate: u64,
    #[serde(default)]
    ops: u64,
}

async fn change_index(
    State(sim): State<SimHandle>,
    Path((index, action)): Path<(String, String)>,
    Query(q): Query<FollowQuery>,
) -> impl IntoResponse {
    use super::IndexChange as C;
    let change = match action.as_str() {
        "pause" => C::Pause,
        "resume" => C::Resume,
        "promote" | "unfollow" => C::Promote,
        "create" => C::Create,
        "write" => C::Write(q.ops),
        "delete" => C::Delete,
        "follow" => C::Follow {
            remote_cluster: q.remote.unwrap_or_else(|| "remote_cluster".into()),
            leader_index: q.leader.unwrap_or_else(|| index.clone()),
            behind: q.behind,
            rate: q.rate,
        },
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!(
                    "unknown action \"{other}\"; expected pause, resume, promote, follow, write, create or delete\n"
                ),
            )
        }
    };
    match sim.change_index(&index, change) {
        Ok(()) => (StatusCode::OK, format!("{index} {action}\n")),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")),
    }
}

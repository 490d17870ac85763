//! The HTTP API. Handlers read the current snapshot and send bytes rendered when
//! it was published; none of them calls or awaits a dependency.
//!
//! [`ENDPOINTS`] lists every route and what it answers (the manual page prints
//! it; a test requests each one through the router).
//!
//! Routed requests are counted by one layer ([`router`]), under their matched
//! route; the probe fast path (`probe`) answers before the router and counts
//! its own.

mod admin;
mod answer;
pub mod auth;
mod cache;
mod deadline;
mod dr;
mod fleet;
pub mod grpc;
mod health;
pub mod probe;
mod query;
pub mod server;
mod status;
pub mod thread;
pub mod tls;

pub use status::PageCache;

use answer::{error_answer, send, send_negotiated, uncached, JSON};

use std::sync::Arc;
use std::time::Instant;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http_body_util::Full;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::ShowDetails;
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::snapshot::SharedSnapshot;
use crate::snapshot::TEXT;

/// Who sees details.
#[derive(Clone, Debug)]
pub struct DetailsPolicy {
    /// The configured mode.
    pub mode: ShowDetails,
    /// The token for `authorized`.
    pub token: Option<Secret>,
}

impl DetailsPolicy {
    /// Whether this request may see reasons and observed values
    /// (`authenticated`: its credentials were accepted by `[server.auth]`).
    pub fn allows(&self, headers: &HeaderMap, authenticated: bool) -> bool {
        match self.mode {
            ShowDetails::Always => true,
            ShowDetails::Never => false,
            ShowDetails::Authorized => {
                authenticated
                    || self
                        .token
                        .as_ref()
                        .is_some_and(|token| bearer(headers).is_some_and(|candidate| token.matches(candidate)))
            }
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header: the one parser for
/// the admin API and the details token.
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    headers.get(header::AUTHORIZATION)?.as_bytes().strip_prefix(b"Bearer ")
}

/// What the admin API needs: its token and a way to tell the publisher.
#[derive(Clone)]
pub struct AdminState {
    /// The bearer token.
    pub token: Secret,
    /// Events to the publisher.
    pub events: tokio::sync::mpsc::Sender<crate::publisher::Event>,
    /// Reload requests to the supervisor.
    pub reload: tokio::sync::mpsc::Sender<crate::reload::ReloadRequest>,
}

/// A complete answer with its body in memory. The probe path hands it to hyper
/// as it is; the router boxes it like any other body.
pub type Answer = axum::http::Response<Full<Bytes>>;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The admin API, when a token is configured.
    pub admin: Option<AdminState>,
    /// The published snapshot.
    pub snapshot: SharedSnapshot,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Details policy.
    pub details: DetailsPolicy,
    /// The failback gates (`/admin/dr`).
    pub gates: crate::checks::elasticsearch::failback::gate::Gates,
    /// This instance's fleet identity and, with `[fleet]`, the fleet view.
    pub fleet: crate::fleet::FleetHandle,
    /// The kept renders of the status page and `/history`.
    pub pages: Arc<PageCache>,
    /// `[server.auth]`, when configured.
    pub auth: Option<Arc<auth::Auth>>,
}

/// Every route: (methods and paths, what it answers). The manual page's
/// ENDPOINTS section is this table; `tests/it/api.rs` checks that the router
/// serves each entry.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("GET/HEAD /livez", "200 whenever the process serves; never looks at checks."),
    (
        "GET/HEAD /healthz, /readyz",
        "The aggregate: 200 for pass and warn, 503 for fail, draining or maintenance (server.status_codes maps them); ?verbose, ?format=json|text, ?exclude=NAME.",
    ),
    ("GET/HEAD /healthz/{check}, /readyz/{check}", "One check alone, with the same codes and formats."),
    ("GET /metrics", "Prometheus text format."),
    (
        "GET /status",
        "The status page (HTML, self-contained, updates itself every 2 s): each check's state, reason (per server.show_details), since when, uptime over 1 h and 24 h, the last hour in one-minute slots and the round durations; the fleet with [fleet]. ?format=json is what its script fetches.",
    ),
    (
        "GET /history",
        "Each check's last 24 hours as JSON: one-minute slots for the last hour, ten-minute slots for the day (time and runs per state, round durations), the last 100 transitions; ?check=NAME for one.",
    ),
    (
        "GET /badge.svg, /badge/{check}.svg",
        "Shields-style badges: the overall or one check's state; ?uptime=1h|24h for an uptime badge; ?label= renames it (cacheable for 5 s).",
    ),
    (
        "GET/HEAD /fleet",
        "The regional answer ([fleet]): pass while at least fleet.min_healthy members serve by their own checks; members with state, age and address; ?format=text gives OK or FAIL (for Route 53).",
    ),
    (
        "GET /fleet/self",
        "What this instance tells its peers (format healthgate-fleet/1): its own verdict and each check's state, never a reason.",
    ),
    (
        "GET/POST/DELETE /admin/maintenance",
        "Show, enter or leave a maintenance window (the admin bearer token, server.admin_token_env; off without one; see healthgate maint).",
    ),
    ("POST /admin/reload", "Re-read the configuration file, like SIGHUP (the admin bearer token)."),
    ("GET /admin/dr", "The DR failback gates: latch, confirmation, clusters seen, caught-up rounds (the admin bearer token; see healthgate dr)."),
    (
        "POST /admin/dr/confirm",
        "Open a latched failback gate for a while: {\"reason\", \"ttl\", \"check\"} (the admin bearer token; logged with the reason).",
    ),
];

/// Builds the router.
pub fn router(state: AppState) -> Router {
    let admin = Router::new()
        .route(
            "/admin/maintenance",
            get(admin::get).post(admin::set).delete(admin::clear),
        )
        .route("/admin/reload", axum::routing::post(admin::reload))
        .route("/admin/dr", get(dr::get))
        .route("/admin/dr/confirm", axum::routing::post(dr::confirm))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::require_token,
        ));
    let health = Router::new()
        .route("/healthz", get(health::aggregate))
        .route("/readyz", get(health::aggregate))
        .route("/healthz/{check}", get(health::one))
        .route("/readyz/{check}", get(health::one))
        .route("/livez", get(livez));
    let protected = Router::new()
        .route("/metrics", get(metrics))
        .route("/status", get(status::status))
        .route("/history", get(status::history));
    let open = Router::new()
        .route("/fleet", get(fleet::region))
        .route("/fleet/self", get(fleet::own))
        .route("/badge.svg", get(status::overall))
        .route("/badge/{file}", get(status::one));
    let (admin, health, protected) = match &state.auth {
        Some(a) => {
            let require = axum::middleware::from_fn_with_state(a.clone(), auth::require);
            let mark = axum::middleware::from_fn_with_state(a.clone(), auth::mark);
            let health = if a.probes {
                health.route_layer(require.clone())
            } else {
                health.route_layer(mark)
            };
            (
                admin.route_layer(require.clone()),
                health,
                protected.route_layer(require),
            )
        }
        None => (admin, health, protected),
    };
    Router::new()
        .merge(admin)
        .merge(health)
        .merge(protected)
        .merge(open)
        .fallback(not_found)
        .layer(CatchPanicLayer::custom(PanicToError(state.metrics.clone())))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), record))
        .with_state(state)
}

/// The routes requests are counted under: the router's own patterns, so the
/// label is bounded whatever the client asks for; `other` for the fallback.
const ROUTES: &[&str] = &[
    "/healthz",
    "/readyz",
    "/healthz/{check}",
    "/readyz/{check}",
    "/livez",
    "/metrics",
    "/fleet",
    "/fleet/self",
    "/status",
    "/history",
    "/badge.svg",
    "/badge/{file}",
    "/admin/maintenance",
    "/admin/reload",
    "/admin/dr",
    "/admin/dr/confirm",
];

/// Counts every routed request once, under its matched route (the probe fast
/// path, which answers before the router, counts its own).
async fn record(
    axum::extract::State(metrics): axum::extract::State<Arc<Metrics>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .and_then(|p| ROUTES.iter().find(|r| **r == p.as_str()))
        .copied()
        .unwrap_or("other");
    let t = Instant::now();
    let resp = next.run(req).await;
    metrics.record_http(route, resp.status().as_u16(), t.elapsed().as_secs_f64());
    resp
}

/// The last line of defence: a handler panic becomes a 500 and is counted
/// (`healthgate_http_panics_total`), and the process keeps serving.
#[derive(Clone)]
struct PanicToError(Arc<Metrics>);

impl tower_http::catch_panic::ResponseForPanic for PanicToError {
    type ResponseBody = axum::body::Body;

    fn response_for_panic(
        &mut self,
        _err: Box<dyn std::any::Any + Send + 'static>,
    ) -> axum::http::Response<Self::ResponseBody> {
        panicked(&self.0).map(axum::body::Body::new)
    }
}

fn panicked(metrics: &Metrics) -> Answer {
    metrics.record_panic();
    tracing::error!("an HTTP handler panicked; answered 500");
    error_answer(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

fn json_error(status: StatusCode, message: &str) -> Response {
    error_answer(status, message).map(axum::body::Body::new)
}

async fn livez() -> Response {
    live().map(axum::body::Body::new)
}

/// Liveness is a constant: serving this answer is the proof of life.
fn live() -> Answer {
    uncached(StatusCode::OK, TEXT, Bytes::from_static(b"ok\n"))
}

async fn metrics(axum::extract::State(app): axum::extract::State<AppState>) -> Response {
    let snap = app.snapshot.load_full();
    // Encoding grows with the check count (milliseconds for a thousand checks):
    // off the probe thread, so probes never queue behind a scrape. One encode at
    // a time: a scrape storm queues instead of filling the blocking pool with
    // copies of a multi-megabyte body.
    let _one_at_a_time = app.metrics.scrape_turn().await;
    let registry = app.metrics.clone();
    let body = match tokio::task::spawn_blocking(move || registry.encode(&snap)).await {
        Ok(body) => body,
        Err(_) => return panicked(&app.metrics).map(axum::body::Body::new),
    };
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

async fn not_found() -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        "no such route; try /healthz, /readyz, /livez or /metrics",
    )
}

//! The probe fast path: `GET`/`HEAD` on `/healthz`, `/readyz` and `/livez`
//! answered straight from the snapshot, and `/fleet` (Route 53's probe of the
//! region) from the fleet view, before the router.
//!
//! Load balancers, kubelets and Route 53 send nearly every request this process
//! gets, so these three routes skip what the router costs per request (route
//! matching, extractor copies of the URI and headers, the peer-address extension).
//! The answers are the same bytes the routed handlers send: both call
//! `http::health::respond`. Everything else (per-check routes, `/metrics`,
//! `/admin`, unknown paths, other methods) goes through the router, and the
//! router keeps these routes too, so `router(state)` alone is the whole API.

use std::panic::{catch_unwind, AssertUnwindSafe};

use axum::http::{Method, Request};
use tokio::time::Instant;

use super::{Answer, AppState};

/// The answer to a probe (already counted in the metrics) and the time it was
/// ready, or `None` for anything the router should handle. The time is the clock
/// read that ends the duration measurement; the connection's deadline reuses it.
pub fn answer<B>(app: &AppState, req: &Request<B>) -> Option<(Answer, Instant)> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    // With [server.auth], the router decides whenever credentials matter: the
    // probe routes need them (`probes = true`), or a request bearing some may
    // see details. A load balancer's plain probe still takes this path.
    if let Some(auth) = &app.auth {
        let may_unlock = app.details.mode == crate::config::ShowDetails::Authorized
            && req.headers().contains_key(axum::http::header::AUTHORIZATION);
        if auth.probes || may_unlock {
            return None;
        }
    }
    // The path is the route's metrics label.
    let route = match req.uri().path() {
        "/livez" => "/livez",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/fleet" => "/fleet",
        _ => return None,
    };
    let started = Instant::now();
    // The router's catch-panic layer does not cover this path: the same last line
    // of defence, here (free unless something panics).
    let answered = catch_unwind(AssertUnwindSafe(|| {
        if route == "/livez" {
            super::live()
        } else if route == "/fleet" {
            super::fleet::respond(app, req.uri(), req.headers())
        } else {
            super::health::respond(app, req.uri(), req.headers(), false)
        }
    }));
    let resp = answered.unwrap_or_else(|_| super::panicked(&app.metrics));
    let ready = Instant::now();
    app.metrics
        .record_http(route, resp.status().as_u16(), (ready - started).as_secs_f64());
    Some((resp, ready))
}

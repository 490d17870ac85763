//! The sidecar's own HTTP series: requests by route template and status code,
//! answer latency, and handler panics caught.

use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec};

use super::{counter_vec, histogram_vec, Reg, HTTP_DURATION_BUCKETS};

/// Routes probed often enough that their counters are resolved once.
const HOT_ROUTES: [&str; 4] = ["/healthz", "/readyz", "/livez", "/metrics"];

/// One hot route's children: a label lookup hashes and takes a lock, which is
/// most of the cost of counting a probe.
struct HotRoute {
    route: &'static str,
    ok: IntCounter,
    unavailable: IntCounter,
    duration: Histogram,
}

/// The HTTP families.
pub(super) struct HttpSeries {
    requests: IntCounterVec,
    duration: HistogramVec,
    panics: IntCounter,
    hot: Vec<HotRoute>,
}

impl HttpSeries {
    /// Registers the families (in exposition order) and resolves the hot routes.
    pub(super) fn declare(r: &mut Reg) -> HttpSeries {
        let requests = counter_vec(
            r,
            "healthgate_http_requests_total",
            "HTTP requests served, by route template and status code.",
            &["route", "code"],
        );
        let duration = histogram_vec(
            r,
            "healthgate_http_request_duration_seconds",
            "Time to answer HTTP requests, in seconds.",
            &["route"],
            HTTP_DURATION_BUCKETS,
        );
        let panics = IntCounter::new(
            "healthgate_http_panics_total",
            "HTTP handler panics caught and answered 500 (should stay 0).",
        )
        .expect("valid metric definition");
        r.add(&panics);
        let hot = HOT_ROUTES
            .iter()
            .map(|&route| HotRoute {
                route,
                ok: requests.with_label_values(&[route, "200"]),
                unavailable: requests.with_label_values(&[route, "503"]),
                duration: duration.with_label_values(&[route]),
            })
            .collect();
        HttpSeries {
            requests,
            duration,
            panics,
            hot,
        }
    }

    /// Counts one answer.
    pub(super) fn record(&self, route: &'static str, code: u16, seconds: f64) {
        if let Some(hot) = self.hot.iter().find(|h| h.route == route) {
            match code {
                200 => hot.ok.inc(),
                503 => hot.unavailable.inc(),
                _ => self.requests.with_label_values(&[route, itoa_code(code)]).inc(),
            }
            hot.duration.observe(seconds);
            return;
        }
        self.requests.with_label_values(&[route, itoa_code(code)]).inc();
        self.duration.with_label_values(&[route]).observe(seconds);
    }

    /// Counts a caught handler panic.
    pub(super) fn panic(&self) {
        self.panics.inc();
    }
}

/// Status codes as static strings, so the label is bounded and allocation-free.
fn itoa_code(code: u16) -> &'static str {
    match code {
        200 => "200",
        204 => "204",
        400 => "400",
        401 => "401",
        404 => "404",
        405 => "405",
        413 => "413",
        414 => "414",
        429 => "429",
        500 => "500",
        503 => "503",
        c if c < 300 => "2xx",
        c if c < 400 => "3xx",
        c if c < 500 => "4xx",
        _ => "5xx",
    }
}

//! Answers as hyper sends them: the status, ready-made header maps (copied,
//! not built, per answer) and the body, compressed for clients that accept
//! gzip when the answer is worth it.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use bytes::Bytes;
use http_body_util::Full;

use super::Answer;
use crate::snapshot::{Prepared, HEALTH_JSON, TEXT};

/// Turns a prepared answer into a response (a reference-count bump, no copy).
pub(super) fn send(p: &Prepared) -> Answer {
    uncached(p.status, p.content_type, p.body.clone())
}

/// Like [`send`], compressed when the client accepts gzip and the body is
/// worth it (compressed once per prepared answer, never per request).
pub(super) fn send_negotiated(p: &Prepared, headers: &HeaderMap) -> Answer {
    match accepts_gzip(headers).then(|| p.gzipped()).flatten() {
        Some(gz) => {
            let mut resp = Answer::new(Full::new(gz.clone()));
            *resp.status_mut() = p.status;
            *resp.headers_mut() = ready_headers(p.content_type, true);
            resp
        }
        None => send(p),
    }
}

/// Whether `Accept-Encoding` takes gzip: `gzip` (or `x-gzip`, or `*` when
/// gzip is not named) with a q-value above 0.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut star = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                return q > 0.0;
            }
            if coding == "*" {
                star = q > 0.0;
            }
        }
    }
    star
}

pub(super) const JSON: &str = "application/json";

/// A response that caches must not keep: a health answer is only true now.
pub(super) fn uncached(status: StatusCode, content_type: &'static str, body: Bytes) -> Answer {
    let mut resp = Answer::new(Full::new(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = ready_headers(content_type, false);
    resp
}

/// `Content-Type` and `Cache-Control: no-store`, and with `gzip` also
/// `Content-Encoding: gzip` and `Vary`. Copying a ready header map costs
/// about half of building one (no hashing, one allocation fewer), and this
/// runs for every probe.
fn ready_headers(content_type: &'static str, gzip: bool) -> HeaderMap {
    type Ready = [(&'static str, bool, HeaderMap); 6];
    static READY: OnceLock<Ready> = OnceLock::new();
    let build = |ct: &'static str, gzip: bool| {
        let mut h = HeaderMap::with_capacity(4);
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if gzip {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        (ct, gzip, h)
    };
    let ready = READY.get_or_init(|| {
        [HEALTH_JSON, TEXT, JSON, HEALTH_JSON, TEXT, JSON]
            .into_iter()
            .enumerate()
            .map(|(i, ct)| build(ct, i >= 3))
            .collect::<Vec<_>>()
            .try_into()
            .expect("six entries")
    });
    match ready.iter().find(|(ct, gz, _)| *ct == content_type && *gz == gzip) {
        Some((_, _, h)) => h.clone(),
        None => build(content_type, gzip).2,
    }
}

/// A JSON error answer: `{"error": message}`.
pub(super) fn error_answer(status: StatusCode, message: &str) -> Answer {
    let body = serde_json::json!({ "error": message }).to_string();
    uncached(status, JSON, Bytes::from(body))
}

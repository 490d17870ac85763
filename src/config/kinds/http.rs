//! `kind = "http"`: the local application (or any HTTP endpoint) answers with
//! an expected status, and optionally an expected body.

use std::path::PathBuf;

use reqwest::Url;

use super::database::ca_file;
use super::request::{client_cert, headers, HeaderValueSource};
use super::{max_body, node_label, parse_url, KindConfig};
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "http"` method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET.
    Get,
    /// HEAD.
    Head,
}

/// An accepted status: an exact code or a class such as `2xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    /// One code.
    Code(u16),
    /// A class: the hundreds digit.
    Class(u16),
}

impl StatusPattern {
    /// Whether `code` is accepted.
    pub fn matches(self, code: u16) -> bool {
        match self {
            StatusPattern::Code(c) => c == code,
            StatusPattern::Class(h) => code / 100 == h,
        }
    }

    fn parse(text: &str) -> Option<StatusPattern> {
        let t = text.trim().to_ascii_lowercase();
        if let Some(d) = t.strip_suffix("xx") {
            let h: u16 = d.parse().ok()?;
            return (1..=5).contains(&h).then_some(StatusPattern::Class(h));
        }
        let c: u16 = t.parse().ok()?;
        (100..=599).contains(&c).then_some(StatusPattern::Code(c))
    }
}

/// `kind = "http"`: the local application or any HTTP endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// What to request.
    pub url: Url,
    /// GET or HEAD.
    pub method: HttpMethod,
    /// Accepted statuses (default `2xx`).
    pub expect_status: Vec<StatusPattern>,
    /// The body must contain this text.
    pub body_contains: Option<String>,
    /// Larger bodies fail without being read in full.
    pub max_body_bytes: usize,
    /// Request headers; values from `headers_env`/`headers_file` are secrets.
    pub headers: Vec<(String, HeaderValueSource)>,
    /// A JSON pointer (`/status`) into the body and the value expected there.
    pub body_json: Option<(String, serde_json::Value)>,
    /// Extra CA certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Follow up to this many redirects (default 0: a redirect is the answer).
    pub max_redirects: usize,
    /// Accept any certificate (warned about at start).
    pub tls_insecure_skip_verify: bool,
}

impl KindConfig for HttpConfig {
    const KEYS: &'static [&'static str] = &[
        "url",
        "method",
        "expect_status",
        "body_contains",
        "max_body_bytes",
        "headers",
        "headers_env",
        "headers_file",
        "body_json_pointer",
        "body_json_equals",
        "ca_file",
        "client_cert_file",
        "client_key_file",
        "max_redirects",
        "tls_insecure_skip_verify",
    ];

    fn parse(t: &Table, redactor: &mut Redactor) -> Option<Self> {
        let url = t.required_str("url").and_then(|u| parse_url(t, "url", &u));
        let method = match t.str("method").map(|m| m.to_ascii_uppercase()).as_deref() {
            None | Some("GET") => Some(HttpMethod::Get),
            Some("HEAD") => Some(HttpMethod::Head),
            Some(other) => {
                t.problem(
                    "method",
                    &format!("unsupported method \"{other}\" (expected GET or HEAD)"),
                );
                None
            }
        };
        let mut expect_status = Vec::new();
        let mut ok = true;
        let items: Vec<serde_json::Value> = match t.get("expect_status") {
            None => vec![serde_json::Value::from("2xx")],
            Some(serde_json::Value::Array(a)) => a.clone(),
            Some(v) => vec![v.clone()],
        };
        for item in &items {
            let text = match item {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match StatusPattern::parse(&text) {
                Some(p) => expect_status.push(p),
                None => {
                    t.problem(
                        "expect_status",
                        &format!("invalid status \"{text}\" (expected a code such as 204 or a class such as \"2xx\")"),
                    );
                    ok = false;
                }
            }
        }
        let body_contains = t.str("body_contains");
        let max_body_bytes = max_body(t);
        let headers = headers(t, "headers", redactor, |k| {
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_ok()
        });
        let body_json = match (t.str("body_json_pointer"), t.get("body_json_equals")) {
            (Some(p), Some(v)) if p.starts_with('/') || p.is_empty() => Some((p, v.clone())),
            (Some(p), Some(_)) => {
                t.problem(
                    "body_json_pointer",
                    &format!("invalid JSON pointer \"{p}\" (it starts with /, e.g. \"/status\")"),
                );
                None
            }
            (Some(_), None) => {
                t.problem(
                    "body_json_equals",
                    "body_json_pointer needs body_json_equals (the expected value)",
                );
                None
            }
            (None, Some(_)) => {
                t.problem("body_json_pointer", "body_json_equals needs body_json_pointer");
                None
            }
            (None, None) => None,
        };
        let ca_file = ca_file(t);
        let client_cert = client_cert(t);
        let max_redirects = t.u64("max_redirects").unwrap_or(0).min(20) as usize;
        let tls_insecure_skip_verify = t.bool("tls_insecure_skip_verify").unwrap_or(false);
        if ok && expect_status.is_empty() {
            t.problem("expect_status", "must list at least one status");
            ok = false;
        }
        Some(HttpConfig {
            url: url?,
            method: method?,
            expect_status,
            body_contains,
            max_body_bytes,
            headers: headers?,
            body_json,
            ca_file,
            client_cert,
            max_redirects,
            tls_insecure_skip_verify,
        })
        .filter(|_| ok)
    }

    fn summary(&self) -> String {
        format!("{:?} {}", self.method, node_label(&self.url))
    }

    fn targets(&self) -> Vec<String> {
        vec![super::host_port(&self.url)]
    }
}

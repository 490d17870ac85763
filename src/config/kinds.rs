//! Kind-specific keys of a `[[checks]]` entry.

use reqwest::Url;

use super::fields::Table;

const DEFAULT_MAX_BODY: usize = 1024 * 1024;

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
}

/// `kind = "tcp"`: a connection can be opened.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpConfig {
    /// `host:port`.
    pub address: String,
}

/// Parses an http(s) URL, refusing credentials in it (they would leak into reasons).
pub(super) fn parse_url(t: &Table, key: &str, text: &str) -> Option<Url> {
    let url = match Url::parse(text) {
        Ok(u) => u,
        Err(e) => {
            t.problem(key, &format!("invalid URL \"{text}\": {e}"));
            return None;
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        t.problem(
            key,
            &format!("unsupported scheme \"{}\" (expected http or https)", url.scheme()),
        );
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        t.problem(
            key,
            "credentials in the URL are not accepted; use username with password_env/password_file, or api_key_env",
        );
        return None;
    }
    Some(url)
}

pub(super) fn max_body(t: &Table) -> usize {
    match t.u64("max_body_bytes") {
        Some(0) => {
            t.problem("max_body_bytes", "must be greater than zero");
            DEFAULT_MAX_BODY
        }
        Some(n) => n as usize,
        None => DEFAULT_MAX_BODY,
    }
}

pub(super) fn http(t: &Table) -> Option<HttpConfig> {
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
    })
    .filter(|_| ok)
}

pub(super) fn tcp(t: &Table) -> Option<TcpConfig> {
    let address = t.required_str("address")?;
    let port_ok = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !port_ok {
        t.problem(
            "address",
            &format!("invalid address \"{address}\" (expected host:port, e.g. \"127.0.0.1:5432\" or \"[::1]:6379\")"),
        );
        return None;
    }
    Some(TcpConfig { address })
}

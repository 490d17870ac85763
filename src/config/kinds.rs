//! Kind-specific keys of a `[[checks]]` entry.

use std::path::PathBuf;

use reqwest::Url;

use super::fields::Table;
use super::parse_status_word;
use crate::checks::Status;
use crate::secret::{Redactor, Secret};

const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// What the Elasticsearch check asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EsMode {
    /// `GET /_cluster/health` (default).
    ClusterHealth,
    /// `HEAD /`: the node answers at all.
    Ping,
}

/// How the Elasticsearch check authenticates.
#[derive(Debug, Clone)]
pub enum EsAuth {
    /// No credentials.
    None,
    /// HTTP basic.
    Basic {
        /// User name (not secret).
        username: String,
        /// Password from env or file.
        password: Secret,
    },
    /// `Authorization: ApiKey <key>`.
    ApiKey(Secret),
}

impl PartialEq for EsAuth {
    // Compared by the values that reach the wire, so a reload can tell whether a
    // check changed.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EsAuth::None, EsAuth::None) => true,
            (
                EsAuth::Basic {
                    username: a,
                    password: p,
                },
                EsAuth::Basic {
                    username: b,
                    password: q,
                },
            ) => a == b && p.expose() == q.expose(),
            (EsAuth::ApiKey(a), EsAuth::ApiKey(b)) => a.expose() == b.expose(),
            _ => false,
        }
    }
}

/// `kind = "elasticsearch"`.
#[derive(Debug, Clone, PartialEq)]
pub struct EsConfig {
    /// Nodes, tried in order; the first that answers wins.
    pub urls: Vec<Url>,
    /// What to ask.
    pub mode: EsMode,
    /// `local=true` on cluster health (the node's own view, no master round trip).
    pub local: bool,
    /// How yellow counts.
    pub yellow: Status,
    /// Fail below this many nodes.
    pub min_nodes: Option<u64>,
    /// Fail below this many data nodes.
    pub min_data_nodes: Option<u64>,
    /// Fail above this many unassigned shards.
    pub max_unassigned_shards: Option<u64>,
    /// Fail above this many pending cluster tasks.
    pub max_pending_tasks: Option<u64>,
    /// Credentials.
    pub auth: EsAuth,
    /// Extra CA certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate (warned about at start).
    pub tls_insecure_skip_verify: bool,
    /// Larger bodies fail without being read in full.
    pub max_body_bytes: usize,
}

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
fn parse_url(t: &Table, key: &str, text: &str) -> Option<Url> {
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

fn max_body(t: &Table) -> usize {
    match t.u64("max_body_bytes") {
        Some(0) => {
            t.problem("max_body_bytes", "must be greater than zero");
            DEFAULT_MAX_BODY
        }
        Some(n) => n as usize,
        None => DEFAULT_MAX_BODY,
    }
}

pub(super) fn elasticsearch(t: &Table, redactor: &mut Redactor) -> Option<EsConfig> {
    let mut urls = Vec::new();
    let mut ok = true;
    match t.get("urls") {
        Some(serde_json::Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let key = format!("urls[{i}]");
                match item.as_str() {
                    Some(s) => match parse_url(t, &key, s) {
                        Some(u) => urls.push(u),
                        None => ok = false,
                    },
                    None => {
                        t.problem(&key, "expected a URL string");
                        ok = false;
                    }
                }
            }
        }
        Some(serde_json::Value::String(s)) => match parse_url(t, "urls", s) {
            Some(u) => urls.push(u),
            None => ok = false,
        },
        Some(_) => {
            t.problem("urls", "expected a non-empty list of node URLs");
            ok = false;
        }
        None => {
            t.problem(
                "urls",
                "missing required key (a list of node URLs, e.g. [\"http://127.0.0.1:9200\"])",
            );
            ok = false;
        }
    }
    let mode = match t.str("mode").as_deref() {
        None | Some("cluster_health") => EsMode::ClusterHealth,
        Some("ping") => EsMode::Ping,
        Some(other) => {
            t.problem(
                "mode",
                &format!("invalid mode \"{other}\" (expected cluster_health or ping)"),
            );
            ok = false;
            EsMode::ClusterHealth
        }
    };
    let yellow = match t.str("yellow") {
        None => Status::Warn,
        Some(w) => parse_status_word(&w).unwrap_or_else(|e| {
            t.problem("yellow", &e);
            ok = false;
            Status::Warn
        }),
    };
    let username = t.str("username");
    let password = t.secret("password");
    let api_key = t.secret("api_key");
    let auth = match (username, password, api_key) {
        (Some(_), _, Some(_)) => {
            t.problem("api_key_env", "give either username/password or an API key, not both");
            ok = false;
            EsAuth::None
        }
        (Some(username), Some(password), None) => {
            redactor.add(&password);
            EsAuth::Basic { username, password }
        }
        (Some(_), None, None) => {
            if !t.has("password_env") && !t.has("password_file") {
                t.problem("username", "needs password_env or password_file");
            }
            ok = false;
            EsAuth::None
        }
        (None, Some(_), _) => {
            t.problem("password_env", "a password needs a username");
            ok = false;
            EsAuth::None
        }
        (None, None, Some(key)) => {
            redactor.add(&key);
            EsAuth::ApiKey(key)
        }
        (None, None, None) => EsAuth::None,
    };
    let ca_file = t.str("ca_file").map(PathBuf::from);
    if let Some(p) = &ca_file {
        if let Err(e) = std::fs::metadata(p) {
            t.problem("ca_file", &format!("cannot read \"{}\": {e}", p.display()));
            ok = false;
        }
    }
    let cfg = EsConfig {
        urls,
        mode,
        local: t.bool("local").unwrap_or(false),
        yellow,
        min_nodes: t.u64("min_nodes"),
        min_data_nodes: t.u64("min_data_nodes"),
        max_unassigned_shards: t.u64("max_unassigned_shards"),
        max_pending_tasks: t.u64("max_pending_tasks"),
        auth,
        ca_file,
        tls_insecure_skip_verify: t.bool("tls_insecure_skip_verify").unwrap_or(false),
        max_body_bytes: max_body(t),
    };
    ok.then_some(cfg)
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

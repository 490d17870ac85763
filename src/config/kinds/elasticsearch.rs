//! `kind = "elasticsearch"` keys: nodes, mode, credentials, TLS, thresholds.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use super::{max_body, node_label, parse_url, KindConfig};
use crate::config::fields::Table;
use crate::config::parse_status_word;
use crate::secret::{Redactor, Secret};
use crate::status::Status;

/// What the Elasticsearch check asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EsMode {
    /// `GET /_cluster/health` (default).
    ClusterHealth,
    /// `HEAD /`: the node answers at all.
    Ping,
    /// `GET /<follower>/_ccr/stats` (or `/_ccr/stats`): cross-cluster replication.
    Ccr,
    /// `GET /_health_report?verbose=false` (Elasticsearch ≥ 8.7).
    HealthReport,
    /// `GET /_cluster/health/<indices>?level=indices`: named critical indices.
    IndexHealth,
    /// `GET /_cat/master?format=json`: an elected master exists.
    Master,
}

impl EsMode {
    /// The `mode` word.
    pub fn name(self) -> &'static str {
        match self {
            EsMode::ClusterHealth => "cluster_health",
            EsMode::Ping => "ping",
            EsMode::Ccr => "ccr",
            EsMode::HealthReport => "health_report",
            EsMode::IndexHealth => "index_health",
            EsMode::Master => "master",
        }
    }

    const ALL: [EsMode; 6] = [
        EsMode::ClusterHealth,
        EsMode::Ping,
        EsMode::Ccr,
        EsMode::HealthReport,
        EsMode::IndexHealth,
        EsMode::Master,
    ];
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
    /// `ccr`: follower indices to watch (empty: every follower, aggregated).
    pub followers: Vec<String>,
    /// `ccr`: fail above this many operations of lag on any shard.
    pub max_lag_operations: Option<u64>,
    /// `ccr`: fail when a follower has not read from its leader for this long.
    pub max_time_since_last_read: Option<Duration>,
    /// `index_health`: the indices whose health decides.
    pub indices: Vec<String>,
}

/// A list of index names: non-empty strings without `,` `*` `/` or spaces (they
/// go into a URL path and into metric labels).
fn names(t: &Table, key: &str, ok: &mut bool) -> Vec<String> {
    let Some(items) = t.array(key) else { return Vec::new() };
    let mut out = Vec::new();
    for (i, v) in items.iter().enumerate() {
        match v.as_str() {
            Some(s) if !s.is_empty() && !s.contains([',', '*', '/', ' ', '?', '#']) => out.push(s.to_string()),
            _ => {
                t.problem(
                    &format!("{key}[{i}]"),
                    "expected an index name (no commas, wildcards, slashes or spaces)",
                );
                *ok = false;
            }
        }
    }
    if items.is_empty() {
        t.problem(key, "must list at least one index");
        *ok = false;
    }
    out
}

impl KindConfig for EsConfig {
    const KEYS: &'static [&'static str] = &[
        "urls",
        "mode",
        "local",
        "yellow",
        "min_nodes",
        "min_data_nodes",
        "max_unassigned_shards",
        "max_pending_tasks",
        "username",
        "password",
        "password_env",
        "password_file",
        "api_key",
        "api_key_env",
        "api_key_file",
        "ca_file",
        "tls_insecure_skip_verify",
        "max_body_bytes",
        "followers",
        "indices",
        "max_lag_operations",
        "max_time_since_last_read",
    ];

    fn parse(t: &Table, redactor: &mut Redactor) -> Option<Self> {
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
        let mode = match t.str("mode") {
            None => EsMode::ClusterHealth,
            Some(word) => match EsMode::ALL.into_iter().find(|m| m.name() == word) {
                Some(m) => m,
                None => {
                    let names: Vec<&str> = EsMode::ALL.iter().map(|m| m.name()).collect();
                    t.problem(
                        "mode",
                        &format!("invalid mode \"{word}\" (expected one of: {})", names.join(", ")),
                    );
                    ok = false;
                    EsMode::ClusterHealth
                }
            },
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
        let followers = names(t, "followers", &mut ok);
        let indices = names(t, "indices", &mut ok);
        let max_lag_operations = t.u64("max_lag_operations");
        let max_time_since_last_read = t.duration("max_time_since_last_read");
        // Keys that only mean something in one mode are refused elsewhere, so a wrong
        // mode cannot silently ignore a threshold.
        let only_in = [
            ("followers", EsMode::Ccr),
            ("max_lag_operations", EsMode::Ccr),
            ("max_time_since_last_read", EsMode::Ccr),
            ("indices", EsMode::IndexHealth),
        ];
        for (key, wanted) in only_in {
            if t.has(key) && mode != wanted {
                t.problem(key, &format!("only used with mode = \"{}\"", wanted.name()));
                ok = false;
            }
        }
        for key in [
            "min_nodes",
            "min_data_nodes",
            "max_unassigned_shards",
            "max_pending_tasks",
            "local",
        ] {
            if t.has(key) && mode != EsMode::ClusterHealth {
                t.problem(key, "only used with mode = \"cluster_health\"");
                ok = false;
            }
        }
        if mode == EsMode::IndexHealth && !t.has("indices") {
            t.problem("indices", "mode = \"index_health\" needs a list of index names");
            ok = false;
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
            followers,
            max_lag_operations,
            max_time_since_last_read,
            indices,
        };
        ok.then_some(cfg)
    }

    fn summary(&self) -> String {
        let nodes: Vec<String> = self.urls.iter().map(node_label).collect();
        let auth = match &self.auth {
            EsAuth::None => "no auth".to_string(),
            EsAuth::Basic { username, .. } => format!("basic auth as {username}"),
            EsAuth::ApiKey(_) => "API key".to_string(),
        };
        format!(
            "{:?} on {} ({auth}, yellow={})",
            self.mode,
            nodes.join(", "),
            self.yellow
        )
    }

    fn targets(&self) -> Vec<String> {
        self.urls.iter().map(super::host_port).collect()
    }
}

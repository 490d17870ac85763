//! `kind = "elasticsearch"` keys: nodes, mode, credentials, TLS, thresholds.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use super::es_access::{auth, ca_file, url_list, EsAuth};
use super::{max_body, node_label, KindConfig};
use crate::config::fields::Table;
use crate::config::parse_status_word;
use crate::secret::Redactor;
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
    /// The DR failback gate: CCR roles of `indices` on this cluster and the
    /// secondary (`peer_urls`), latched when both are leaders.
    Failback,
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
            EsMode::Failback => "failback",
        }
    }

    const ALL: [EsMode; 7] = [
        EsMode::ClusterHealth,
        EsMode::Ping,
        EsMode::Ccr,
        EsMode::HealthReport,
        EsMode::IndexHealth,
        EsMode::Master,
        EsMode::Failback,
    ];
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
    /// `index_health`: the indices whose health decides; `failback`: the write indices.
    pub indices: Vec<String>,
    /// `failback`: the secondary cluster and the gate's settings.
    pub failback: Option<super::FailbackConfig>,
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
        "role",
        "peer_urls",
        "peer_username",
        "peer_password",
        "peer_password_env",
        "peer_password_file",
        "peer_api_key",
        "peer_api_key_env",
        "peer_api_key_file",
        "peer_ca_file",
        "peer_alias",
        "alias_on_peer",
        "peer_unreachable",
        "caught_up_rounds",
        "state_file",
    ];

    fn parse(t: &Table, redactor: &mut Redactor) -> Option<Self> {
        let mut ok = true;
        let urls = url_list(t, "urls", &mut ok);
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
        let auth = auth(t, "", redactor, &mut ok);
        let ca_file = ca_file(t, "ca_file", &mut ok);
        let failback = (mode == EsMode::Failback)
            .then(|| super::FailbackConfig::parse(t, redactor, &urls, &mut ok))
            .flatten();
        if mode != EsMode::Failback {
            super::failback::refuse_keys(t, Self::KEYS, &mut ok);
        }
        let followers = names(t, "followers", &mut ok);
        let indices = names(t, "indices", &mut ok);
        let max_lag_operations = t.u64("max_lag_operations");
        let max_time_since_last_read = t.duration("max_time_since_last_read");
        // Keys that only mean something in one mode are refused elsewhere, so a wrong
        // mode cannot silently ignore a threshold.
        let only_in = [("followers", EsMode::Ccr), ("max_time_since_last_read", EsMode::Ccr)];
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
        for (key, modes) in [
            ("indices", [EsMode::IndexHealth, EsMode::Failback]),
            ("max_lag_operations", [EsMode::Ccr, EsMode::Failback]),
        ] {
            if t.has(key) && !modes.contains(&mode) {
                t.problem(
                    key,
                    &format!(
                        "only used with mode = \"{}\" or \"{}\"",
                        modes[0].name(),
                        modes[1].name()
                    ),
                );
                ok = false;
            }
        }
        if matches!(mode, EsMode::IndexHealth | EsMode::Failback) && !t.has("indices") {
            let what = if mode == EsMode::Failback {
                "the write indices"
            } else {
                "index names"
            };
            t.problem("indices", &format!("mode = \"{}\" needs a list of {what}", mode.name()));
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
            failback,
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
        if let Some(f) = &self.failback {
            return format!(
                "Failback on {} ({auth}) against the secondary {}",
                nodes.join(", "),
                f.summary()
            );
        }
        format!(
            "{:?} on {} ({auth}, yellow={})",
            self.mode,
            nodes.join(", "),
            self.yellow
        )
    }

    fn targets(&self) -> Vec<String> {
        let peers = self.failback.iter().flat_map(|f| f.peer_urls.iter());
        self.urls.iter().chain(peers).map(super::host_port).collect()
    }
}

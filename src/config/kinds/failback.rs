//! `mode = "failback"` keys of `kind = "elasticsearch"`: the secondary cluster
//! (`peer_*`), how a caught-up secondary is recognised, and where the latch is kept.

use std::path::PathBuf;

use reqwest::Url;

use super::es_access::{auth, ca_file, url_list, EsAuth};
use super::host_port;
use crate::config::fields::Table;
use crate::secret::Redactor;
use crate::status::Status;

/// Whether `key` (one of `kind = "elasticsearch"`'s keys) is one only
/// `mode = "failback"` reads: the secondary's (`peer_*`) and the gate's.
fn failback_only(key: &str) -> bool {
    key.starts_with("peer_") || matches!(key, "role" | "alias_on_peer" | "caught_up_rounds" | "state_file")
}

/// The gate beside the primary cluster: what it compares this cluster with.
#[derive(Debug, Clone, PartialEq)]
pub struct FailbackConfig {
    /// The secondary cluster's nodes.
    pub peer_urls: Vec<Url>,
    /// Credentials for the secondary.
    pub peer_auth: EsAuth,
    /// Extra CA certificate for the secondary (PEM).
    pub peer_ca_file: Option<PathBuf>,
    /// The secondary's remote-cluster alias on this cluster: a follower here
    /// must read from it (unset: any remote is taken as the secondary).
    pub peer_alias: Option<String>,
    /// This cluster's alias on the secondary: the secondary's followers must
    /// read from it (unset: any remote is taken as this cluster).
    pub alias_on_peer: Option<String>,
    /// What an unreachable or unreadable secondary counts as (default warn).
    pub peer_unreachable: Status,
    /// Rounds a secondary must be seen caught up before the gate passes or unlatches.
    pub caught_up_rounds: u32,
    /// Operations of lag a caught-up secondary may have (`max_lag_operations`, default 0).
    pub max_lag_operations: u64,
    /// Where the latch survives a restart.
    pub state_file: Option<PathBuf>,
}

/// Refuses the failback keys among `keys` (the kind's) in other modes.
pub(super) fn refuse_keys(t: &Table, keys: &[&str], ok: &mut bool) {
    for key in keys.iter().filter(|k| failback_only(k)) {
        if t.has(key) {
            t.problem(key, "only used with mode = \"failback\"");
            *ok = false;
        }
    }
}

fn alias(t: &Table, key: &str, ok: &mut bool) -> Option<String> {
    let a = t.str(key)?;
    if a.is_empty() || a.contains([':', ',', '*', ' ', '/']) {
        t.problem(
            key,
            "expected a remote cluster alias (as in cluster.remote.<alias>.seeds)",
        );
        *ok = false;
    }
    Some(a)
}

impl FailbackConfig {
    /// Reads the failback keys; `urls` are this cluster's nodes.
    pub(super) fn parse(t: &Table, redactor: &mut Redactor, urls: &[Url], ok: &mut bool) -> Option<Self> {
        match t.str("role").as_deref() {
            None | Some("primary") => {}
            Some(other) => {
                t.problem(
                    "role",
                    &format!("invalid role \"{other}\" (expected \"primary\": the gate runs beside the primary cluster's nodes and guards traffic returning to it)"),
                );
                *ok = false;
            }
        }
        let peer_urls = url_list(t, "peer_urls", ok);
        let ours: Vec<String> = urls.iter().map(host_port).collect();
        for (i, u) in peer_urls.iter().enumerate() {
            if ours.contains(&host_port(u)) {
                t.problem(
                    &format!("peer_urls[{i}]"),
                    &format!(
                        "{} is also in urls: peer_urls must name the secondary cluster, urls this one",
                        host_port(u)
                    ),
                );
                *ok = false;
            }
        }
        let peer_auth = auth(t, "peer_", redactor, ok);
        let peer_ca_file = ca_file(t, "peer_ca_file", ok);
        let peer_unreachable = match t.str("peer_unreachable").as_deref() {
            None | Some("warn") => Status::Warn,
            Some("fail") => Status::Fail,
            Some(other) => {
                t.problem(
                    "peer_unreachable",
                    &format!("invalid value \"{other}\" (expected \"warn\" or \"fail\")"),
                );
                *ok = false;
                Status::Warn
            }
        };
        let caught_up_rounds = match t.count("caught_up_rounds") {
            Some(0) => {
                t.problem("caught_up_rounds", "must be at least 1");
                *ok = false;
                1
            }
            Some(n) => n,
            None => 5,
        };
        let state_file = t.str("state_file").map(PathBuf::from);
        if let Some(p) = &state_file {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            if !dir.is_dir() {
                t.problem(
                    "state_file",
                    &format!(
                        "the directory of \"{}\" does not exist (the latch is written there)",
                        p.display()
                    ),
                );
                *ok = false;
            }
        }
        Some(FailbackConfig {
            peer_urls,
            peer_auth,
            peer_ca_file,
            peer_alias: alias(t, "peer_alias", ok),
            alias_on_peer: alias(t, "alias_on_peer", ok),
            peer_unreachable,
            caught_up_rounds,
            max_lag_operations: t.u64("max_lag_operations").unwrap_or(0),
            state_file,
        })
    }

    /// The secondary's nodes and the gate's settings, for `check-config`.
    pub fn summary(&self) -> String {
        let nodes: Vec<String> = self.peer_urls.iter().map(super::node_label).collect();
        let state = match &self.state_file {
            Some(p) => format!("latch kept in {}", p.display()),
            None => "latch in memory only".into(),
        };
        format!(
            "{} (caught up: {} rounds at lag <= {}; unreachable counts as {}; {state})",
            nodes.join(", "),
            self.caught_up_rounds,
            self.max_lag_operations,
            self.peer_unreachable
        )
    }
}

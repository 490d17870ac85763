//! `GET /_cluster/health`: parsing every shape from ES 0.90 to 8.x and OpenSearch
//! 1-3, and turning it into a verdict.
//!
//! Every field but `status` is optional because old versions lack many of them.
//! `active_shards_percent_as_number` can arrive as the string `"NaN"` (a red cluster
//! with zero shards on 2.x), so it is read as "number or string".

use serde::{Deserialize, Deserializer};

use crate::checks::{Fact, Observed, Outcome};
use crate::config::EsConfig;
use crate::status::Status;

/// The cluster health body. Unknown fields are ignored (ES adds them over time).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ClusterHealth {
    /// `cluster_name`.
    pub cluster_name: Option<String>,
    /// `green`, `yellow` or `red`.
    pub status: String,
    /// A `wait_for_*` condition was not met in time (0.90-1.x: with HTTP 200).
    #[serde(default)]
    pub timed_out: bool,
    /// Nodes in the cluster.
    pub number_of_nodes: Option<u64>,
    /// Data nodes.
    pub number_of_data_nodes: Option<u64>,
    /// Active primary shards.
    pub active_primary_shards: Option<u64>,
    /// Active shards, replicas included.
    pub active_shards: Option<u64>,
    /// Shards moving between nodes.
    pub relocating_shards: Option<u64>,
    /// Shards being initialised.
    pub initializing_shards: Option<u64>,
    /// Shards not allocated to any node.
    pub unassigned_shards: Option<u64>,
    /// Unassigned primaries (ES 8.16+).
    pub unassigned_primary_shards: Option<u64>,
    /// Unassigned shards whose allocation is delayed (1.7+).
    pub delayed_unassigned_shards: Option<u64>,
    /// Cluster-level tasks waiting to run.
    pub number_of_pending_tasks: Option<u64>,
    /// Unfinished shard fetches.
    pub number_of_in_flight_fetch: Option<u64>,
    /// How long the oldest pending task has waited (2.x+).
    pub task_max_waiting_in_queue_millis: Option<u64>,
    /// Active shards as a percentage (2.x+; may be the string "NaN").
    #[serde(default, deserialize_with = "number_or_nan")]
    pub active_shards_percent_as_number: Option<f64>,
    /// OpenSearch 1.x+.
    pub discovered_master: Option<bool>,
    /// OpenSearch 2.x+.
    pub discovered_cluster_manager: Option<bool>,
}

/// Cluster colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// Every shard allocated.
    Green,
    /// Every primary allocated, some replicas not.
    Yellow,
    /// Some primary not allocated.
    Red,
}

impl Colour {
    /// Parses a colour in either case (`_health_report` in 8.2 used uppercase).
    pub fn parse(s: &str) -> Option<Colour> {
        match s.to_ascii_lowercase().as_str() {
            "green" => Some(Colour::Green),
            "yellow" => Some(Colour::Yellow),
            "red" => Some(Colour::Red),
            _ => None,
        }
    }

    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Red => "red",
        }
    }

    /// The metric code: 0 green, 1 yellow, 2 red.
    pub fn code(self) -> f64 {
        match self {
            Colour::Green => 0.0,
            Colour::Yellow => 1.0,
            Colour::Red => 2.0,
        }
    }
}

fn number_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrText {
        Num(f64),
        Text(String),
    }
    Ok(match Option::<NumOrText>::deserialize(d)? {
        Some(NumOrText::Num(n)) => Some(n),
        Some(NumOrText::Text(t)) => t.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        None => None,
    })
}

/// Parses a body, describing what is wrong with it when it is not a health body.
pub fn parse(body: &[u8]) -> Result<ClusterHealth, String> {
    serde_json::from_slice::<ClusterHealth>(body).map_err(|e| {
        if serde_json::from_slice::<serde_json::Value>(body).is_ok() {
            format!("unexpected cluster health shape: {e}")
        } else {
            format!("invalid JSON in cluster health answer: {e}")
        }
    })
}

/// Turns a parsed body into a verdict with facts for metrics.
pub fn evaluate(cfg: &EsConfig, h: &ClusterHealth, node: &str) -> Outcome {
    let Some(colour) = Colour::parse(&h.status) else {
        let mut o = Outcome::fail(format!(
            "unknown cluster status \"{}\" from {node}",
            h.status.escape_default()
        ));
        o.observed = Some(Observed::Text("unknown".into()));
        return o;
    };
    let mut status = match colour {
        Colour::Green => Status::Pass,
        Colour::Yellow => cfg.yellow,
        Colour::Red => Status::Fail,
    };
    let mut problems: Vec<String> = Vec::new();
    if h.timed_out {
        status = Status::Fail;
        problems.push("the cluster health request timed out (timed_out=true)".into());
    }
    if h.discovered_master == Some(false) || h.discovered_cluster_manager == Some(false) {
        status = Status::Fail;
        problems.push("no elected master (discovered_master=false)".into());
    }
    let mut breach = |observed: Option<u64>, limit: Option<u64>, field: &str, key: &str, below: bool| {
        if let (Some(v), Some(l)) = (observed, limit) {
            let bad = if below { v < l } else { v > l };
            if bad {
                status = Status::Fail;
                let op = if below { "<" } else { ">" };
                problems.push(format!("{field} {v} {op} {key} {l}"));
            }
        }
    };
    breach(h.number_of_nodes, cfg.min_nodes, "number_of_nodes", "min_nodes", true);
    breach(
        h.number_of_data_nodes,
        cfg.min_data_nodes,
        "number_of_data_nodes",
        "min_data_nodes",
        true,
    );
    breach(
        h.unassigned_shards,
        cfg.max_unassigned_shards,
        "unassigned_shards",
        "max_unassigned_shards",
        false,
    );
    breach(
        h.number_of_pending_tasks,
        cfg.max_pending_tasks,
        "number_of_pending_tasks",
        "max_pending_tasks",
        false,
    );
    for (limit, field, key) in [
        (cfg.min_nodes, h.number_of_nodes, "min_nodes"),
        (cfg.min_data_nodes, h.number_of_data_nodes, "min_data_nodes"),
        (cfg.max_unassigned_shards, h.unassigned_shards, "max_unassigned_shards"),
        (cfg.max_pending_tasks, h.number_of_pending_tasks, "max_pending_tasks"),
    ] {
        if limit.is_some() && field.is_none() {
            problems.push(format!("{key} not evaluated: this version does not report the field"));
        }
    }

    let name = h.cluster_name.as_deref().unwrap_or("?");
    let mut summary = format!("cluster \"{}\" is {}", name.escape_default(), colour.as_str());
    if let Some(n) = h.number_of_nodes {
        summary.push_str(&format!(", {n} nodes"));
        if let Some(d) = h.number_of_data_nodes {
            summary.push_str(&format!(" ({d} data)"));
        }
    }
    if let Some(u) = h.unassigned_shards {
        summary.push_str(&format!(", {u} unassigned shards"));
    }
    if let Some(i) = h.initializing_shards.filter(|i| *i > 0) {
        summary.push_str(&format!(", {i} initializing"));
    }
    summary.push_str(&format!(", via {node}"));
    let reason = if problems.is_empty() {
        summary
    } else {
        format!("{}; {summary}", problems.join("; "))
    };
    let mut o = Outcome::new(status, reason).with_observed(Observed::Text(colour.as_str().into()));
    record_facts(&mut o, h, colour);
    o
}

fn record_facts(o: &mut Outcome, h: &ClusterHealth, colour: Colour) {
    o.measure(Fact::EsClusterStatus, colour.code());
    let pairs = [
        (Fact::EsNodes, h.number_of_nodes),
        (Fact::EsDataNodes, h.number_of_data_nodes),
        (Fact::EsActiveShards, h.active_shards),
        (Fact::EsActivePrimaryShards, h.active_primary_shards),
        (Fact::EsRelocatingShards, h.relocating_shards),
        (Fact::EsInitializingShards, h.initializing_shards),
        (Fact::EsUnassignedShards, h.unassigned_shards),
        (Fact::EsDelayedUnassignedShards, h.delayed_unassigned_shards),
        (Fact::EsPendingTasks, h.number_of_pending_tasks),
    ];
    for (fact, v) in pairs {
        if let Some(v) = v {
            o.measure(fact, v as f64);
        }
    }
    if let Some(ms) = h.task_max_waiting_in_queue_millis {
        o.measure(Fact::EsMaxTaskWaitSeconds, ms as f64 / 1000.0);
    }
    if let Some(p) = h.active_shards_percent_as_number {
        o.measure(Fact::EsActiveShardsPercent, p);
    }
}

/// Evaluates a whole `_cluster/health` answer: 200 and 408 carry a health body
/// (408: a wait timed out, which fails); anything else is an error answer.
pub fn evaluate_answer(cfg: &EsConfig, a: &super::client::Answer) -> Outcome {
    let code = a.status.as_u16();
    if code != 200 && code != 408 {
        let mut o = Outcome::fail(super::errors::describe(code, &a.body, &a.node));
        if code == 503 {
            o.observed = Some(Observed::Text("unavailable".into()));
        }
        return o;
    }
    match parse(&a.body) {
        Ok(h) => {
            let mut o = evaluate(cfg, &h, &a.node);
            if code == 408 {
                o.status = Status::Fail;
                if !h.timed_out {
                    o.reason = format!("HTTP 408 request timeout; {}", o.reason);
                }
            }
            o
        }
        Err(why) => Outcome::fail(format!("{why} (HTTP {code} from {})", a.node)),
    }
}

//! The CCR answers of the simulated cluster: `_ccr/info`, `_ccr/stats` and the
//! per-shard `_stats`, from the model in [`super`] and the fixtures.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{Ccr, CcrState, Follower, Role, LEADER_CHECKPOINT};
use crate::simulator::fixtures::{fixture_value, json, Resp};

impl Ccr {
    /// `GET /<indices>/_ccr/info`.
    pub(in crate::simulator) fn info(&self, list: &str) -> Resp {
        let names = match self.resolve(list) {
            Ok(n) => n,
            Err(missing) => return index_not_found(missing),
        };
        let followers: Vec<Value> = names
            .into_iter()
            .filter_map(|name| match &self.indices[name] {
                Role::Leader(_) => None,
                Role::Follower(f) if f.paused => Some(json!({"follower_index": name,
                    "remote_cluster": f.remote_cluster, "leader_index": f.leader_index, "status": "paused"})),
                Role::Follower(f) => Some(json!({"follower_index": name, "remote_cluster": f.remote_cluster,
                    "leader_index": f.leader_index, "status": "active", "parameters": parameters()})),
            })
            .collect();
        json(
            StatusCode::OK,
            json!({ "follower_indices": followers }).to_string(),
            true,
        )
    }

    /// `GET /_ccr/stats` (`all`) and `GET /<indices>/_ccr/stats`.
    pub(in crate::simulator) fn stats(&self, list: Option<&str>) -> Resp {
        let wanted: Vec<&str> = match list {
            None | Some("_all") | Some("*") => self.indices.keys().map(String::as_str).collect(),
            Some(l) => l.split(',').filter(|s| !s.is_empty()).collect(),
        };
        let entries: Vec<Value> = wanted
            .iter()
            .filter_map(|name| match self.indices.get(*name) {
                Some(Role::Follower(f)) if !f.paused => Some(stats_entry(name, f)),
                _ => None,
            })
            .collect();
        match list {
            None => {
                let mut doc = fixture_value("ccr-stats/elasticsearch-docs-ccr_stats.json");
                doc["follow_stats"]["indices"] = json!(entries);
                json(StatusCode::OK, doc.to_string(), true)
            }
            Some(l) if entries.is_empty() && l != "_all" && l != "*" => {
                let reason = format!("No shard follow tasks for follower indices [{l}]");
                let err = json!({"type": "resource_not_found_exception", "reason": reason});
                let body = json!({"error": {"root_cause": [err], "type": "resource_not_found_exception",
                    "reason": reason}, "status": 404});
                json(StatusCode::NOT_FOUND, body.to_string(), true)
            }
            Some(_) => json(StatusCode::OK, json!({ "indices": entries }).to_string(), true),
        }
    }
}

impl Ccr {
    /// `GET /<indices>/_stats[/<metrics>]?level=shards`: per shard copy its
    /// routing and `seq_no` (reported whatever the metrics asked,
    /// `ShardStats`); one primary shard, no replica.
    pub(in crate::simulator) fn index_stats(&self, list: &str) -> Resp {
        let names = match self.resolve(list) {
            Ok(n) => n,
            Err(missing) => return index_not_found(missing),
        };
        let mut indices = serde_json::Map::new();
        for name in &names {
            let gcp = match &self.indices[*name] {
                Role::Leader(g) => *g,
                Role::Follower(f) => f.checkpoint(),
            };
            let docs = json!({"count": gcp + 1, "deleted": 0});
            indices.insert(
                name.to_string(),
                json!({"uuid": format!("{name}-uuid"), "health": "green",
                "status": "open", "primaries": {"docs": docs}, "total": {"docs": docs},
                "shards": {"0": [{"routing": {"state": "STARTED", "primary": true, "node": "sim-node-1",
                    "relocating_node": null}, "docs": docs,
                    "seq_no": {"max_seq_no": gcp, "local_checkpoint": gcp, "global_checkpoint": gcp}}]}}),
            );
        }
        let n = names.len();
        let body = json!({"_shards": {"total": n, "successful": n, "failed": 0}, "indices": indices});
        json(StatusCode::OK, body.to_string(), true)
    }
}

/// The documentation example's follow parameters (Elasticsearch's defaults).
fn parameters() -> Value {
    let mut doc = fixture_value("ccr-info/elasticsearch-docs-follow_info-active.json");
    doc["follower_indices"][0]["parameters"].take()
}

/// One follower's stats: the documentation example, re-labelled and with this
/// follower's checkpoints and condition.
fn stats_entry(name: &str, f: &Follower) -> Value {
    let mut doc = fixture_value("ccr-stats/elasticsearch-docs-follow_stats.json");
    let mut index = doc["indices"][0].take();
    let lag = f.lag();
    index["index"] = json!(name);
    if !f.docs_example {
        index["total_global_checkpoint_lag"] = json!(lag);
    }
    if matches!(f.condition, CcrState::Lagging) {
        index["total_global_checkpoint_lag"] = json!(50_000);
    }
    let shard = &mut index["shards"][0];
    if !f.docs_example {
        shard["leader_global_checkpoint"] = json!(LEADER_CHECKPOINT);
        shard["leader_max_seq_no"] = json!(LEADER_CHECKPOINT);
        shard["follower_global_checkpoint"] = json!(f.checkpoint());
        shard["follower_max_seq_no"] = json!(f.checkpoint());
    }
    shard["follower_index"] = json!(name);
    shard["remote_cluster"] = json!(f.remote_cluster);
    shard["leader_index"] = json!(f.leader_index);
    shard["time_since_last_read_millis"] = json!(f.since_last_read_ms());
    match f.condition {
        CcrState::Following | CcrState::Paused => {}
        CcrState::Lagging => {
            shard["follower_global_checkpoint"] = json!(-48_976);
            shard["time_since_last_read_millis"] = json!(120_000);
        }
        CcrState::ReadExceptions => {
            shard["read_exceptions"] = json!([{"from_seq_no": 769, "retries": 3, "exception":
                {"type": "node_disconnected_exception", "reason": "[leader-node][10.0.0.7:9300][indices:data/read/xpack/ccr/shard_changes] disconnected"}}]);
        }
        CcrState::Fatal => {
            shard["fatal_exception"] = json!({"type": "illegal_state_exception",
                "reason": format!("unable to follow: leader index [{}] history uuid changed", f.leader_index)});
        }
    }
    index
}

/// Elasticsearch's 404 for a name that resolves to no index.
fn index_not_found(index: &str) -> Resp {
    let err = json!({"type": "index_not_found_exception", "reason": format!("no such index [{index}]"),
        "resource.type": "index_or_alias", "resource.id": index, "index": index});
    let body = json!({"error": {"root_cause": [err.clone()], "type": "index_not_found_exception",
        "reason": format!("no such index [{index}]"), "index": index}, "status": 404});
    json(StatusCode::NOT_FOUND, body.to_string(), true)
}

//! Simulated answers for the APIs beyond cluster health: CCR stats, the health
//! report, per-index health and `_cat/master`, derived from the captured fixtures.
//!
//! The simulated cluster has the indices `orders`, `logs` and `follower_index`
//! (a CCR follower of `leader_index`, as in the documentation example).

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::fixtures::{fixture_value, json, Resp};
use super::{CcrState, Mode};

/// Indices that exist in the simulated cluster.
pub(super) const INDICES: &[&str] = &["orders", "logs", "follower_index"];
/// The only follower index.
pub(super) const FOLLOWER: &str = "follower_index";

fn colour(mode: &Mode) -> &'static str {
    match mode {
        Mode::Yellow => "yellow",
        Mode::Red => "red",
        _ => "green",
    }
}

fn not_found(index: &str) -> Resp {
    let err = json!({"type": "index_not_found_exception", "reason": format!("no such index [{index}]"),
        "resource.type": "index_or_alias", "resource.id": index, "index": index});
    let body = json!({"error": {"root_cause": [err.clone()], "type": "index_not_found_exception",
        "reason": format!("no such index [{index}]"), "index": index}, "status": 404});
    json(StatusCode::NOT_FOUND, body.to_string(), true)
}

fn follower_entry(state: CcrState) -> Option<Value> {
    let mut doc = fixture_value("ccr-stats/elasticsearch-docs-follow_stats.json");
    let mut index = doc["indices"][0].take();
    let shard = &mut index["shards"][0];
    match state {
        CcrState::Following => {}
        CcrState::Lagging => {
            shard["follower_global_checkpoint"] = json!(-48_976);
            shard["time_since_last_read_millis"] = json!(120_000);
            index["total_global_checkpoint_lag"] = json!(50_000);
        }
        CcrState::ReadExceptions => {
            shard["read_exceptions"] = json!([{"from_seq_no": 769, "retries": 3, "exception":
                {"type": "node_disconnected_exception", "reason": "[leader-node][10.0.0.7:9300][indices:data/read/xpack/ccr/shard_changes] disconnected"}}]);
        }
        CcrState::Fatal => {
            shard["fatal_exception"] = json!({"type": "illegal_state_exception",
                "reason": "unable to follow: leader index [leader_index] history uuid changed"});
        }
        CcrState::Paused => return None,
    }
    Some(index)
}

/// `GET /_ccr/stats` and `GET /<indices>/_ccr/stats`.
pub(super) fn ccr_stats(path: &str, state: CcrState) -> Resp {
    let entry = follower_entry(state);
    if path == "/_ccr/stats" {
        let mut doc = fixture_value("ccr-stats/elasticsearch-docs-ccr_stats.json");
        doc["follow_stats"]["indices"] = json!(entry.into_iter().collect::<Vec<_>>());
        return json(StatusCode::OK, doc.to_string(), true);
    }
    let list = path.trim_start_matches('/').trim_end_matches("/_ccr/stats");
    for index in list.split(',') {
        if !INDICES.contains(&index) {
            return not_found(index);
        }
    }
    // Leaders and plain indices are not followers: listed, but with no entry.
    let indices: Vec<Value> = if list.split(',').any(|i| i == FOLLOWER) {
        entry.into_iter().collect()
    } else {
        Vec::new()
    };
    json(StatusCode::OK, json!({ "indices": indices }).to_string(), true)
}

/// `GET /_health_report`: the 8.7 capture, with `shards_availability` turned
/// yellow or red as the documentation describes.
pub(super) fn health_report(mode: &Mode) -> Resp {
    let mut doc = fixture_value("health-report/elasticsearch-8.7.0-green-exporter.json");
    let c = colour(mode);
    doc["status"] = json!(c);
    if *mode == Mode::NoMaster {
        doc["status"] = json!("red");
        let stable = &mut doc["indicators"]["master_is_stable"];
        stable["status"] = json!("red");
        stable["symptom"] = json!("No master node has been observed recently.");
    }
    let ind = &mut doc["indicators"]["shards_availability"];
    match c {
        "yellow" => {
            ind["status"] = json!("yellow");
            ind["symptom"] = json!("This cluster has 1 unavailable replica shard.");
        }
        "red" => {
            ind["status"] = json!("red");
            ind["symptom"] = json!("This cluster has 1 unavailable primary.");
        }
        _ => {}
    }
    // verbose=false drops details and diagnosis.
    if let Some(map) = doc["indicators"].as_object_mut() {
        for v in map.values_mut() {
            if let Some(o) = v.as_object_mut() {
                o.remove("details");
                o.remove("diagnosis");
            }
        }
    }
    json(StatusCode::OK, doc.to_string(), true)
}

/// `GET /_cluster/health/<indices>?level=indices`: a missing index makes the
/// answer red and is absent from `indices`.
pub(super) fn index_health(base: &str, list: &str, mode: &Mode) -> Resp {
    let mut doc: Value = serde_json::from_str(base).unwrap_or_else(|_| json!({}));
    let c = colour(mode);
    let mut indices = serde_json::Map::new();
    let mut missing = false;
    for name in list.split(',').filter(|s| !s.is_empty()) {
        if !INDICES.contains(&name) {
            missing = true;
            continue;
        }
        let status = match (c, name) {
            ("red", "orders") => "red",
            ("yellow", "logs") | ("red", "logs") => "yellow",
            _ => "green",
        };
        indices.insert(
            name.to_string(),
            json!({"status": status, "number_of_shards": 1, "number_of_replicas": 1,
            "active_primary_shards": u8::from(status != "red"), "active_shards": 1, "relocating_shards": 0,
            "initializing_shards": 0, "unassigned_shards": if status == "green" { 0 } else { 1 }}),
        );
    }
    let worst = indices
        .values()
        .filter_map(|v| v["status"].as_str())
        .fold("green", |w, s| {
            if s == "red" || w == "red" {
                "red"
            } else if s == "yellow" || w == "yellow" {
                "yellow"
            } else {
                "green"
            }
        });
    doc["status"] = json!(if missing { "red" } else { worst });
    doc["indices"] = Value::Object(indices);
    json(StatusCode::OK, doc.to_string(), true)
}

/// `GET /_cat/master?format=json`.
pub(super) fn cat_master() -> Resp {
    let body = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/es/cat-master/elasticsearch-docs-format_json.json"
    ));
    json(StatusCode::OK, body, true)
}

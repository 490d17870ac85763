//! Simulated answers for the APIs beyond cluster health: the health report,
//! per-index health and `_cat/master`, derived from the captured fixtures (CCR
//! is [`super::ccr`]).

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::fixtures::{fixture_value, json, Resp};
use super::Mode;

fn colour(mode: &Mode) -> &'static str {
    match mode {
        Mode::Yellow => "yellow",
        Mode::Red => "red",
        _ => "green",
    }
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
pub(super) fn index_health(base: &str, list: &str, mode: &Mode, existing: &[String]) -> Resp {
    let mut doc: Value = serde_json::from_str(base).unwrap_or_else(|_| json!({}));
    let c = colour(mode);
    let mut indices = serde_json::Map::new();
    let mut missing = false;
    for name in list.split(',').filter(|s| !s.is_empty()) {
        if !existing.iter().any(|e| e == name) {
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

//! `mode = "index_health"`: the health of named critical indices, from
//! `GET /_cluster/health/<indices>?level=indices`. Elasticsearch reports a
//! missing index as red (not 404), and so does this check, naming it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::client::Answer;
use super::errors::describe;
use super::health::Colour;
use crate::checks::{Fact, Observed, Outcome};
use crate::config::EsConfig;
use crate::status::Status;

#[derive(Debug, Deserialize)]
struct Body {
    status: String,
    #[serde(default)]
    timed_out: bool,
    #[serde(default)]
    indices: BTreeMap<String, IndexHealth>,
}

#[derive(Debug, Deserialize)]
struct IndexHealth {
    status: String,
    #[serde(default)]
    unassigned_shards: Option<u64>,
}

/// The request path.
pub fn path(cfg: &EsConfig) -> String {
    format!("/_cluster/health/{}?level=indices", cfg.indices.join(","))
}

/// Turns an answer into a verdict.
pub fn evaluate(cfg: &EsConfig, a: &Answer) -> Outcome {
    let http = a.status.as_u16();
    if http != 200 && http != 408 {
        return Outcome::fail(describe(http, &a.body, &a.node));
    }
    let body: Body = match serde_json::from_slice(&a.body) {
        Ok(b) => b,
        Err(e) => return Outcome::fail(format!("unexpected index health answer from {}: {e}", a.node)),
    };
    let mut o = Outcome::pass(String::new());
    let mut parts = Vec::new();
    let mut status = Status::Pass;
    for name in &cfg.indices {
        let (colour, note) = match body.indices.get(name) {
            Some(h) => match Colour::parse(&h.status) {
                Some(c) => (
                    c,
                    h.unassigned_shards
                        .filter(|u| *u > 0)
                        .map(|u| format!(", {u} unassigned shards")),
                ),
                None => (
                    Colour::Red,
                    Some(format!(" (unknown status \"{}\")", h.status.escape_default())),
                ),
            },
            None => (Colour::Red, Some(" (missing)".to_string())),
        };
        status = status.max(match colour {
            Colour::Green => Status::Pass,
            Colour::Yellow => cfg.yellow,
            Colour::Red => Status::Fail,
        });
        o.measure_of(Fact::EsIndexStatus, name, colour.code());
        parts.push(format!(
            "index \"{name}\" is {}{}",
            colour.as_str(),
            note.unwrap_or_default()
        ));
    }
    if body.timed_out || http == 408 {
        status = Status::Fail;
        parts.insert(0, "the index health request timed out".into());
    }
    o.status = status;
    o.reason = format!("{}; via {}", parts.join("; "), a.node);
    o.observed = Some(Observed::Text(body.status.to_ascii_lowercase().into()));
    o
}

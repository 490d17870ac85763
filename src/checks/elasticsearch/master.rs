//! `mode = "master"`: an elected master exists, from `GET /_cat/master?format=json`
//! (`[{"id","host","ip","node"}]`). Without a master Elasticsearch answers 503
//! `master_not_discovered_exception` (OpenSearch: `cluster_manager_not_discovered_exception`).

use serde::Deserialize;

use super::client::Answer;
use super::errors::describe;
use crate::checks::transport::one_line;
use crate::checks::{Fact, Observed, Outcome};

/// The request path.
pub const PATH: &str = "/_cat/master?format=json";

#[derive(Debug, Deserialize)]
struct Master {
    id: Option<String>,
    node: Option<String>,
    ip: Option<String>,
}

/// Turns an answer into a verdict.
pub fn evaluate(a: &Answer) -> Outcome {
    if !a.status.is_success() {
        let mut o = Outcome::fail(describe(a.status.as_u16(), &a.body, &a.node));
        if a.status.as_u16() == 503 {
            o.measure(Fact::EsMasterPresent, 0.0);
            o.observed = Some(Observed::Text("none".into()));
        }
        return o;
    }
    let masters: Vec<Master> = match serde_json::from_slice(&a.body) {
        Ok(m) => m,
        Err(e) => return Outcome::fail(format!("unexpected _cat/master answer from {}: {e}", a.node)),
    };
    let mut o = match masters.first() {
        Some(m) if m.id.as_deref().is_some_and(|id| !id.is_empty() && id != "-") => {
            let name = one_line(m.node.as_deref().unwrap_or("?"));
            let ip = one_line(m.ip.as_deref().unwrap_or("?"));
            let mut o = Outcome::pass(format!("elected master is {name} ({ip}), via {}", a.node));
            o.observed = Some(Observed::Text(name.into()));
            o.measure(Fact::EsMasterPresent, 1.0);
            o
        }
        _ => {
            let mut o = Outcome::fail(format!("no elected master (empty _cat/master answer from {})", a.node));
            o.measure(Fact::EsMasterPresent, 0.0);
            o
        }
    };
    o.observed.get_or_insert(Observed::Text("none".into()));
    o
}

//! `mode = "health_report"`: `GET /_health_report?verbose=false` (Elasticsearch
//! ≥ 8.7). `verbose=false` is Elastic's guidance for pollers: it skips the costly
//! diagnosis. Indicator colours map like cluster health (green → pass, yellow →
//! the `yellow` setting, red → fail); `unknown`/`unavailable` warn. The reason
//! quotes the symptoms of every indicator that is not green.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::client::Answer;
use super::errors::{describe, error_detail};
use crate::checks::transport::one_line;
use crate::checks::{Fact, Observed, Outcome};
use crate::config::EsConfig;
use crate::status::Status;

/// Indicator names from the Elasticsearch specification; others are not exported
/// as metric labels (keeping them bounded) but still count for the verdict.
pub const KNOWN_INDICATORS: &[&str] = &[
    "master_is_stable",
    "shards_availability",
    "disk",
    "repository_integrity",
    "data_stream_lifecycle",
    "ilm",
    "slm",
    "shards_capacity",
    "file_settings",
];

/// The request path.
pub const PATH: &str = "/_health_report?verbose=false";

#[derive(Debug, Deserialize)]
struct Report {
    status: Option<String>,
    #[serde(default)]
    indicators: BTreeMap<String, Indicator>,
}

#[derive(Debug, Deserialize)]
struct Indicator {
    status: String,
    symptom: Option<String>,
}

/// Colour code for metrics: 0 green, 1 yellow, 2 red, 3 unknown.
fn code(colour: &str) -> f64 {
    match colour.to_ascii_lowercase().as_str() {
        "green" => 0.0,
        "yellow" => 1.0,
        "red" => 2.0,
        _ => 3.0,
    }
}

fn verdict(cfg: &EsConfig, colour: &str) -> Status {
    match colour.to_ascii_lowercase().as_str() {
        "green" => Status::Pass,
        "yellow" => cfg.yellow,
        "red" => Status::Fail,
        _ => Status::Warn,
    }
}

/// Turns an answer into a verdict.
pub fn evaluate(cfg: &EsConfig, a: &Answer) -> Outcome {
    let code_http = a.status.as_u16();
    if code_http == 400 || code_http == 404 || code_http == 405 {
        let text = error_detail(&a.body).and_then(|d| d.1).unwrap_or_default();
        if code_http != 400 || text.contains("no handler found") {
            return Outcome::fail(format!(
                "{} has no _health_report API (HTTP {code_http}; Elasticsearch 8.7 or later is needed, use mode = \"cluster_health\" for older versions and OpenSearch)",
                a.node
            ));
        }
    }
    if !a.status.is_success() {
        return Outcome::fail(describe(code_http, &a.body, &a.node));
    }
    let report: Report = match serde_json::from_slice(&a.body) {
        Ok(r) => r,
        Err(e) => return Outcome::fail(format!("unexpected health report from {}: {e}", a.node)),
    };
    let overall = report.status.clone().unwrap_or_else(|| {
        let worst = report
            .indicators
            .values()
            .map(|i| code(&i.status) as u8)
            .max()
            .unwrap_or(0);
        ["green", "yellow", "red", "unknown"][usize::from(worst)].to_string()
    });
    let mut status = verdict(cfg, &overall);
    let mut symptoms = Vec::new();
    let mut o = Outcome::pass(String::new());
    o.measure(Fact::EsHealthReportStatus, code(&overall));
    for (name, ind) in &report.indicators {
        status = status.max(verdict(cfg, &ind.status));
        if KNOWN_INDICATORS.contains(&name.as_str()) {
            o.measure_of(Fact::EsHealthIndicatorStatus, name, code(&ind.status));
        }
        if !ind.status.eq_ignore_ascii_case("green") {
            let symptom = ind.symptom.as_deref().map(one_line).unwrap_or_default();
            // Names and statuses are upstream text too: one line each.
            let (name, word) = (one_line(name), one_line(&ind.status).to_ascii_lowercase());
            symptoms.push(format!("{name} {word}: {symptom}"));
        }
    }
    o.status = status;
    let overall = one_line(&overall).to_ascii_lowercase();
    o.reason = if symptoms.is_empty() {
        format!(
            "health report {overall} ({} indicators), via {}",
            report.indicators.len(),
            a.node
        )
    } else {
        format!("health report {overall}: {}; via {}", symptoms.join("; "), a.node)
    };
    o.observed = Some(Observed::Text(overall.into()));
    o
}

//! `kind = "elasticsearch"`: one typed client ([`client`]) and one module per
//! `mode`, each a pure `evaluate(config, answer)`:
//!
//! | mode | request | module |
//! | --- | --- | --- |
//! | `cluster_health` (default) | `GET /_cluster/health` | [`health`] |
//! | `ping` | `HEAD /` | here |
//! | `ccr` | `GET /<followers>/_ccr/stats` | [`ccr`] |
//! | `health_report` | `GET /_health_report?verbose=false` | [`report`] |
//! | `index_health` | `GET /_cluster/health/<indices>?level=indices` | [`indices`] |
//! | `master` | `GET /_cat/master?format=json` | [`master`] |
//! | `failback` | `GET /`, `/<index>/_ccr/info`, `/<followers>/_ccr/stats` on both clusters | [`failback`] |
//!
//! Colour mapping everywhere: green → pass, yellow → the `yellow` setting
//! (default warn), red → fail. Red is HTTP 200 in Elasticsearch, so verdicts come
//! from bodies; error answers are read by [`errors`].

pub mod ccr;
pub mod client;
pub mod errors;
pub mod failback;
pub mod health;
pub mod indices;
pub mod master;
pub mod report;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;

use crate::checks::{Check, Observed, Outcome};
use crate::config::{EsConfig, EsMode};
use client::{ClientError, EsClient};

/// The Elasticsearch check.
pub struct ElasticsearchCheck {
    cfg: EsConfig,
    client: EsClient,
}

impl ElasticsearchCheck {
    /// Builds the check and its client.
    pub fn new(cfg: &EsConfig) -> Result<Self, String> {
        // The wait parameters each API has: a request that the node forwards to
        // the elected master waits `master_timeout` (30 s by default) for one;
        // sent inside the round's budget, a missing master is reported as such
        // (503 master_not_discovered_exception) instead of as a timeout.
        const MASTER: &[&str] = &["master_timeout", "timeout"];
        let (path, waits): (String, &'static [&'static str]) = match cfg.mode {
            EsMode::Ping => ("/".into(), &[]),
            EsMode::ClusterHealth if cfg.local => ("/_cluster/health?local=true".into(), &[]),
            EsMode::ClusterHealth => ("/_cluster/health".into(), MASTER),
            EsMode::Ccr if cfg.followers.is_empty() => (ccr::path(cfg), MASTER),
            EsMode::Ccr => (ccr::path(cfg), &["timeout"]),
            EsMode::HealthReport => (report::PATH.into(), &["timeout"]),
            EsMode::IndexHealth => (indices::path(cfg), MASTER),
            EsMode::Master => (master::PATH.into(), &["master_timeout"]),
            EsMode::Failback => return Err("mode = \"failback\" is built as its own check (checks::build)".into()),
        };
        Ok(ElasticsearchCheck {
            client: EsClient::new(cfg, &path, waits)?,
            cfg: cfg.clone(),
        })
    }

    async fn ping(&self, budget: Duration) -> Outcome {
        let started = tokio::time::Instant::now();
        match self.client.request(Method::HEAD, budget).await {
            Ok(a) if a.status.is_success() => {
                let elapsed = started.elapsed();
                Outcome::pass(format!("{} answered HEAD / with {}", a.node, a.status.as_u16()))
                    .with_observed(Observed::millis(elapsed))
            }
            Ok(a) => Outcome::fail(errors::describe(a.status.as_u16(), &a.body, &a.node)),
            Err(e) => unreachable(e),
        }
    }
}

fn unreachable(e: ClientError) -> Outcome {
    Outcome::fail(e.to_string()).with_observed(Observed::Text("unreachable".into()))
}

#[async_trait]
impl Check for ElasticsearchCheck {
    async fn run(&self, budget: Duration) -> Outcome {
        if self.cfg.mode == EsMode::Ping {
            return self.ping(budget).await;
        }
        let answer = match self.client.request(Method::GET, budget).await {
            Ok(a) => a,
            Err(e) => return unreachable(e),
        };
        match self.cfg.mode {
            EsMode::ClusterHealth | EsMode::Ping => health::evaluate_answer(&self.cfg, &answer),
            EsMode::Ccr => ccr::evaluate(&self.cfg, &answer),
            EsMode::HealthReport => report::evaluate(&self.cfg, &answer),
            EsMode::IndexHealth => indices::evaluate(&self.cfg, &answer),
            EsMode::Master => master::evaluate(&answer),
            EsMode::Failback => Outcome::fail("mode = \"failback\" runs as its own check"),
        }
    }

    fn measurement(&self) -> &'static str {
        match self.cfg.mode {
            EsMode::Ping => "responseTime",
            EsMode::ClusterHealth => "clusterHealth",
            EsMode::Ccr => "ccrLag",
            EsMode::HealthReport => "healthReport",
            EsMode::IndexHealth => "indexHealth",
            EsMode::Master => "master",
            EsMode::Failback => "drFailback",
        }
    }

    fn component_type(&self) -> &'static str {
        "datastore"
    }

    fn attempts(&self) -> Option<&crate::checks::Attempts> {
        Some(self.client.attempts.as_ref())
    }
}

#[cfg(test)]
mod fixture_tests;

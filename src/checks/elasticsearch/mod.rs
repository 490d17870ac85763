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
//!
//! Colour mapping everywhere: green → pass, yellow → the `yellow` setting
//! (default warn), red → fail. Red is HTTP 200 in Elasticsearch, so verdicts come
//! from bodies; error answers are read by [`errors`].

pub mod ccr;
pub mod client;
pub mod errors;
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
        let path = match cfg.mode {
            EsMode::Ping => "/".to_string(),
            EsMode::ClusterHealth if cfg.local => "/_cluster/health?local=true".to_string(),
            EsMode::ClusterHealth => "/_cluster/health".to_string(),
            EsMode::Ccr => ccr::path(cfg),
            EsMode::HealthReport => report::PATH.to_string(),
            EsMode::IndexHealth => indices::path(cfg),
            EsMode::Master => master::PATH.to_string(),
        };
        Ok(ElasticsearchCheck {
            client: EsClient::new(cfg, &path)?,
            cfg: cfg.clone(),
        })
    }

    async fn ping(&self, budget: Duration) -> Outcome {
        let started = tokio::time::Instant::now();
        match self.client.request(Method::HEAD, budget).await {
            Ok(a) if a.status.is_success() => {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                Outcome::pass(format!("{} answered HEAD / with {}", a.node, a.status.as_u16()))
                    .with_observed(Observed::Number((ms * 10.0).round() / 10.0, "ms"))
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
        }
    }

    fn component_type(&self) -> &'static str {
        "datastore"
    }
}

#[cfg(test)]
mod fixture_tests;

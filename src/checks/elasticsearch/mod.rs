//! `kind = "elasticsearch"`: cluster health (default) or a `HEAD /` ping.
//!
//! Colour mapping: green → pass, yellow → the `yellow` setting (default warn),
//! red → fail; thresholds (`min_nodes`, ...) turn a breach into a fail that names
//! the threshold and the observed value. Red is HTTP 200 in Elasticsearch, so the
//! verdict comes from the body; a 408 carries a normal body with `timed_out: true`.

pub mod client;
pub mod errors;
pub mod health;

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
    path: String,
}

impl ElasticsearchCheck {
    /// Builds the check and its client.
    pub fn new(cfg: &EsConfig) -> Result<Self, String> {
        let path = match cfg.mode {
            EsMode::Ping => "/".to_string(),
            EsMode::ClusterHealth if cfg.local => "/_cluster/health?local=true".to_string(),
            EsMode::ClusterHealth => "/_cluster/health".to_string(),
        };
        Ok(ElasticsearchCheck {
            client: EsClient::new(cfg)?,
            cfg: cfg.clone(),
            path,
        })
    }

    async fn ping(&self, budget: Duration) -> Outcome {
        let started = tokio::time::Instant::now();
        match self.client.request(Method::HEAD, &self.path, budget).await {
            Ok(a) if a.status.is_success() => {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                Outcome::pass(format!("{} answered HEAD / with {}", a.node, a.status.as_u16()))
                    .with_observed(Observed::Number((ms * 10.0).round() / 10.0, "ms"))
            }
            Ok(a) => Outcome::fail(errors::describe(a.status.as_u16(), &a.body, &a.node)),
            Err(e) => unreachable(e),
        }
    }

    async fn cluster_health(&self, budget: Duration) -> Outcome {
        let answer = match self.client.request(Method::GET, &self.path, budget).await {
            Ok(a) => a,
            Err(e) => return unreachable(e),
        };
        let code = answer.status.as_u16();
        if code != 200 && code != 408 {
            let mut o = Outcome::fail(errors::describe(code, &answer.body, &answer.node));
            if code == 503 {
                o.observed = Some(Observed::Text("unavailable".into()));
            }
            return o;
        }
        match health::parse(&answer.body) {
            Ok(h) => {
                let mut o = health::evaluate(&self.cfg, &h, &answer.node);
                if code == 408 {
                    o.status = crate::checks::Status::Fail;
                    if !h.timed_out {
                        o.reason = format!("HTTP 408 request timeout; {}", o.reason);
                    }
                }
                o
            }
            Err(why) => Outcome::fail(format!("{why} (HTTP {code} from {})", answer.node)),
        }
    }
}

fn unreachable(e: ClientError) -> Outcome {
    Outcome::fail(e.to_string()).with_observed(Observed::Text("unreachable".into()))
}

#[async_trait]
impl Check for ElasticsearchCheck {
    async fn run(&self, budget: Duration) -> Outcome {
        match self.cfg.mode {
            EsMode::Ping => self.ping(budget).await,
            EsMode::ClusterHealth => self.cluster_health(budget).await,
        }
    }

    fn measurement(&self) -> &'static str {
        match self.cfg.mode {
            EsMode::Ping => "responseTime",
            EsMode::ClusterHealth => "clusterHealth",
        }
    }

    fn component_type(&self) -> &'static str {
        "datastore"
    }
}

#[cfg(test)]
mod fixture_tests;

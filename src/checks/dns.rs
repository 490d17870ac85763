//! `kind = "dns"`: a name resolves through the system resolver (so `/etc/hosts`
//! and `nsswitch.conf` apply, as they do for the application), to at least
//! `min_addresses` addresses, optionally including `expect_address`.
//!
//! Compromise: the system resolver runs on a blocking thread; the scheduler's
//! timeout ends the round on time, but the thread finishes the lookup in the
//! background (bounded by the resolver's own timeout).

use std::time::Duration;

use async_trait::async_trait;

use super::{Check, Observed, Outcome};
use crate::config::DnsConfig;

/// The DNS check.
pub struct DnsCheck {
    cfg: DnsConfig,
}

impl DnsCheck {
    /// Builds the check.
    pub fn new(cfg: &DnsConfig) -> Self {
        DnsCheck { cfg: cfg.clone() }
    }
}

#[async_trait]
impl Check for DnsCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        let name = &self.cfg.resolve;
        let addrs: Vec<std::net::IpAddr> = match tokio::net::lookup_host((name.as_str(), 0)).await {
            Ok(it) => {
                let mut v: Vec<_> = it.map(|a| a.ip()).collect();
                v.sort();
                v.dedup();
                v
            }
            Err(e) => return Outcome::fail(format!("{name} does not resolve: {e}")),
        };
        let list = addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
        let mut o = Outcome::pass(format!("{name} resolves to {list}"));
        o.observed = Some(Observed::Number(addrs.len() as f64, "addresses"));
        if addrs.len() < self.cfg.min_addresses {
            o = Outcome::fail(format!(
                "{name} resolves to {} address(es) < min_addresses {}: {list}",
                addrs.len(),
                self.cfg.min_addresses
            ));
        } else if let Some(want) = self.cfg.expect_address {
            if !addrs.contains(&want) {
                o = Outcome::fail(format!("{name} resolves to {list}, not to {want}"));
            }
        }
        o
    }

    fn measurement(&self) -> &'static str {
        "addresses"
    }

    fn component_type(&self) -> &'static str {
        "system"
    }
}

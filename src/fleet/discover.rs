//! Where the peers are: the `peers` list, plus every A/AAAA address of
//! `peers_dns`, resolved again every `resolve_interval` (a Kubernetes headless
//! Service, a DNS round-robin record).
//!
//! Resolution uses hickory's resolver: the system's configuration
//! (`/etc/resolv.conf`, `/etc/hosts`), or one `nameserver`. Its cache is off,
//! so every resolution asks. A failed resolution keeps the last good address
//! set and says why; a resolution never takes longer than `fleet.timeout`.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{LookupIpStrategy, NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::TokioResolver;

use crate::config::FleetConfig;

/// The peer addresses and how to find them again.
pub(super) struct Discovery {
    listed: Vec<String>,
    dns: Option<(String, u16, TokioResolver)>,
    timeout: Duration,
    /// The last good result of the DNS name.
    resolved: Vec<String>,
    /// Why the last resolution failed.
    pub error: Option<String>,
}

impl Discovery {
    /// From the configuration; an unreadable system resolver configuration is
    /// an error naming the file.
    pub(super) fn new(cfg: &FleetConfig) -> Result<Discovery, String> {
        let dns = match &cfg.peers_dns {
            None => None,
            Some((name, port)) => {
                let mut builder = match cfg.nameserver {
                    Some(ns) => {
                        let group = NameServerConfigGroup::from_ips_clear(&[ns.ip()], ns.port(), true);
                        TokioResolver::builder_with_config(
                            ResolverConfig::from_parts(None, Vec::new(), group),
                            TokioConnectionProvider::default(),
                        )
                    }
                    None => TokioResolver::builder_tokio().map_err(|e| {
                        format!("fleet.peers_dns: cannot read the system resolver configuration (/etc/resolv.conf): {e}; set fleet.nameserver")
                    })?,
                };
                // The system's options (ndots, search) stay; these bound the time.
                let opts: &mut ResolverOpts = builder.options_mut();
                opts.timeout = cfg.timeout;
                opts.attempts = 1;
                opts.cache_size = 0;
                opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
                opts.edns0 = true;
                Some((name.clone(), *port, builder.build()))
            }
        };
        Ok(Discovery {
            listed: cfg.peers.clone(),
            dns,
            timeout: cfg.timeout,
            resolved: Vec::new(),
            error: None,
        })
    }

    /// Whether there is a name to resolve again.
    pub(super) fn has_dns(&self) -> bool {
        self.dns.is_some()
    }

    /// Resolves the name (if any) and returns every peer address, the listed
    /// ones first, without repeats, at most [`FleetConfig::MAX_MEMBERS`].
    pub(super) async fn addresses(&mut self) -> Vec<String> {
        if let Some((name, port, resolver)) = &self.dns {
            let lookup = tokio::time::timeout(self.timeout, resolver.lookup_ip(name.as_str())).await;
            match lookup {
                Ok(Ok(ips)) => {
                    let mut found: Vec<String> = ips.iter().map(|ip| SocketAddr::new(ip, *port).to_string()).collect();
                    found.sort();
                    found.dedup();
                    self.resolved = found;
                    self.error = None;
                }
                Ok(Err(e)) => {
                    self.error = Some(format!("peers_dns {name}:{port}: {}", describe(&e)));
                }
                Err(_) => {
                    self.error = Some(format!(
                        "peers_dns {name}:{port}: no answer within {}",
                        humantime::format_duration(self.timeout)
                    ));
                }
            }
        }
        let mut all: Vec<String> = Vec::with_capacity(self.listed.len() + self.resolved.len());
        for a in self.listed.iter().chain(&self.resolved) {
            if !all.contains(a) {
                all.push(a.clone());
            }
        }
        all.truncate(FleetConfig::MAX_MEMBERS);
        all
    }
}

/// A resolver error in a few words.
fn describe(e: &hickory_resolver::ResolveError) -> String {
    if e.is_no_records_found() {
        if e.is_nx_domain() {
            "no such name".into()
        } else {
            "the name has no A or AAAA records".into()
        }
    } else {
        let text = e.to_string();
        text.chars().take(160).collect()
    }
}

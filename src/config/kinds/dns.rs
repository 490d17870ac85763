//! `kind = "dns"`: a name resolves through the system resolver.

use super::KindConfig;
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "dns"`: a name resolves (through the system resolver).
#[derive(Debug, Clone, PartialEq)]
pub struct DnsConfig {
    /// The name to resolve.
    pub resolve: String,
    /// At least this many addresses (default 1).
    pub min_addresses: usize,
    /// One of the addresses must be this.
    pub expect_address: Option<std::net::IpAddr>,
}

impl KindConfig for DnsConfig {
    const KEYS: &'static [&'static str] = &["resolve", "min_addresses", "expect_address"];

    fn parse(t: &Table, _redactor: &mut Redactor) -> Option<Self> {
        let resolve = t.required_str("resolve");
        let min_addresses = t.u64("min_addresses").unwrap_or(1) as usize;
        let expect_address = t.str("expect_address").and_then(|a| match a.parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                t.problem("expect_address", &format!("invalid IP address \"{a}\""));
                None
            }
        });
        let resolve = resolve?;
        if resolve.is_empty() || resolve.contains(char::is_whitespace) {
            t.problem("resolve", &format!("invalid host name \"{resolve}\""));
            return None;
        }
        Some(DnsConfig {
            resolve,
            min_addresses,
            expect_address,
        })
    }

    fn summary(&self) -> String {
        format!("resolve {}", self.resolve)
    }

    fn targets(&self) -> Vec<String> {
        vec!["system resolver".to_string()]
    }
}

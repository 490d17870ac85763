//! `kind = "memcached"`: the `version` command answers.

use super::{parse_address, KindConfig};
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "memcached"`.
#[derive(Debug, Clone, PartialEq)]
pub struct MemcachedConfig {
    /// `host:port`.
    pub address: String,
}

impl KindConfig for MemcachedConfig {
    const KEYS: &'static [&'static str] = &["address"];

    fn parse(t: &Table, _redactor: &mut Redactor) -> Option<Self> {
        let address = t.required_str("address")?;
        let address = address.strip_prefix("memcached://").unwrap_or(&address).to_string();
        parse_address(t, "address", &address).then_some(MemcachedConfig { address })
    }

    fn summary(&self) -> String {
        self.address.clone()
    }

    fn targets(&self) -> Vec<String> {
        vec![self.address.clone()]
    }
}

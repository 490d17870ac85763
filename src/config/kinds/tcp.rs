//! `kind = "tcp"`: a connection to `address` opens; optional banner exchange.

use super::{parse_address, KindConfig};
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "tcp"`: a connection can be opened.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpConfig {
    /// `host:port`.
    pub address: String,
    /// Sent after connecting.
    pub send: Option<String>,
    /// Must appear in what the server sends (read up to 4 KiB).
    pub expect: Option<String>,
}

impl KindConfig for TcpConfig {
    const KEYS: &'static [&'static str] = &["address", "send", "expect"];

    fn parse(t: &Table, _redactor: &mut Redactor) -> Option<Self> {
        let address = t.required_str("address");
        let send = t.str("send");
        let expect = t.str("expect");
        let address = address?;
        parse_address(t, "address", &address).then_some(TcpConfig { address, send, expect })
    }

    fn summary(&self) -> String {
        self.address.clone()
    }

    fn targets(&self) -> Vec<String> {
        vec![self.address.clone()]
    }
}

//! `kind = "mysql"` (MySQL and MariaDB): connect, run `query`; optional
//! `read_only` and replica lag.

use std::path::PathBuf;
use std::time::Duration;

use super::database::{ca_file, parse_endpoint, tls_mode, Endpoint, TlsMode};
use super::KindConfig;
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "mysql"` (MySQL and MariaDB).
#[derive(Debug, Clone, PartialEq)]
pub struct MysqlConfig {
    /// Connection target.
    pub endpoint: Endpoint,
    /// Query run each round (default `SELECT 1`).
    pub query: String,
    /// TLS mode (`disable` or `require`).
    pub tls: TlsMode,
    /// CA certificate for `require`.
    pub ca_file: Option<PathBuf>,
    /// Expected `@@global.read_only`.
    pub read_only: Option<bool>,
    /// Fail when `Seconds_Behind_Master`/`Seconds_Behind_Source` exceeds this.
    pub max_replica_lag: Option<Duration>,
}

impl KindConfig for MysqlConfig {
    const KEYS: &'static [&'static str] = &[
        "url",
        "password",
        "password_env",
        "password_file",
        "query",
        "tls",
        "ca_file",
        "read_only",
        "max_replica_lag",
    ];

    fn parse(t: &Table, redactor: &mut Redactor) -> Option<Self> {
        let endpoint = parse_endpoint(t, &["mysql", "mariadb"], 3306, redactor);
        let query = t.str("query").unwrap_or_else(|| "SELECT 1".into());
        let tls = tls_mode(t, &[TlsMode::Disable, TlsMode::Require]);
        let ca_file = ca_file(t);
        let read_only = t.bool("read_only");
        let max_replica_lag = t.duration("max_replica_lag");
        let (endpoint, _) = endpoint?;
        Some(MysqlConfig {
            endpoint,
            query,
            tls,
            ca_file,
            read_only,
            max_replica_lag,
        })
    }

    fn summary(&self) -> String {
        self.endpoint.summary()
    }

    fn targets(&self) -> Vec<String> {
        vec![self.endpoint.label()]
    }
}

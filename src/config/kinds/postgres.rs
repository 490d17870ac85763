//! `kind = "postgres"`: connect (one connection kept), run `query`; optional
//! role and replica lag.

use std::path::PathBuf;
use std::time::Duration;

use super::database::{ca_file, parse_endpoint, role, tls_mode, Endpoint, Role, TlsMode};
use super::KindConfig;
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "postgres"`.
#[derive(Debug, Clone, PartialEq)]
pub struct PostgresConfig {
    /// Connection target.
    pub endpoint: Endpoint,
    /// Query run each round (default `SELECT 1`).
    pub query: String,
    /// TLS mode.
    pub tls: TlsMode,
    /// CA certificate for `require`.
    pub ca_file: Option<PathBuf>,
    /// Expected role (`pg_is_in_recovery()`).
    pub expect: Option<Role>,
    /// Fail when a replica's replay lag exceeds this.
    pub max_replication_lag: Option<Duration>,
}

impl KindConfig for PostgresConfig {
    const KEYS: &'static [&'static str] = &[
        "url",
        "password",
        "password_env",
        "password_file",
        "query",
        "tls",
        "ca_file",
        "expect_primary",
        "expect_replica",
        "max_replication_lag",
    ];

    fn parse(t: &Table, redactor: &mut Redactor) -> Option<Self> {
        let endpoint = parse_endpoint(t, &["postgres", "postgresql"], 5432, redactor);
        let query = t.str("query").unwrap_or_else(|| "SELECT 1".into());
        let tls = tls_mode(t, &[TlsMode::Disable, TlsMode::Prefer, TlsMode::Require]);
        let ca_file = ca_file(t);
        let expect = role(t, "expect_primary", "expect_replica");
        let max_replication_lag = t.duration("max_replication_lag");
        if max_replication_lag.is_some() && expect == Some(Role::Primary) {
            t.problem(
                "max_replication_lag",
                "only meaningful for a replica (not with expect_primary)",
            );
        }
        let (endpoint, _) = endpoint?;
        if endpoint.user.is_none() {
            t.problem("url", "no user in the URL (postgres://USER@host:5432/dbname)");
            return None;
        }
        Some(PostgresConfig {
            endpoint,
            query,
            tls,
            ca_file,
            expect,
            max_replication_lag,
        })
    }

    fn summary(&self) -> String {
        self.endpoint.summary()
    }

    fn targets(&self) -> Vec<String> {
        vec![self.endpoint.label()]
    }
}

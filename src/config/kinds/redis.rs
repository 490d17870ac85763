//! `kind = "redis"`: `PING` (with `AUTH`), optionally the replication role.

use std::path::PathBuf;

use super::database::{ca_file, parse_endpoint, Endpoint, Role};
use super::KindConfig;
use crate::config::fields::Table;
use crate::secret::Redactor;

/// `kind = "redis"`.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    /// Connection target (`database` is the index).
    pub endpoint: Endpoint,
    /// `rediss://`.
    pub tls: bool,
    /// CA certificate for `rediss://` (default: the public roots).
    pub ca_file: Option<PathBuf>,
    /// Expected `role` from `INFO replication`.
    pub expect: Option<Role>,
}

impl KindConfig for RedisConfig {
    const KEYS: &'static [&'static str] = &[
        "url",
        "password",
        "password_env",
        "password_file",
        "ca_file",
        "expect_role",
    ];

    fn parse(t: &Table, redactor: &mut Redactor) -> Option<Self> {
        let endpoint = parse_endpoint(t, &["redis", "rediss"], 6379, redactor);
        let expect = match t.str("expect_role").as_deref() {
            None => None,
            Some("master" | "primary") => Some(Role::Primary),
            Some("replica" | "slave") => Some(Role::Replica),
            Some(other) => {
                t.problem(
                    "expect_role",
                    &format!("invalid role \"{other}\" (expected master or replica)"),
                );
                None
            }
        };
        let ca_file = ca_file(t);
        let (endpoint, scheme) = endpoint?;
        if ca_file.is_some() && scheme != "rediss" {
            t.problem("ca_file", "only used with rediss:// (TLS)");
            return None;
        }
        if let Some(db) = &endpoint.database {
            if db.parse::<u16>().is_err() {
                t.problem(
                    "url",
                    &format!("the database must be a number (redis://host:6379/0), found \"{db}\""),
                );
                return None;
            }
        }
        Some(RedisConfig {
            endpoint,
            tls: scheme == "rediss",
            ca_file,
            expect,
        })
    }

    fn summary(&self) -> String {
        self.endpoint.summary()
    }

    fn targets(&self) -> Vec<String> {
        vec![self.endpoint.label()]
    }
}

//! Keys of the datastore kinds: `postgres`, `mysql`, `redis`, `memcached`.
//!
//! Each takes a `url` (`postgres://user@host:5432/db`, `mysql://...`,
//! `redis://[user@]host:6379/0`, `rediss://` for TLS), never with a password in
//! it: passwords come from `password_env` or `password_file`.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use super::fields::Table;
use super::kinds::parse_address;
use crate::secret::{Redactor, Secret};

/// Where and as whom to connect.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User, if any.
    pub user: Option<String>,
    /// Database (PostgreSQL/MySQL name, Redis index as text).
    pub database: Option<String>,
    /// Password from env or file.
    pub password: Option<SecretEq>,
}

impl Endpoint {
    /// `host:port`, for reasons.
    pub fn label(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A secret compared by value (so reloads can tell whether a check changed).
#[derive(Debug, Clone)]
pub struct SecretEq(pub Secret);

impl PartialEq for SecretEq {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose() == other.0.expose()
    }
}

/// Transport security for database connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, else plain (PostgreSQL only).
    Prefer,
    /// TLS, verifying the server certificate against `ca_file` or the public roots.
    Require,
}

/// Which side of a replication pair the server must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes.
    Primary,
    /// Follows a primary.
    Replica,
}

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

/// `kind = "memcached"`.
#[derive(Debug, Clone, PartialEq)]
pub struct MemcachedConfig {
    /// `host:port`.
    pub address: String,
}

fn parse_endpoint(
    t: &Table,
    schemes: &[&str],
    default_port: u16,
    redactor: &mut Redactor,
) -> Option<(Endpoint, String)> {
    let text = t.required_str("url")?;
    let url = match Url::parse(&text) {
        Ok(u) => u,
        Err(e) => {
            t.problem("url", &format!("invalid URL \"{text}\": {e}"));
            return None;
        }
    };
    if !schemes.contains(&url.scheme()) {
        t.problem(
            "url",
            &format!(
                "unsupported scheme \"{}\" (expected {})",
                url.scheme(),
                schemes.join(" or ")
            ),
        );
        return None;
    }
    if url.password().is_some() {
        t.problem(
            "url",
            "a password in the URL is not accepted; use password_env or password_file",
        );
        return None;
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        t.problem("url", &format!("no host in \"{text}\""));
        return None;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let user = Some(url.username().to_string()).filter(|u| !u.is_empty());
    let database = Some(url.path().trim_start_matches('/').to_string()).filter(|d| !d.is_empty());
    let password = t.secret("password");
    if let Some(p) = &password {
        redactor.add(p);
    }
    let endpoint = Endpoint {
        host,
        port: url.port().unwrap_or(default_port),
        user,
        database,
        password: password.map(SecretEq),
    };
    Some((endpoint, url.scheme().to_string()))
}

fn tls_mode(t: &Table, allowed: &[TlsMode]) -> TlsMode {
    let mode = match t.str("tls").as_deref() {
        None | Some("disable") => TlsMode::Disable,
        Some("prefer") => TlsMode::Prefer,
        Some("require") => TlsMode::Require,
        Some(other) => {
            t.problem(
                "tls",
                &format!("invalid tls mode \"{other}\" (expected disable, prefer or require)"),
            );
            return TlsMode::Disable;
        }
    };
    if !allowed.contains(&mode) {
        t.problem("tls", &format!("{mode:?} is not supported for this kind"));
    }
    mode
}

fn ca_file(t: &Table) -> Option<PathBuf> {
    let p = t.str("ca_file").map(PathBuf::from)?;
    if let Err(e) = std::fs::metadata(&p) {
        t.problem("ca_file", &format!("cannot read \"{}\": {e}", p.display()));
    }
    Some(p)
}

fn role(t: &Table, primary_key: &str, replica_key: &str) -> Option<Role> {
    match (t.bool(primary_key), t.bool(replica_key)) {
        (Some(true), Some(true)) => {
            t.problem(
                replica_key,
                &format!("{primary_key} and {replica_key} cannot both be true"),
            );
            None
        }
        (Some(true), _) => Some(Role::Primary),
        (_, Some(true)) => Some(Role::Replica),
        _ => None,
    }
}

pub(super) fn postgres(t: &Table, redactor: &mut Redactor) -> Option<PostgresConfig> {
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

pub(super) fn mysql(t: &Table, redactor: &mut Redactor) -> Option<MysqlConfig> {
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

pub(super) fn redis(t: &Table, redactor: &mut Redactor) -> Option<RedisConfig> {
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

pub(super) fn memcached(t: &Table) -> Option<MemcachedConfig> {
    let address = t.required_str("address")?;
    let address = address.strip_prefix("memcached://").unwrap_or(&address).to_string();
    parse_address(t, "address", &address).then_some(MemcachedConfig { address })
}

//! `kind = "redis"`: `PING` (with password or ACL user, TLS, database index), and
//! optionally the role from `INFO replication`.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{ConnectionAddr, ConnectionInfo, ProtocolVersion, RedisConnectionInfo};

use super::reused::Reused;
use super::{Check, Observed, Outcome};
use crate::config::{RedisConfig, Role};
use crate::status::Status;

/// The Redis check.
pub struct RedisCheck {
    cfg: RedisConfig,
    client: redis::Client,
    conn: Reused<MultiplexedConnection>,
}

impl RedisCheck {
    /// Builds the check (no connection yet).
    pub fn new(cfg: &RedisConfig) -> Result<Self, String> {
        let e = &cfg.endpoint;
        let addr = if cfg.tls {
            ConnectionAddr::TcpTls {
                host: e.host.clone(),
                port: e.port,
                insecure: false,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(e.host.clone(), e.port)
        };
        let info = ConnectionInfo {
            addr,
            redis: RedisConnectionInfo {
                db: e.database.as_deref().and_then(|d| d.parse().ok()).unwrap_or(0),
                username: e.user.clone(),
                password: e.password.as_ref().map(|p| p.0.expose().to_string()),
                protocol: ProtocolVersion::RESP2,
            },
        };
        let client = match &cfg.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| format!("ca_file \"{}\": {e}", path.display()))?;
                let certs = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                };
                redis::Client::build_with_tls(info, certs)
            }
            None => redis::Client::open(info),
        }
        .map_err(|e| format!("invalid Redis settings: {e}"))?;
        Ok(RedisCheck {
            cfg: cfg.clone(),
            client,
            conn: Reused::default(),
        })
    }

    async fn probe(&self, conn: &mut MultiplexedConnection) -> Result<Outcome, redis::RedisError> {
        let started = tokio::time::Instant::now();
        let pong: String = redis::cmd("PING").query_async(conn).await?;
        let elapsed = started.elapsed();
        let target = self.cfg.endpoint.label();
        let mut o = Outcome::pass(format!("{target}: {pong}"));
        o.observed = Some(Observed::millis(elapsed));
        if let Some(want) = self.cfg.expect {
            let info: String = redis::cmd("INFO").arg("replication").query_async(conn).await?;
            let role = info
                .lines()
                .find_map(|l| l.strip_prefix("role:"))
                .map(str::trim)
                .unwrap_or("unknown")
                .to_string();
            let is = match role.as_str() {
                "master" => Some(Role::Primary),
                "slave" | "replica" => Some(Role::Replica),
                _ => None,
            };
            let want_word = if want == Role::Primary { "master" } else { "replica" };
            if is != Some(want) {
                o.status = Status::Fail;
                o.reason = format!("{target}: expected role {want_word}, the server is {role}");
            } else {
                let link = info
                    .lines()
                    .find_map(|l| l.strip_prefix("master_link_status:"))
                    .map(str::trim);
                if want == Role::Replica && link != Some("up") {
                    o.status = Status::Fail;
                    o.reason = format!("{target}: replica with master link {}", link.unwrap_or("unknown"));
                } else {
                    o.reason = format!("{target}: {pong}, role {role}");
                }
            }
        }
        Ok(o)
    }
}

/// A precise, secret-free reason (`NOAUTH ...`, `WRONGPASS ...`, `connection refused`).
pub fn describe(e: &redis::RedisError) -> String {
    if e.is_connection_refusal() {
        return "connection refused".into();
    }
    if e.kind() == redis::ErrorKind::AuthenticationFailed {
        // The client library replaces the server's WRONGPASS text with its own.
        return "redis: authentication failed (wrong password, or ACL user unknown or disabled)".into();
    }
    if e.is_io_error() {
        return super::transport::words(&e.to_string());
    }
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("redis: {code} {detail}"),
        _ => format!("redis: {e}"),
    }
}

#[async_trait]
impl Check for RedisCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        let result = self
            .conn
            .run(
                |_: &MultiplexedConnection| true,
                async || self.client.get_multiplexed_async_connection().await,
                async |c: &mut MultiplexedConnection| self.probe(c).await,
            )
            .await;
        result.unwrap_or_else(|e| Outcome::fail(format!("{}: {}", self.cfg.endpoint.label(), describe(&e))))
    }

    fn measurement(&self) -> &'static str {
        "responseTime"
    }

    fn component_type(&self) -> &'static str {
        "datastore"
    }
}

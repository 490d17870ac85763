//! `kind = "mysql"` (MySQL and MariaDB): connect, run a query (default `SELECT 1`),
//! optionally check `@@global.read_only` and a replica's lag
//! (`Seconds_Behind_Source`, or `Seconds_Behind_Master` on older servers).
//!
//! One connection is kept across rounds, replaced when it breaks or when the
//! previous round was cut off mid-query.

use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Row, SslOpts, Value};

use super::reused::Reused;
use super::{Check, Observed, Outcome};
use crate::config::{MysqlConfig, TlsMode};
use crate::status::Status;

/// The MySQL check.
pub struct MysqlCheck {
    cfg: MysqlConfig,
    opts: Opts,
    conn: Reused<Conn>,
}

impl MysqlCheck {
    /// Builds the check (no connection yet).
    pub fn new(cfg: &MysqlConfig) -> Result<Self, String> {
        let e = &cfg.endpoint;
        let mut b = OptsBuilder::default()
            .ip_or_hostname(e.host.clone())
            .tcp_port(e.port)
            .user(e.user.clone())
            .pass(e.password.as_ref().map(|p| p.0.expose().to_string()))
            .db_name(e.database.clone())
            .prefer_socket(false)
            .pool_opts(None::<mysql_async::PoolOpts>);
        if cfg.tls == TlsMode::Require {
            let mut ssl = SslOpts::default();
            if let Some(ca) = &cfg.ca_file {
                ssl = ssl.with_root_certs(vec![ca.clone().into()]);
            }
            b = b.ssl_opts(Some(ssl));
        }
        Ok(MysqlCheck {
            cfg: cfg.clone(),
            opts: b.into(),
            conn: Reused::default(),
        })
    }

    async fn probe(&self, conn: &mut Conn) -> Result<Outcome, mysql_async::Error> {
        let started = tokio::time::Instant::now();
        conn.query_drop(&self.cfg.query).await?;
        let elapsed = started.elapsed();
        let target = self.cfg.endpoint.label();
        let mut o = Outcome::pass(format!("{target}: query ok"));
        o.observed = Some(Observed::millis(elapsed));
        if let Some(want) = self.cfg.read_only {
            let ro: Option<i64> = conn.query_first("SELECT @@global.read_only").await?;
            let is_ro = ro.unwrap_or(0) != 0;
            if is_ro != want {
                o.status = Status::Fail;
                o.reason = format!(
                    "{target}: read_only is {}, expected {want}",
                    if is_ro { "ON" } else { "OFF" }
                );
                return Ok(o);
            }
            o.reason = format!("{target}: read_only {}", if is_ro { "ON" } else { "OFF" });
        }
        if let Some(max) = self.cfg.max_replica_lag {
            let rows: Vec<Row> = match conn.query("SHOW REPLICA STATUS").await {
                Ok(r) => r,
                Err(mysql_async::Error::Server(_)) => conn.query("SHOW SLAVE STATUS").await?,
                Err(e) => return Err(e),
            };
            let Some(row) = rows.first() else {
                o.status = Status::Fail;
                o.reason = format!("{target}: not a replica (replica status is empty)");
                return Ok(o);
            };
            let lag = ["Seconds_Behind_Source", "Seconds_Behind_Master"]
                .iter()
                .find_map(|col| row.columns_ref().iter().position(|c| c.name_str() == *col))
                .map(|i| row.as_ref(i).cloned().unwrap_or(Value::NULL));
            match lag {
                Some(Value::NULL) | None => {
                    o.status = Status::Fail;
                    o.reason = format!("{target}: replication is not running (lag unknown)");
                }
                Some(v) => {
                    let secs: i64 = mysql_async::from_value_opt(v).unwrap_or(i64::MAX);
                    if secs as f64 > max.as_secs_f64() {
                        o.status = Status::Fail;
                        o.reason = format!("{target}: replica lag {secs}s > {}", humantime::format_duration(max));
                    } else {
                        o.reason = format!("{target}: replica, lag {secs}s");
                    }
                }
            }
        }
        Ok(o)
    }
}

/// A precise, secret-free reason.
pub fn describe(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("mysql: {}", s.message),
        mysql_async::Error::Io(io) => {
            super::transport::io_in_chain(io).unwrap_or_else(|| super::transport::words(&io.to_string()))
        }
        other => other.to_string(),
    }
}

#[async_trait]
impl Check for MysqlCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        let result = self
            .conn
            .run(
                |_: &Conn| true,
                async || Conn::new(self.opts.clone()).await,
                async |c: &mut Conn| self.probe(c).await,
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

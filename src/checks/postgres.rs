//! `kind = "postgres"`: connect, run a query (default `SELECT 1`), optionally check
//! the role (`pg_is_in_recovery()`) and a replica's replay lag.
//!
//! One connection is kept across rounds (`checks::reused`) and replaced when it
//! breaks or when a round was cut off mid-query. A connection cut off mid-query
//! is not left behind: its I/O task is aborted (tokio-postgres would otherwise
//! wait for the answer forever, one task and one socket per round while the
//! server hangs) and the server is asked to cancel the query, so backends do not
//! pile up on the server either.

use std::time::Duration;

use async_trait::async_trait;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls};

use super::reused::Reused;
use super::{Check, Observed, Outcome};
use crate::config::{PostgresConfig, Role, TlsMode};
use crate::status::Status;

/// The PostgreSQL check.
pub struct PostgresCheck {
    cfg: PostgresConfig,
    pg: tokio_postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    conn: Reused<PgConn>,
}

/// A client plus the task that drives its socket, which dies with it.
struct PgConn {
    client: Client,
    io: tokio::task::AbortHandle,
    /// Set while a query is out; a drop in that state means the round was cut off.
    busy: bool,
    /// For the cancel request, which opens a connection of its own.
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

/// How long a cut-off round's cancel request may take.
const CANCEL_WITHIN: Duration = Duration::from_secs(1);

impl Drop for PgConn {
    fn drop(&mut self) {
        self.io.abort();
        if !self.busy {
            return;
        }
        let token = self.client.cancel_token();
        let tls = self.tls.take();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = match tls {
                    None => tokio::time::timeout(CANCEL_WITHIN, token.cancel_query(NoTls)).await,
                    Some(tls) => tokio::time::timeout(CANCEL_WITHIN, token.cancel_query(tls)).await,
                };
            });
        }
    }
}

/// Replay lag in seconds: 0 when everything received has been replayed (an idle
/// primary does not make a caught-up replica look late).
const ROLE_QUERY: &str = "SELECT pg_is_in_recovery(), \
     CASE WHEN NOT pg_is_in_recovery() THEN NULL \
          WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
          ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END";

impl PostgresCheck {
    /// Builds the check (no connection yet).
    pub fn new(cfg: &PostgresConfig) -> Result<Self, String> {
        let e = &cfg.endpoint;
        let mut pg = tokio_postgres::Config::new();
        pg.host(&e.host).port(e.port).application_name("healthgate");
        if let Some(u) = &e.user {
            pg.user(u);
        }
        if let Some(db) = &e.database {
            pg.dbname(db);
        }
        if let Some(p) = &e.password {
            pg.password(p.0.expose());
        }
        pg.ssl_mode(match cfg.tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require => SslMode::Require,
        });
        let tls = match cfg.tls {
            TlsMode::Disable => None,
            _ => Some(tokio_postgres_rustls::MakeRustlsConnect::new(
                super::tls::client_config(cfg.ca_file.as_deref())?,
            )),
        };
        Ok(PostgresCheck {
            cfg: cfg.clone(),
            pg,
            tls,
            conn: Reused::default(),
        })
    }

    async fn connect(&self) -> Result<PgConn, tokio_postgres::Error> {
        let (client, io) = match &self.tls {
            None => {
                let (client, conn) = self.pg.connect(NoTls).await?;
                (client, tokio::spawn(conn).abort_handle())
            }
            Some(tls) => {
                let (client, conn) = self.pg.connect(tls.clone()).await?;
                (client, tokio::spawn(conn).abort_handle())
            }
        };
        Ok(PgConn {
            client,
            io,
            busy: false,
            tls: self.tls.clone(),
        })
    }

    async fn probe(&self, client: &Client) -> Result<Outcome, tokio_postgres::Error> {
        let started = tokio::time::Instant::now();
        client.simple_query(&self.cfg.query).await?;
        let elapsed = started.elapsed();
        let target = self.cfg.endpoint.label();
        let mut o = Outcome::pass(format!("{target}: query ok"));
        o.observed = Some(Observed::millis(elapsed));
        if self.cfg.expect.is_none() && self.cfg.max_replication_lag.is_none() {
            return Ok(o);
        }
        let row = client.query_one(ROLE_QUERY, &[]).await?;
        let in_recovery: bool = row.get(0);
        let lag: Option<f64> = row.get(1);
        let role = if in_recovery { Role::Replica } else { Role::Primary };
        let word = if in_recovery { "replica" } else { "primary" };
        o.reason = format!("{target}: {word}");
        if let Some(want) = self.cfg.expect {
            if want != role {
                o.status = Status::Fail;
                let want_word = if want == Role::Primary { "primary" } else { "replica" };
                o.reason = format!("{target}: expected a {want_word}, the server is a {word}");
            }
        }
        if let (Some(max), true) = (self.cfg.max_replication_lag, in_recovery) {
            match lag {
                Some(l) if l > max.as_secs_f64() => {
                    o.status = Status::Fail;
                    o.reason = format!("{target}: replica lag {:.0}s > {}", l, humantime::format_duration(max));
                }
                Some(l) => o.reason = format!("{target}: replica, lag {:.1}s", l),
                None => {
                    o.status = Status::Fail;
                    o.reason = format!("{target}: replica has not replayed anything yet (lag unknown)");
                }
            }
        }
        Ok(o)
    }
}

/// A precise, secret-free reason: the server's message for database errors
/// (`password authentication failed for user "app"`), the I/O cause otherwise.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("postgres: {}", db.message());
    }
    if let Some(io) = super::transport::io_in_chain(e) {
        return io;
    }
    if e.is_closed() {
        return "the connection was closed".into();
    }
    e.to_string()
}

#[async_trait]
impl Check for PostgresCheck {
    async fn run(&self, _budget: Duration) -> Outcome {
        let result = self
            .conn
            .run(
                |c: &PgConn| !c.client.is_closed(),
                async || self.connect().await,
                async |c: &mut PgConn| {
                    c.busy = true;
                    let result = self.probe(&c.client).await;
                    c.busy = false;
                    result
                },
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

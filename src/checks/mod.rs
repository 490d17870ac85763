//! Checks: one small async trait, one module per kind.
//!
//! A check performs exactly one attempt against its dependency and describes what it
//! saw. It never sleeps, never retries and never enforces its own deadline: the
//! [`crate::scheduler`] owns time and drops the future when the timeout passes.

pub mod dns;
pub mod elasticsearch;
pub mod exec;
pub mod grpc;
mod h2;
pub mod http;
pub mod memcached;
pub mod mysql;
pub mod postgres;
pub mod redis;
mod reused;
pub mod tcp;
mod tls;
pub mod transport;

pub(crate) mod body;

use std::time::Duration;

use async_trait::async_trait;

use crate::config::{CheckConfig, CheckKind};
use crate::status::Status;

pub use body::{read_capped, BodyError};

/// A named numeric fact observed by a check, exported as a metric.
///
/// The set is closed so metric label values stay bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fact {
    /// Cluster colour: 0 green, 1 yellow, 2 red.
    EsClusterStatus,
    /// Cluster health `number_of_nodes`.
    EsNodes,
    /// Cluster health `number_of_data_nodes`.
    EsDataNodes,
    /// Cluster health `active_shards`.
    EsActiveShards,
    /// Cluster health `active_primary_shards`.
    EsActivePrimaryShards,
    /// Cluster health `relocating_shards`.
    EsRelocatingShards,
    /// Cluster health `initializing_shards`.
    EsInitializingShards,
    /// Cluster health `unassigned_shards`.
    EsUnassignedShards,
    /// Cluster health `delayed_unassigned_shards`.
    EsDelayedUnassignedShards,
    /// Cluster health `active_shards_percent_as_number`.
    EsActiveShardsPercent,
    /// Cluster health `number_of_pending_tasks`.
    EsPendingTasks,
    /// Cluster health `task_max_waiting_in_queue_millis`, in seconds.
    EsMaxTaskWaitSeconds,
    /// CCR: operations the follower is behind its leader (max over shards); per follower.
    EsCcrLagOperations,
    /// CCR: seconds since the follower last read from the leader (max over shards).
    EsCcrTimeSinceLastReadSeconds,
    /// CCR: read exceptions currently reported (sum over shards).
    EsCcrReadExceptions,
    /// CCR: 1 when a shard follow task stopped with a fatal exception.
    EsCcrFatalException,
    /// Health report: overall colour, 0 green, 1 yellow, 2 red, 3 unknown.
    EsHealthReportStatus,
    /// Health report: one indicator's colour (same codes); per indicator.
    EsHealthIndicatorStatus,
    /// Index health: one index's colour, 0 green, 1 yellow, 2 red (missing); per index.
    EsIndexStatus,
    /// 1 when an elected master was found, 0 when not.
    EsMasterPresent,
    /// DR failback gate: 0 open, 1 open but unprotected, 2 closed, 3 latched.
    EsDrGate,
    /// DR: a write index's role on this cluster (0 missing, 1 leader, 2 following, 3 paused, 4 stopped); per index.
    EsDrLocalRole,
    /// DR: the same index's role on the secondary; per index.
    EsDrPeerRole,
    /// DR: operations the secondary's follower is behind this cluster; per index.
    EsDrPeerLagOperations,
    /// DR: operations this cluster's follower (being re-seeded) is behind the secondary; per index.
    EsDrReseedLagOperations,
    /// HTTP status code of the answer (http check).
    HttpStatus,
}

/// One numeric observation, optionally about a named subject (a follower index,
/// an index, a health indicator). Subjects come from configuration or a closed
/// list, so metric labels stay bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// What was measured.
    pub fact: Fact,
    /// About what, when the fact is per subject.
    pub subject: Option<String>,
    /// The value.
    pub value: f64,
}

/// The primary observed value reported in the health+json body.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// A word, such as a cluster colour (shared: every snapshot until the next
    /// result points at the same text).
    Text(std::sync::Arc<str>),
    /// A number with a unit (`ms`, `nodes`, ...).
    Number(f64, &'static str),
}

impl Observed {
    /// A duration in milliseconds, rounded to a tenth: the observed value of
    /// every kind that has nothing better to report than how long it took.
    pub fn millis(d: Duration) -> Observed {
        Observed::Number((d.as_secs_f64() * 10_000.0).round() / 10.0, "ms")
    }
}

/// What one run of a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The verdict.
    pub status: Status,
    /// A short human reason; empty when there is nothing to say beyond the status.
    pub reason: String,
    /// The value shown as `observedValue`, if meaningful.
    pub observed: Option<Observed>,
    /// Numeric facts for metrics.
    pub facts: Vec<Measure>,
    /// How the run ended.
    pub end: RunEnd,
    /// The targets a request was sent to this round: bit `i` for target `i`
    /// of `CheckKind::targets` (set by the scheduler, from [`Check::attempts`]).
    pub attempted: u64,
}

/// How a run ended, for the `outcome` label of the runs counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The check returned an outcome.
    Completed,
    /// The scheduler dropped it at its timeout.
    TimedOut,
    /// The check panicked (a bug); the scheduler caught it.
    Panicked,
}

impl Outcome {
    /// The `outcome` label: `pass`, `warn`, `fail`, `timeout` or `error`.
    pub fn label(&self) -> &'static str {
        match self.end {
            RunEnd::Completed => self.status.as_str(),
            RunEnd::TimedOut => "timeout",
            RunEnd::Panicked => "error",
        }
    }
}

impl Outcome {
    /// A passing outcome with a reason.
    pub fn pass(reason: impl Into<String>) -> Self {
        Self::new(Status::Pass, reason)
    }

    /// A warning outcome with a reason.
    pub fn warn(reason: impl Into<String>) -> Self {
        Self::new(Status::Warn, reason)
    }

    /// A failing outcome with a reason.
    pub fn fail(reason: impl Into<String>) -> Self {
        Self::new(Status::Fail, reason)
    }

    /// An outcome with the given status and reason.
    pub fn new(status: Status, reason: impl Into<String>) -> Self {
        Outcome {
            status,
            reason: reason.into(),
            observed: None,
            facts: Vec::new(),
            end: RunEnd::Completed,
            attempted: 0,
        }
    }

    /// The outcome the scheduler records when a run exceeds its timeout.
    pub fn timeout(after: Duration) -> Self {
        let mut o = Self::fail(format!("timed out after {}", humantime::format_duration(after)));
        o.end = RunEnd::TimedOut;
        o
    }

    /// The outcome the scheduler records when a check panics.
    pub fn panicked() -> Self {
        let mut o = Self::fail("internal error: the check panicked (see the log)");
        o.end = RunEnd::Panicked;
        o
    }

    /// Records a fact.
    pub fn measure(&mut self, fact: Fact, value: f64) {
        self.facts.push(Measure {
            fact,
            subject: None,
            value,
        });
    }

    /// Records a fact about a subject.
    pub fn measure_of(&mut self, fact: Fact, subject: &str, value: f64) {
        self.facts.push(Measure {
            fact,
            subject: Some(subject.to_string()),
            value,
        });
    }

    /// Sets the observed value.
    pub fn with_observed(mut self, observed: Observed) -> Self {
        self.observed = Some(observed);
        self
    }
}

/// One dependency check. Implementations perform a single attempt.
#[async_trait]
pub trait Check: Send + Sync + 'static {
    /// Runs once. `budget` is the time the scheduler will allow before dropping the
    /// future; a check with several targets may use it to share time between them.
    async fn run(&self, budget: Duration) -> Outcome;

    /// The measurement name used in `name:measurement` keys of the health body.
    fn measurement(&self) -> &'static str;

    /// The component type of the health body (`datastore`, `component`, `system`).
    fn component_type(&self) -> &'static str {
        "component"
    }

    /// For a check with several targets (Elasticsearch nodes, tried in turn):
    /// the record of which it sent a request to in the current round. `None`:
    /// one request per round, to its one target.
    fn attempts(&self) -> Option<&Attempts> {
        None
    }
}

/// Which targets a check has sent a request to in the current round, marked as
/// the requests leave: a round cut off by its timeout still counts what it sent.
#[derive(Debug, Default)]
pub struct Attempts(std::sync::atomic::AtomicU64);

impl Attempts {
    /// Target `i` was sent a request (targets beyond the 64th are not counted).
    pub fn mark(&self, i: usize) {
        if i < 64 {
            self.0.fetch_or(1 << i, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The round's targets, cleared for the next round.
    pub fn take(&self) -> u64 {
        self.0.swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Errors while building a check from valid configuration (e.g. a CA file that is
/// not a certificate).
#[derive(Debug, thiserror::Error)]
#[error("checks[{index}] ({name}): {message}")]
pub struct BuildError {
    /// Position in the `checks` list.
    pub index: usize,
    /// The check's name.
    pub name: String,
    /// What went wrong.
    pub message: String,
}

/// Builds the runnable check for one configuration entry; `gates` keeps the
/// failback gates' memory across rebuilds.
pub fn build(
    index: usize,
    cfg: &CheckConfig,
    gates: &elasticsearch::failback::gate::Gates,
) -> Result<Box<dyn Check>, BuildError> {
    let err = |message: String| BuildError {
        index,
        name: cfg.name.clone(),
        message,
    };
    Ok(match &cfg.kind {
        CheckKind::Elasticsearch(es) if es.mode == crate::config::EsMode::Failback => {
            Box::new(elasticsearch::failback::FailbackCheck::new(&cfg.name, es, gates).map_err(err)?)
        }
        CheckKind::Elasticsearch(es) => Box::new(elasticsearch::ElasticsearchCheck::new(es).map_err(err)?),
        CheckKind::Http(h) => Box::new(http::HttpCheck::new(h).map_err(err)?),
        CheckKind::Tcp(t) => Box::new(tcp::TcpCheck::new(t)),
        CheckKind::Postgres(p) => Box::new(postgres::PostgresCheck::new(p).map_err(err)?),
        CheckKind::Mysql(m) => Box::new(mysql::MysqlCheck::new(m).map_err(err)?),
        CheckKind::Redis(r) => Box::new(redis::RedisCheck::new(r).map_err(err)?),
        CheckKind::Memcached(m) => Box::new(memcached::MemcachedCheck::new(m)),
        CheckKind::Dns(d) => Box::new(dns::DnsCheck::new(d)),
        CheckKind::Exec(e) => Box::new(exec::ExecCheck::new(e)),
        CheckKind::Grpc(g) => Box::new(grpc::GrpcCheck::new(g).map_err(err)?),
    })
}

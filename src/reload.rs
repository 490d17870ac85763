//! Configuration reload (SIGHUP, `POST /admin/reload`).
//!
//! The [`Supervisor`] owns the running checks. A reload re-reads the file; an
//! invalid file is rejected with every problem logged and the running
//! configuration stays. Otherwise checks whose definition is unchanged keep their
//! task, id and state (results, counters, hysteresis); changed and added checks
//! start `unknown`; removed ones stop and leave `/healthz` and `/metrics`. Status
//! codes and agent replies apply at once; listener, token and limit settings need
//! a restart, and the log says which.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::AbortHandle;

use crate::checks::{self, BuildError, Check};
use crate::config::{CheckConfig, CheckKind, Config, ConfigError, ServerConfig};
use crate::publisher::CheckId;
use crate::publisher::{CheckInfo, Event};
use crate::scheduler::spawn_one;
use crate::snapshot::Presentation;

/// What a successful reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reloaded {
    /// Checks whose definition was unchanged: same task, state and counters.
    pub kept: usize,
    /// New or changed checks, started `unknown`.
    pub started: usize,
    /// Checks no longer in the file, stopped.
    pub stopped: usize,
}

impl std::fmt::Display for Reloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "reloaded: {} checks kept, {} started, {} stopped",
            self.kept, self.started, self.stopped
        )
    }
}

/// Why a reload was rejected; the running configuration stays.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// Started from an inline configuration (tests, the demo).
    #[error("no configuration file to reload (started from an inline configuration)")]
    NoFile,
    /// The file is unreadable or invalid: every problem, one per line.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// A new or changed check could not be built (e.g. a CA file that is not a certificate).
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// A reload request from the admin API: the reply channel for its result.
pub type ReloadRequest = tokio::sync::oneshot::Sender<Result<Reloaded, ReloadError>>;

/// Applies reloads until both sources close: SIGHUP, and requests from the
/// admin API (answered on their reply channel). Dropping the returned future's
/// task drops the supervisor, which stops every check.
pub async fn serve(mut supervisor: Supervisor, mut requests: mpsc::Receiver<ReloadRequest>) {
    let mut hup = crate::shutdown::hangups();
    loop {
        let reply = tokio::select! {
            Some(()) = hup.recv() => None,
            Some(reply) = requests.recv() => Some(reply),
            else => return,
        };
        tracing::info!("reloading the configuration");
        let result = supervisor.reload().await;
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }
}

/// The static facts the publisher needs about a check.
pub fn check_info(c: &CheckConfig, check: &dyn Check) -> CheckInfo {
    CheckInfo {
        name: c.name.as_str().into(),
        kind: c.kind.name(),
        critical: c.critical,
        shared: c.scope == crate::config::Scope::Shared,
        measurement: check.measurement(),
        component_type: check.component_type(),
        max_age: c.schedule.max_age,
        expected_nodes: match &c.kind {
            CheckKind::Elasticsearch(es) => es.min_nodes,
            _ => None,
        },
        targets: c.kind.targets(),
    }
}

/// One entry of a reload plan: the running entry it keeps (if unchanged), its
/// configuration, and the freshly built check (if new or changed).
type Step = (Option<usize>, CheckConfig, Option<Arc<dyn Check>>);

struct Running {
    id: CheckId,
    cfg: CheckConfig,
    info: CheckInfo,
    task: AbortHandle,
}

/// Owns the check tasks; stops them all when dropped.
pub struct Supervisor {
    path: Option<PathBuf>,
    server: ServerConfig,
    fleet: Option<crate::config::FleetConfig>,
    notify: Vec<crate::config::NotifyConfig>,
    history: crate::config::HistoryConfig,
    running: Vec<Running>,
    next_id: CheckId,
    events: mpsc::Sender<Event>,
    permits: Arc<Semaphore>,
    gates: checks::elasticsearch::failback::gate::Gates,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for r in &self.running {
            r.task.abort();
        }
    }
}

impl Supervisor {
    /// Starts every check of `config` (built already, in order), with ids 0..n.
    /// `gates` is the failback gates' registry the checks were built with.
    pub fn start(
        config: &Config,
        built: Vec<Arc<dyn Check>>,
        events: mpsc::Sender<Event>,
        gates: checks::elasticsearch::failback::gate::Gates,
    ) -> Supervisor {
        let permits = Arc::new(Semaphore::new(config.server.max_concurrent_checks));
        let running: Vec<Running> = config
            .checks
            .iter()
            .zip(built)
            .enumerate()
            .map(|(i, (cfg, check))| Running {
                id: i as CheckId,
                info: check_info(cfg, check.as_ref()),
                task: spawn_one(i as CheckId, check, cfg.schedule, events.clone(), permits.clone()),
                cfg: cfg.clone(),
            })
            .collect();
        Supervisor {
            path: config.path.clone(),
            server: config.server.clone(),
            fleet: config.fleet.clone(),
            notify: config.notify.clone(),
            history: config.history.clone(),
            next_id: running.len() as CheckId,
            running,
            events,
            permits,
            gates,
        }
    }

    /// Re-reads the configuration file and applies it; what changed, or every
    /// problem, is returned (and logged).
    pub async fn reload(&mut self) -> Result<Reloaded, ReloadError> {
        let Some(path) = self.path.clone() else {
            return Err(ReloadError::NoFile);
        };
        let config = match Config::load(&path) {
            Ok(c) => c,
            Err(e) => {
                for line in e.to_string().lines() {
                    tracing::warn!("reload rejected, the running configuration stays: {}", line.trim());
                }
                return Err(e.into());
            }
        };
        // Build every new or changed check first: a failure rejects the whole reload.
        let mut plan: Vec<Step> = Vec::new();
        for (i, cfg) in config.checks.iter().enumerate() {
            let same = self.running.iter().position(|r| r.cfg == *cfg);
            let built = match same {
                Some(_) => None,
                None => match checks::build(i, cfg, &self.gates) {
                    Ok(c) => Some(Arc::from(c)),
                    Err(e) => {
                        tracing::warn!("reload rejected, the running configuration stays: {e}");
                        return Err(e.into());
                    }
                },
            };
            plan.push((same, cfg.clone(), built));
        }
        let mut old: Vec<Option<Running>> = std::mem::take(&mut self.running).into_iter().map(Some).collect();
        let (mut kept, mut added) = (0, 0);
        for (same, cfg, built) in plan {
            let next = match (same.and_then(|i| old[i].take()), built) {
                (Some(r), _) => {
                    kept += 1;
                    r
                }
                (None, Some(check)) => {
                    added += 1;
                    let id = self.next_id;
                    self.next_id += 1;
                    Running {
                        id,
                        info: check_info(&cfg, check.as_ref()),
                        task: spawn_one(id, check, cfg.schedule, self.events.clone(), self.permits.clone()),
                        cfg,
                    }
                }
                // Names are unique, so an unchanged check matches one running entry.
                (None, None) => continue,
            };
            self.running.push(next);
        }
        let removed = old.iter().flatten().count();
        for r in old.into_iter().flatten() {
            r.task.abort();
        }
        let checks = self
            .running
            .iter()
            .map(|r| (r.id, r.info.clone(), r.cfg.schedule))
            .collect();
        let how = Presentation {
            codes: config.server.status_codes,
            agent: config.server.agent_replies.clone(),
        };
        let _ = self.events.send(Event::Reconfigure { checks, how }).await;
        for key in restart_only_changes(&self.server, &config.server) {
            tracing::warn!("reload: server.{key} changed; restart healthgate to apply it");
        }
        if self.notify != config.notify {
            tracing::warn!("reload: [[notify]] changed; restart healthgate to apply it (the running webhooks stay)");
        }
        if self.history != config.history {
            tracing::warn!(
                "reload: [history] changed; restart healthgate to apply it (the running history settings stay)"
            );
        }
        if self.fleet != config.fleet {
            tracing::warn!("reload: [fleet] changed; restart healthgate to apply it (the running fleet settings stay)");
        }
        let done = Reloaded {
            kept,
            started: added,
            stopped: removed,
        };
        tracing::info!("{done}");
        Ok(done)
    }
}

/// `[server]` settings a running process cannot change.
fn restart_only_changes(old: &ServerConfig, new: &ServerConfig) -> Vec<&'static str> {
    let mut out = Vec::new();
    let secret_eq = |a: &Option<crate::secret::Secret>, b: &Option<crate::secret::Secret>| match (a, b) {
        (Some(x), Some(y)) => x.expose() == y.expose(),
        (None, None) => true,
        _ => false,
    };
    if old.listen != new.listen {
        out.push("listen");
    }
    if old.agent_listen != new.agent_listen {
        out.push("agent_listen");
    }
    if old.grpc_listen != new.grpc_listen || old.grpc_max_streams != new.grpc_max_streams {
        out.push("grpc_listen / grpc_max_streams");
    }
    if old.show_details != new.show_details || !secret_eq(&old.details_token, &new.details_token) {
        out.push("show_details / details_token");
    }
    if !secret_eq(&old.admin_token, &new.admin_token) {
        out.push("admin_token");
    }
    if old.max_connections != new.max_connections || old.header_read_timeout != new.header_read_timeout {
        out.push("max_connections / header_read_timeout");
    }
    if old.max_concurrent_checks != new.max_concurrent_checks {
        out.push("max_concurrent_checks");
    }
    if old.shutdown_grace != new.shutdown_grace {
        out.push("shutdown_grace");
    }
    // The files of [server.tls] are read again on SIGHUP; its settings are not.
    if old.tls.is_some() != new.tls.is_some()
        || old
            .tls
            .as_ref()
            .map(|t| (&t.cert_file, &t.key_file, &t.client_ca_file, t.client_auth))
            != new
                .tls
                .as_ref()
                .map(|t| (&t.cert_file, &t.key_file, &t.client_ca_file, t.client_auth))
    {
        out.push("tls (paths and client_auth; the files themselves are reloaded)");
    }
    if old.auth != new.auth {
        out.push("auth");
    }
    out
}

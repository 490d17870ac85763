//! Build (configuration → bound listener, checks, publisher) separate from run
//! (serve until shutdown), so tests can build on port 0 and learn the address.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::checks::{self, Check};
use crate::config::{Config, Schedule};
use crate::http::{router, AdminState, AppState, DetailsPolicy};
use crate::metrics::Metrics;
use crate::publisher::{CheckInfo, Event, Publisher, SharedSnapshot};
use crate::snapshot::Presentation;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A check could not be built.
    #[error(transparent)]
    Check(#[from] checks::BuildError),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source} (set [server] listen or HEALTHGATE__SERVER__LISTEN)")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A built application, ready to run.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    agent: Option<TcpListener>,
    state: AppState,
    publisher: Publisher,
    checks: Vec<(Arc<dyn Check>, Schedule)>,
    max_in_flight: usize,
    grace: Duration,
    max_connections: usize,
    header_read_timeout: Duration,
    events: mpsc::Sender<Event>,
    events_rx: mpsc::Receiver<Event>,
}

impl App {
    /// Builds checks, publisher and listener from a validated configuration.
    pub async fn build(config: Config) -> Result<App, AppError> {
        let mut parts = Vec::new();
        let mut runnable = Vec::new();
        for (i, c) in config.checks.iter().enumerate() {
            let check: Arc<dyn Check> = Arc::from(checks::build(i, c)?);
            if let crate::config::CheckKind::Elasticsearch(es) = &c.kind {
                if es.tls_insecure_skip_verify {
                    tracing::warn!(check = %c.name, "tls_insecure_skip_verify is on: certificates are not verified");
                }
            }
            parts.push((
                c.clone(),
                CheckInfo {
                    name: c.name.clone(),
                    critical: c.critical,
                    measurement: check.measurement(),
                    component_type: check.component_type(),
                    max_age: c.schedule.max_age,
                    expected_nodes: match &c.kind {
                        crate::config::CheckKind::Elasticsearch(es) => es.min_nodes,
                        _ => None,
                    },
                },
            ));
            runnable.push((check, c.schedule));
        }
        let metrics = Arc::new(Metrics::new());
        let how = Presentation {
            codes: config.server.status_codes,
            agent: config.server.agent_replies.clone(),
        };
        let (publisher, snapshot) = Publisher::new(&parts, how, config.redactor.clone(), metrics.clone());
        let addr = config.server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| AppError::Listen { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| AppError::Listen { addr, source })?;
        let agent = match config.server.agent_listen {
            Some(addr) => {
                let l = TcpListener::bind(addr)
                    .await
                    .map_err(|source| AppError::Listen { addr, source })?;
                Some(l)
            }
            None => None,
        };
        let (events, events_rx) = mpsc::channel(1024);
        Ok(App {
            listener,
            addr,
            agent,
            state: AppState {
                admin: config.server.admin_token.clone().map(|token| AdminState {
                    token,
                    events: events.clone(),
                }),
                snapshot,
                metrics,
                details: DetailsPolicy {
                    mode: config.server.show_details,
                    token: config.server.details_token.clone(),
                },
            },
            publisher,
            checks: runnable,
            max_in_flight: config.server.max_concurrent_checks,
            grace: config.server.shutdown_grace,
            max_connections: config.server.max_connections,
            header_read_timeout: config.server.header_read_timeout,
            events,
            events_rx,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The agent-check listener's address, when configured.
    pub fn agent_addr(&self) -> Option<SocketAddr> {
        self.agent.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The published snapshot handle.
    pub fn snapshot(&self) -> SharedSnapshot {
        self.state.snapshot.clone()
    }

    /// Runs until `shutdown` completes, then drains: readiness fails at once,
    /// requests are served for the grace period, then the server stops.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let App {
            listener,
            state,
            publisher,
            checks,
            max_in_flight,
            grace,
            max_connections,
            header_read_timeout,
            events,
            events_rx,
            agent,
            ..
        } = self;
        let agent_task = agent.map(|l| tokio::spawn(crate::agent::serve(l, state.snapshot.clone())));
        let publisher_task = tokio::spawn(publisher.run(events_rx));
        let mut schedulers = crate::scheduler::spawn_all(checks, events.clone(), max_in_flight);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(state);
        let limits = crate::http::server::Limits {
            max_connections,
            header_read_timeout,
        };
        let server = tokio::spawn(crate::http::server::serve(
            listener,
            app,
            limits,
            async {
                let _ = stop_rx.await;
            },
            Duration::from_secs(1),
        ));
        shutdown.await;
        let _ = events.send(Event::Drain).await;
        tracing::info!(grace = %humantime::format_duration(grace), "shutdown requested; serving with readiness failing for the grace period");
        tokio::time::sleep(grace).await;
        let _ = stop_tx.send(());
        // Idle keep-alive connections close at once; a stuck client gets one second.
        let result = server.await.map_err(std::io::Error::other);
        schedulers.abort_all();
        if let Some(t) = agent_task {
            t.abort();
        }
        drop(events);
        publisher_task.abort();
        tracing::info!("stopped");
        result
    }
}

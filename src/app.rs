//! Build (configuration → bound listener, checks, publisher) separate from run
//! (serve until shutdown), so tests can build on port 0 and learn the address.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::checks::elasticsearch::failback::gate::Gates;
use crate::checks::{self, Check};
use crate::config::Config;
use crate::http::{AdminState, AppState, DetailsPolicy};
use crate::metrics::Metrics;
use crate::publisher::{Event, Publisher};
use crate::reload::ReloadRequest;
use crate::snapshot::Presentation;
use crate::snapshot::SharedSnapshot;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A check could not be built.
    #[error(transparent)]
    Check(#[from] checks::BuildError),
    /// A webhook could not be set up.
    #[error(transparent)]
    Notify(#[from] crate::notify::NotifyError),
    /// The fleet reader could not be set up.
    #[error("fleet: {0}")]
    Fleet(#[from] crate::fleet::FleetError),
    /// TLS on the listener could not be set up.
    #[error(transparent)]
    Tls(#[from] crate::http::tls::TlsError),
    /// `[server.auth]` could not be set up.
    #[error(transparent)]
    Auth(#[from] crate::http::auth::AuthError),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {error} (set [server] listen or HEALTHGATE__SERVER__LISTEN)")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The OS error (in the message, not a separate source: it would
        /// be printed twice).
        error: std::io::Error,
    },
}

/// A built application, ready to run.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    agent: Option<TcpListener>,
    grpc: Option<TcpListener>,
    state: AppState,
    publisher: Publisher,
    config: Config,
    built: Vec<Arc<dyn Check>>,
    reloads: mpsc::Receiver<ReloadRequest>,
    grace: Duration,
    max_connections: usize,
    header_read_timeout: Duration,
    events: mpsc::Sender<Event>,
    events_rx: mpsc::Receiver<Event>,
    gates: Gates,
    fleet: Option<crate::fleet::Poller>,
    notifiers: Vec<crate::notify::Notifier>,
    tls: Option<Arc<crate::http::tls::Tls>>,
}

impl App {
    /// Builds checks, publisher and listener from a validated configuration.
    pub async fn build(config: Config) -> Result<App, AppError> {
        let mut parts = Vec::new();
        let mut built = Vec::new();
        let gates = Gates::default();
        for (i, c) in config.checks.iter().enumerate() {
            let check: Arc<dyn Check> = Arc::from(checks::build(i, c, &gates)?);
            if let crate::config::CheckKind::Elasticsearch(es) = &c.kind {
                if es.tls_insecure_skip_verify {
                    tracing::warn!(check = %c.name, "tls_insecure_skip_verify is on: certificates are not verified");
                }
            }
            parts.push((c.clone(), crate::reload::check_info(c, check.as_ref())));
            built.push(check);
        }
        let metrics = Arc::new(Metrics::new());
        let how = Presentation {
            codes: config.server.status_codes,
            agent: config.server.agent_replies.clone(),
        };
        let (mut publisher, snapshot) = Publisher::new(&parts, how, config.redactor.clone(), metrics.clone());
        if let Some(path) = &config.history.file {
            match crate::history::file::load(path, crate::history::unix_ms(std::time::SystemTime::now())) {
                Ok(saved) => publisher.restore_history(saved),
                Err(e) => tracing::warn!(error = %e, "history file not used"),
            }
        }
        let me = Arc::new(crate::fleet::Identity::new(
            config.fleet.as_ref().and_then(|f| f.instance.as_deref()),
        ));
        let (outbox, notifiers) = crate::notify::build(&config.notify, &me.instance, &metrics)?;
        publisher.set_outbox(outbox);
        let tls = config.server.tls.clone().map(crate::http::tls::Tls::new).transpose()?;
        let auth = config
            .server
            .auth
            .as_ref()
            .map(crate::http::auth::Auth::new)
            .transpose()?;
        let addr = config.server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|error| AppError::Listen { addr, error })?;
        let addr = listener
            .local_addr()
            .map_err(|error| AppError::Listen { addr, error })?;
        let agent = match config.server.agent_listen {
            Some(addr) => {
                let l = TcpListener::bind(addr)
                    .await
                    .map_err(|error| AppError::Listen { addr, error })?;
                Some(l)
            }
            None => None,
        };
        let grpc = match config.server.grpc_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|error| AppError::Listen { addr, error })?,
            ),
            None => None,
        };
        let (events, events_rx) = mpsc::channel(1024);
        let (reload_tx, reloads) = mpsc::channel(4);
        let (fleet, fleet_view) = match &config.fleet {
            Some(cfg) => {
                let (poller, view) = crate::fleet::Poller::new(crate::fleet::PollerParts {
                    cfg: cfg.clone(),
                    me: me.clone(),
                    listen: addr,
                    aggregator: config.checks.is_empty(),
                    snapshot: snapshot.clone(),
                    events: events.clone(),
                    metrics: metrics.clone(),
                    codes: config.server.status_codes,
                })?;
                (Some(poller), Some(view))
            }
            None => (None, None),
        };
        Ok(App {
            listener,
            addr,
            agent,
            grpc,
            state: AppState {
                admin: config.server.admin_token.clone().map(|token| AdminState {
                    token,
                    events: events.clone(),
                    reload: reload_tx.clone(),
                }),
                snapshot,
                metrics,
                gates: gates.clone(),
                fleet: crate::fleet::FleetHandle { me, view: fleet_view },
                pages: Default::default(),
                auth,
                details: DetailsPolicy {
                    mode: config.server.show_details,
                    token: config.server.details_token.clone(),
                },
            },
            publisher,
            built,
            reloads,
            grace: config.server.shutdown_grace,
            max_connections: config.server.max_connections,
            header_read_timeout: config.server.header_read_timeout,
            config,
            events,
            events_rx,
            gates,
            fleet,
            notifiers,
            tls,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The gRPC listener's address, when configured.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc.as_ref().and_then(|l| l.local_addr().ok())
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
            config,
            built,
            reloads,
            grace,
            max_connections,
            header_read_timeout,
            events,
            events_rx,
            agent,
            grpc,
            gates,
            fleet,
            notifiers,
            tls,
            ..
        } = self;
        let publisher_task = tokio::spawn(publisher.run(events_rx));
        let notify_tasks: Vec<_> = notifiers.into_iter().map(|n| tokio::spawn(n.run())).collect();
        let saver = config
            .history
            .file
            .clone()
            .map(|path| crate::persist::Saver::new(path, state.snapshot.clone()));
        let snapshot = state.snapshot.clone();
        let saver_task = saver.map(|s| tokio::spawn(s.run(config.history.save_interval)));
        let fleet_task = fleet.map(|poller| tokio::spawn(poller.run()));
        let supervisor = crate::reload::Supervisor::start(&config, built, events.clone(), gates);
        let reloader = tokio::spawn(crate::reload::serve(supervisor, reloads));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let limits = crate::http::server::Limits {
            max_connections,
            header_read_timeout,
        };
        let listeners = crate::http::thread::Listeners {
            http: listener,
            agent,
            tls,
            grpc: grpc.map(|l| (l, config.server.grpc_max_streams)),
        };
        let server = crate::http::thread::spawn(listeners, state, limits, stop_rx, Duration::from_secs(1))?;
        let mut server = std::pin::pin!(server);
        let stopped_early = tokio::select! {
            () = shutdown => false,
            () = &mut server => true,
        };
        if stopped_early {
            // Only a bug gets here; exiting lets a supervisor restart us.
            reloader.abort();
            publisher_task.abort();
            for t in &notify_tasks {
                t.abort();
            }
            if let Some(t) = &fleet_task {
                t.abort();
            }
            return Err(std::io::Error::other("the probe thread stopped unexpectedly"));
        }
        let _ = events.send(Event::Drain).await;
        tracing::info!(grace = %humantime::format_duration(grace), "shutdown requested; serving with readiness failing for the grace period");
        tokio::time::sleep(grace).await;
        let _ = stop_tx.send(());
        // Idle keep-alive connections close at once; a stuck client gets one second.
        server.await;
        if let Some(t) = fleet_task {
            t.abort();
        }
        // Dropping the supervisor stops every check.
        reloader.abort();
        let _ = reloader.await;
        drop(events);
        publisher_task.abort();
        for t in notify_tasks {
            t.abort();
        }
        if let Some(t) = saver_task {
            t.abort();
            if let Some(path) = config.history.file.clone() {
                crate::persist::Saver::new(path, snapshot).save().await;
            }
        }
        tracing::info!("stopped");
        Ok(())
    }
}

//! The gRPC health service (`grpc.health.v1`: `Check`, `Watch`, `List`) on
//! `server.grpc_listen`, answered from the snapshot like every probe.
//!
//! Service `""` is the aggregate with exactly `/healthz`'s semantics:
//! SERVING whenever `/healthz` would answer 2xx (warn included), NOT_SERVING
//! otherwise (a failing check, draining, maintenance, the fleet guard's
//! verdict). Each check's name is a service, SERVING whenever
//! `/healthz/{check}` would answer 2xx. The code is read from the snapshot's
//! own prepared answers, so the two protocols cannot disagree.
//!
//! `Watch` sends the status now, then only changes: every stream waits on one
//! change feed (`changes`, a task that looks at the snapshot's generation
//! every 50 ms), never on a timer of its own. A service not known answers
//! SERVICE_UNKNOWN and the stream stays open, so it follows a check added by
//! a reload. At most `grpc_max_streams` watches are open at once; one more is
//! refused with RESOURCE_EXHAUSTED. A stream is polled only when the client
//! reads: a client that never reads stalls its own stream at HTTP/2's flow
//! control window, and nothing queues on this side. Differences from
//! `tonic-health`: `List` exists, an unknown service's `Watch` is
//! SERVICE_UNKNOWN (not NOT_FOUND), and `""` is never registered by hand: it
//! is the aggregate.

mod server;

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::snapshot::{Format, SharedSnapshot, Snapshot};

pub use server::serve;

pub use crate::proto::health as pb;

use pb::health_check_response::ServingStatus;
use pb::health_server::Health;
use pb::{HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse};

/// `List` answers at most this many services (the protocol's limit).
const LIST_MAX: usize = 100;

/// What a service is now, by `/healthz`'s rules; `None` when not known.
pub fn status_of(snap: &Snapshot, service: &str) -> Option<ServingStatus> {
    let code = if service.is_empty() {
        snap.aggregate(Format::Text, false).status
    } else {
        snap.check(service, Format::Text, false)?.status
    };
    Some(if code.is_success() {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    })
}

/// A change feed: the snapshot's generation, sent when it changes.
pub fn changes(snapshot: SharedSnapshot) -> watch::Receiver<u64> {
    let (tx, rx) = watch::channel(snapshot.load().generation);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let g = snapshot.load().generation;
            if *tx.borrow() != g && tx.send(g).is_err() {
                return;
            }
            if tx.is_closed() {
                return;
            }
        }
    });
    rx
}

/// The service.
#[derive(Clone)]
pub struct HealthService {
    snapshot: SharedSnapshot,
    changes: watch::Receiver<u64>,
    watching: Arc<AtomicUsize>,
    max_streams: usize,
    auth: Option<Arc<super::auth::Auth>>,
}

impl HealthService {
    /// A service over `snapshot`, with at most `max_streams` watches open.
    pub fn new(snapshot: SharedSnapshot, changes: watch::Receiver<u64>, max_streams: usize) -> HealthService {
        HealthService {
            snapshot,
            changes,
            watching: Arc::new(AtomicUsize::new(0)),
            max_streams,
            auth: None,
        }
    }

    /// Requires credentials (`authorization` metadata, as the HTTP routes
    /// take them) when `[server.auth] probes = true`.
    pub fn with_auth(mut self, auth: Option<Arc<super::auth::Auth>>) -> HealthService {
        self.auth = auth.filter(|a| a.probes);
        self
    }

    async fn admit<T>(&self, req: &Request<T>) -> Result<(), Status> {
        match &self.auth {
            None => Ok(()),
            Some(auth) if auth.verify(&req.metadata().clone().into_headers()).await => Ok(()),
            Some(_) => Err(Status::unauthenticated(
                "credentials required ([server.auth] probes = true): send authorization metadata",
            )),
        }
    }
}

/// Counts an open watch until it is dropped.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn unknown(service: &str) -> Status {
    let shown: String = service.chars().filter(|c| !c.is_control()).take(64).collect();
    Status::not_found(format!(
        "no service \"{shown}\": the services are \"\" (the aggregate) and each check's name"
    ))
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Health for HealthService {
    async fn check(&self, req: Request<HealthCheckRequest>) -> Result<Response<HealthCheckResponse>, Status> {
        self.admit(&req).await?;
        let service = &req.get_ref().service;
        match status_of(&self.snapshot.load(), service) {
            Some(s) => Ok(Response::new(HealthCheckResponse { status: s as i32 })),
            None => Err(unknown(service)),
        }
    }

    async fn list(&self, req: Request<HealthListRequest>) -> Result<Response<HealthListResponse>, Status> {
        self.admit(&req).await?;
        let snap = self.snapshot.load();
        if snap.checks.len() + 1 > LIST_MAX {
            return Err(Status::resource_exhausted(format!(
                "{} services (the aggregate and {} checks): List answers at most {LIST_MAX}; use Check or Watch per service",
                snap.checks.len() + 1,
                snap.checks.len()
            )));
        }
        let names = std::iter::once("").chain(snap.checks.iter().map(|c| &*c.name));
        let statuses = names
            .filter_map(|n| {
                Some((
                    n.to_string(),
                    HealthCheckResponse {
                        status: status_of(&snap, n)? as i32,
                    },
                ))
            })
            .collect();
        Ok(Response::new(HealthListResponse { statuses }))
    }

    type WatchStream = WatchStream;

    async fn watch(&self, req: Request<HealthCheckRequest>) -> Result<Response<WatchStream>, Status> {
        self.admit(&req).await?;
        if self.watching.fetch_add(1, Ordering::Relaxed) >= self.max_streams {
            self.watching.fetch_sub(1, Ordering::Relaxed);
            return Err(Status::resource_exhausted(format!(
                "{} watches open: server.grpc_max_streams",
                self.max_streams
            )));
        }
        let open = Open(self.watching.clone());
        let service = req.into_inner().service;
        let state = (None::<i32>, self.changes.clone(), self.snapshot.clone(), service, open);
        let stream = futures_util::stream::unfold(state, |(last, mut changes, snapshot, service, open)| async move {
            let mut first = last.is_none();
            loop {
                if !first && changes.changed().await.is_err() {
                    return None;
                }
                first = false;
                let now = status_of(&snapshot.load(), &service).unwrap_or(ServingStatus::ServiceUnknown) as i32;
                if Some(now) != last {
                    let answer = HealthCheckResponse { status: now };
                    return Some((Ok(answer), (Some(now), changes, snapshot, service, open)));
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

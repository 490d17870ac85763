//! The fleet: the other sidecars of this service, read in the background, for
//! two answers no single sidecar can give.
//!
//! - **The shared-outage guard.** A critical check with `scope = "shared"`
//!   (Elasticsearch, the database every instance uses) that fails here *and* on
//!   at least `shared_quorum` of the peers that answered counts as `warn`: the
//!   instance stays in rotation (200, the agent's warn weight) instead of the
//!   whole fleet being evicted for an outage that evicting cannot fix. The
//!   decision has its own hysteresis ([`guard`]); local checks are never
//!   touched; an instance no peer answers cannot prove anything and is evicted.
//! - **The regional answer.** `GET /fleet`: pass while at least `min_healthy`
//!   of the members (this one included, when it has checks) serve by their own
//!   checks, the guard ignored, so Route 53 moves a region's clients away when
//!   its Elasticsearch is down for everyone.
//!
//! The [`Poller`] owns time here as the scheduler does for checks: every
//! `interval` (plus up to a tenth of it of jitter) it reads `sample` peers'
//! `/fleet/self` ([`wire`]) concurrently, each within `timeout`, folds the
//! answers in, publishes a [`FleetView`] (swapped atomically, like the
//! snapshot) and tells the publisher which shared checks are in a shared
//! outage. Requests never read a peer: `/fleet` sends the view's bytes.
//!
//! Traffic: each sidecar sends min(sample, N − 1) requests per interval, the
//! fleet N × min(sample, N − 1); a regional aggregator (no checks) reads every
//! member each interval. Compromise: a round reads at most 512 peers at once,
//! so with more than 512 peers all hanging a round lasts ⌈N / 512⌉ × timeout
//! and the next one waits for it (rounds never overlap).

mod discover;
pub mod guard;
mod members;
mod read;
mod round;
mod view;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use view::{FleetView, MemberState, MemberView, OutageView, SharedFleet};
pub use wire::Identity;

use crate::config::{FleetConfig, StatusCodes};
use crate::metrics::Metrics;
use crate::publisher::{Event, SharedOutage};
use crate::snapshot::SharedSnapshot;
use guard::{Change, Guard};
use members::{Heard, Members};

/// Peer reads in flight at once in one round.
const MAX_IN_FLIGHT: usize = 512;

/// What the HTTP layer needs: who this process is, and the fleet state when
/// there is a `[fleet]`.
#[derive(Clone)]
pub struct FleetHandle {
    /// The identity `/fleet/self` answers with.
    pub me: Arc<Identity>,
    /// The published fleet state (`None` without `[fleet]`).
    pub view: Option<SharedFleet>,
}

/// Why the fleet could not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FleetError(String);

/// The background reader of the peers.
pub struct Poller {
    cfg: FleetConfig,
    me: Arc<Identity>,
    listen: SocketAddr,
    aggregator: bool,
    snapshot: SharedSnapshot,
    view: SharedFleet,
    events: mpsc::Sender<Event>,
    metrics: Arc<Metrics>,
    codes: StatusCodes,
    discovery: discover::Discovery,
    members: Members,
    guard: Guard,
    client: reqwest::Client,
    sent: Vec<SharedOutage>,
}

/// What a `Poller` starts from.
pub struct PollerParts {
    /// The `[fleet]` section.
    pub cfg: FleetConfig,
    /// This process.
    pub me: Arc<Identity>,
    /// The HTTP listener's address (a peer at this address is this process).
    pub listen: SocketAddr,
    /// No checks of its own: reads every member, is not one.
    pub aggregator: bool,
    /// This instance's snapshot.
    pub snapshot: SharedSnapshot,
    /// Where the shared-outage verdict goes.
    pub events: mpsc::Sender<Event>,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// Status codes for `/fleet`.
    pub codes: StatusCodes,
}

/// A kept-alive connection per peer: a thousand peers need more descriptors
/// than the usual soft limit of 1,024, so the soft limit goes up to the hard
/// one (what systemd's `LimitNOFILE` or the container runtime allows).
fn raise_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(error = %e, "fleet: cannot raise the open-file limit; large fleets may run out of descriptors");
        }
    }
}

impl Poller {
    /// Sets up discovery and the client; publishes an empty (failing) view.
    pub fn new(p: PollerParts) -> Result<(Poller, SharedFleet), FleetError> {
        raise_file_limit();
        let discovery = discover::Discovery::new(&p.cfg).map_err(FleetError)?;
        let client = read::client(p.cfg.interval, p.cfg.timeout).map_err(FleetError)?;
        let view: SharedFleet = Arc::new(arc_swap::ArcSwap::from_pointee(FleetView::empty(p.codes)));
        let poller = Poller {
            guard: Guard::new(p.cfg.shared_quorum, p.cfg.min_peers),
            cfg: p.cfg,
            me: p.me,
            listen: p.listen,
            aggregator: p.aggregator,
            snapshot: p.snapshot,
            view: view.clone(),
            events: p.events,
            metrics: p.metrics,
            codes: p.codes,
            discovery,
            members: Members::default(),
            client,
            sent: Vec::new(),
        };
        Ok((poller, view))
    }

    /// Reads the peers every interval until dropped.
    pub async fn run(mut self) {
        let interval = self.cfg.interval;
        let mut next_resolve = Instant::now();
        let mut first = true;
        loop {
            let started = Instant::now();
            if first || (self.discovery.has_dns() && started >= next_resolve) {
                self.discover().await;
                next_resolve = started + self.cfg.resolve_interval;
                first = false;
            }
            self.read_round().await;
            self.evaluate().await;
            let jitter = Duration::from_micros(rand::random_range(0..=interval.as_micros() as u64 / 10));
            tokio::time::sleep_until(started + interval + jitter).await;
        }
    }

    async fn discover(&mut self) {
        let before = self.discovery.error.clone();
        let addresses = self.discovery.addresses().await;
        match (&before, &self.discovery.error) {
            (None, Some(e)) => tracing::warn!(reason = %e, "fleet: discovery failed; keeping the last known peers"),
            (Some(_), None) => tracing::info!(peers = addresses.len(), "fleet: discovery works again"),
            _ => {}
        }
        let listen = self.listen;
        let own = |a: &str| !listen.ip().is_unspecified() && a.parse::<SocketAddr>().ok() == Some(listen);
        let (added, removed) = self.members.set_addresses(&addresses, own);
        if added + removed > 0 {
            tracing::info!(peers = addresses.len(), added, removed, "fleet: peer set changed");
        }
        if addresses.len() >= FleetConfig::MAX_MEMBERS {
            tracing::warn!(
                max = FleetConfig::MAX_MEMBERS,
                "fleet: more peers than the limit; the rest are left out"
            );
        }
    }

    async fn read_round(&mut self) {
        let sample = (!self.aggregator).then_some(self.cfg.sample);
        let picks = self.members.next_round(sample);
        let timeout = self.cfg.timeout;
        let client = &self.client;
        let list = &self.members.list;
        let results: Vec<(usize, Result<wire::PeerAnswer, String>)> = futures_util::stream::iter(picks)
            .map(|i| {
                let address = list[i].address.clone();
                async move { (i, read::read(client, &address, timeout).await) }
            })
            .buffer_unordered(MAX_IN_FLIGHT)
            .collect()
            .await;
        let now = Instant::now();
        let mut lost = Vec::new();
        let mut back = 0;
        for (i, result) in results {
            let m = &mut self.members.list[i];
            self.metrics.record_fleet_read(result.is_ok());
            match result {
                Ok(answer) if answer.id == self.me.id => {
                    tracing::info!(peer = %m.address, "fleet: this address is this instance; not read again");
                    m.is_self = true;
                }
                Ok(answer) => {
                    back += usize::from(m.error.is_some());
                    m.error = None;
                    m.heard = Some(Heard { answer, at: now });
                }
                Err(e) => {
                    if m.error.is_none() {
                        lost.push(e.clone());
                    }
                    m.error = Some(e);
                }
            }
        }
        if !lost.is_empty() {
            let shown: Vec<&str> = lost.iter().take(5).map(String::as_str).collect();
            let more = lost.len().saturating_sub(shown.len());
            tracing::warn!(count = lost.len(), more, peers = %shown.join("; "), "fleet: peers stopped answering");
        }
        if back > 0 {
            tracing::info!(count = back, "fleet: peers answer again");
        }
    }

    async fn evaluate(&mut self) {
        let now = Instant::now();
        let snap = self.snapshot.load_full();
        let sample = (!self.aggregator).then_some(self.cfg.sample);
        let rotation = self.members.rotation(sample);
        let windows = round::Windows {
            view: self.cfg.interval * (rotation + 1) + self.cfg.timeout,
            guard: self.cfg.interval * 2 + self.cfg.timeout,
        };
        let mut members = Vec::with_capacity(self.members.list.len() + 1);
        if !self.aggregator {
            let address = self
                .members
                .list
                .iter()
                .find(|m| m.is_self)
                .map(|m| m.address.clone())
                .unwrap_or_else(|| self.listen.to_string());
            members.push(round::own_view(address, &self.me.instance, &snap));
        }
        members.extend(round::peer_views(&self.members, now, windows.view));
        let shared: Vec<Arc<str>> = snap
            .checks
            .iter()
            .filter(|c| c.shared)
            .map(|c| c.name.clone())
            .collect();
        let (tallies, answering) = round::tallies(&self.members, &shared, now, windows.guard);
        let changes = self.guard.step(&tallies);
        let outages: Vec<OutageView> = tallies
            .iter()
            .map(|t| {
                let own = snap.checks.iter().find(|c| c.name == t.check);
                let own_fails =
                    own.is_some_and(|c| c.state == crate::status::State::Known(crate::status::Status::Fail));
                OutageView {
                    check: t.check.to_string(),
                    failing: t.failing + usize::from(own_fails),
                    of: t.answered + usize::from(own.is_some()),
                    engaged: self.guard.engaged(&t.check),
                }
            })
            .collect();
        for change in &changes {
            match change {
                Change::Engaged(t) => {
                    tracing::warn!(check = %t.check, failing = t.failing, answered = t.answered, guard = self.cfg.guard, "fleet: shared outage: the check fails on most of the fleet; instances stay in rotation")
                }
                Change::Released(t) => {
                    tracing::info!(check = %t.check, failing = t.failing, answered = t.answered, "fleet: shared outage over (or no longer provable)")
                }
            }
        }
        let verdict: Vec<SharedOutage> = outages
            .iter()
            .filter(|o| o.engaged && self.cfg.guard)
            .map(|o| SharedOutage {
                check: o.check.as_str().into(),
                reason: format!(
                    "shared outage: {} failing on {} of {} instances",
                    o.check, o.failing, o.of
                )
                .into(),
            })
            .collect();
        if verdict != self.sent && self.events.send(Event::SharedOutages(verdict.clone())).await.is_ok() {
            self.sent = verdict;
        }
        let view = FleetView::new(
            members,
            self.cfg.min_healthy,
            answering,
            outages,
            self.discovery.error.clone(),
            self.codes,
        );
        let before = self.view.load();
        if before.status != view.status {
            if view.status == crate::status::Status::Fail {
                tracing::warn!(summary = %view.summary(), "fleet: below quorum");
            } else {
                tracing::info!(summary = %view.summary(), "fleet: quorum reached");
            }
        }
        let count = |state| {
            view.members
                .iter()
                .filter(|m| m.duplicate_of.is_none() && m.status == state)
                .count()
        };
        self.metrics.record_fleet(&crate::metrics::FleetFigures {
            serving: count(MemberState::Serving),
            not_serving: count(MemberState::NotServing),
            unreachable: count(MemberState::Unreachable),
            required: view.required,
            answering: view.answering,
            pass: view.status == crate::status::Status::Pass,
            shared: view.outages.iter().map(|o| (o.check.as_str(), o.engaged)).collect(),
        });
        self.view.store(Arc::new(view));
    }
}

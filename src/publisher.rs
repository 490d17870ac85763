//! The single writer: folds check results into state, publishes snapshots,
//! updates metrics and logs transitions.
//!
//! Results arrive on a channel; the publisher applies everything queued, then
//! builds and swaps in one snapshot. While results keep arriving, snapshots are
//! built at most every 20 ms or more (the first after a quiet spell at once), so 1,000
//! checks cost 10 snapshots a second (the spacing grows with the check count),
//! not 1,000. A result that changes a reported state (and drain or maintenance)
//! is published at once: only routine refreshes wait. It
//! also wakes when the oldest result is about to go stale, so staleness shows up
//! without any request having to compute it.

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::CheckConfig;
use crate::health::{CheckState, Record};
use crate::history::{unix_ms, CheckHistory};
use crate::metrics::{CheckSeries, Metrics};
use crate::secret::Redactor;
use crate::snapshot::{CheckView, Maintenance, Override, Presentation, SharedSnapshot, Snapshot};
use crate::status::State;
use crate::status::Status;

/// The shortest time between two publications while results keep arriving:
/// 20 ms, growing with the number of checks (0.1 ms per check, at most 250 ms) so
/// the cost of rendering large bodies stays flat. Freshness is unaffected in
/// practice: intervals are seconds.
fn spacing_for(checks: usize) -> std::time::Duration {
    std::time::Duration::from_micros((checks as u64 * 100).clamp(20_000, 250_000))
}

/// A check's identity for the publisher: stable across reloads for an
/// unchanged check, never reused for another.
pub type CheckId = u64;

/// What the publisher is told.
#[derive(Debug)]
pub enum Event {
    /// A check round finished.
    Result {
        /// The check's id (stable across reloads).
        id: CheckId,
        /// The result.
        record: Record,
    },
    /// Start draining: readiness fails from now on.
    Drain,
    /// Enter (`Some`) or leave (`None`) maintenance.
    Maintenance(Option<Maintenance>),
    /// The fleet guard's verdict: the shared checks failing on enough of the
    /// fleet right now (sent by the fleet poller when it changes).
    SharedOutages(Vec<SharedOutage>),
    /// A reloaded configuration: the new check list (ids already known keep their
    /// state) and presentation. Checks whose ids are gone disappear.
    Reconfigure {
        /// Checks in configuration order, with their schedules.
        checks: Vec<(CheckId, CheckInfo, crate::config::Schedule)>,
        /// Status codes and agent replies.
        how: Presentation,
    },
}

/// A shared check that the fleet finds failing on enough instances: while it
/// also fails here, it counts as warn instead of failing the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedOutage {
    /// The check's name (the same name on every instance).
    pub check: Arc<str>,
    /// Why, for bodies and logs: `shared outage: elasticsearch failing on 4 of 5 instances`.
    pub reason: Arc<str>,
}

/// Static facts about a check, fixed at build time.
#[derive(Debug, Clone)]
pub struct CheckInfo {
    /// Name (shared with every snapshot: a publication copies a pointer, not
    /// 1,000 strings).
    pub name: Arc<str>,
    /// The `kind` word.
    pub kind: &'static str,
    /// Critical or not.
    pub critical: bool,
    /// `scope = "shared"`: the fleet guard may soften its failure.
    pub shared: bool,
    /// `name:measurement` suffix.
    pub measurement: &'static str,
    /// `componentType`.
    pub component_type: &'static str,
    /// Results older than this are stale.
    pub max_age: std::time::Duration,
    /// `min_nodes` of an Elasticsearch check, exported for alert rules.
    pub expected_nodes: Option<u64>,
    /// Its dependency targets (`host:port`), for the upstream-requests counter.
    pub targets: Vec<String>,
}

/// Declares a check's metrics and returns its series.
fn declare(metrics: &Metrics, info: &CheckInfo) -> CheckSeries {
    metrics.declare_check(
        &info.name,
        info.critical,
        info.max_age,
        info.expected_nodes,
        &info.targets,
    )
}

/// The publisher task's state.
pub struct Publisher {
    ids: Vec<CheckId>,
    infos: Vec<CheckInfo>,
    states: Vec<CheckState>,
    series: Vec<CheckSeries>,
    histories: Vec<Arc<CheckHistory>>,
    reported: Vec<State>,
    overall: Option<Status>,
    draining: bool,
    maintenance: Option<Maintenance>,
    outages: Vec<SharedOutage>,
    changes: Vec<crate::notify::Change>,
    outbox: crate::notify::Outbox,
    generation: u64,
    how: Presentation,
    redactor: Redactor,
    out: SharedSnapshot,
    metrics: Arc<Metrics>,
}

impl Publisher {
    /// Creates the publisher and publishes the initial all-`unknown` snapshot.
    pub fn new(
        checks: &[(CheckConfig, CheckInfo)],
        how: Presentation,
        redactor: Redactor,
        metrics: Arc<Metrics>,
    ) -> (Publisher, SharedSnapshot) {
        let infos: Vec<CheckInfo> = checks.iter().map(|(_, i)| i.clone()).collect();
        let series = infos.iter().map(|i| declare(&metrics, i)).collect();
        let now = unix_ms(std::time::SystemTime::now());
        let mut p = Publisher {
            histories: infos.iter().map(|_| Arc::new(CheckHistory::new(now))).collect(),
            ids: (0..infos.len() as CheckId).collect(),
            states: checks.iter().map(|(c, _)| CheckState::new(c.schedule)).collect(),
            series,
            reported: vec![State::Unknown; infos.len()],
            infos,
            overall: None,
            draining: false,
            maintenance: None,
            outages: Vec::new(),
            changes: Vec::new(),
            outbox: crate::notify::Outbox::default(),
            generation: 0,
            redactor,
            out: Arc::new(ArcSwap::from_pointee(Snapshot::build(0, Vec::new(), None, &how))),
            how,
            metrics,
        };
        p.publish();
        let out = p.out.clone();
        (p, out)
    }

    /// Takes over histories read back from `[history] file`: each check whose
    /// name and kind match gets its own back.
    pub fn restore_history(&mut self, mut saved: std::collections::HashMap<String, (String, CheckHistory)>) {
        let mut restored = 0;
        for (info, h) in self.infos.iter().zip(&mut self.histories) {
            if let Some((kind, history)) = saved.remove(&*info.name) {
                if kind == info.kind {
                    *h = Arc::new(history);
                    restored += 1;
                }
            }
        }
        if restored > 0 || !saved.is_empty() {
            tracing::info!(
                restored,
                dropped = saved.len(),
                "history read back from the history file"
            );
        }
        self.publish();
    }

    /// Hands every reported-state change to these webhooks from now on.
    pub fn set_outbox(&mut self, outbox: crate::notify::Outbox) {
        self.outbox = outbox;
    }

    /// Applies events until the channel closes.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Event>) {
        let spacing = spacing_for(self.states.len());
        let mut last_publish = Instant::now() - spacing;
        loop {
            let now = Instant::now();
            // A result going stale, or a start period ending (a starting check
            // that counted as warn counts as critical again): both change the
            // answer without an event.
            let stale = self
                .states
                .iter()
                .filter_map(|s| match (s.stale_at(now), s.start_ends_at(now)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                })
                .min();
            let wake = match (stale, self.maintenance_ends(now)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let event = match wake {
                Some(at) => tokio::select! {
                    ev = rx.recv() => ev.map(Some),
                    _ = tokio::time::sleep_until(at + std::time::Duration::from_millis(1)) => Some(None),
                },
                None => rx.recv().await.map(Some),
            };
            match event {
                None => return,
                Some(first) => {
                    let mut urgent = first.is_none();
                    if let Some(ev) = first {
                        urgent |= self.apply(ev);
                    }
                    // After a quiet spell publish at once (a first result shows
                    // immediately); while results stream in, gather them so at
                    // most one snapshot is built per MIN_SPACING.
                    // A changed state is published at once.
                    let ready_at = last_publish + spacing;
                    loop {
                        while let Ok(ev) = rx.try_recv() {
                            urgent |= self.apply(ev);
                        }
                        if urgent || Instant::now() >= ready_at {
                            break;
                        }
                        tokio::select! {
                            ev = rx.recv() => match ev {
                                Some(ev) => urgent |= self.apply(ev),
                                None => break,
                            },
                            _ = tokio::time::sleep_until(ready_at) => {}
                        }
                    }
                    self.publish();
                    last_publish = Instant::now();
                }
            }
        }
    }

    /// Applies one event; returns whether a reported state (or an override)
    /// changed, which is published at once instead of waiting for the spacing.
    fn apply(&mut self, event: Event) -> bool {
        match event {
            Event::Result { id, mut record } => {
                // A result from a check removed by a reload is dropped.
                let Some(index) = self.ids.iter().position(|&i| i == id) else {
                    return false;
                };
                let state = &mut self.states[index];
                if let std::borrow::Cow::Owned(clean) = self.redactor.scrub(&record.outcome.reason) {
                    record.outcome.reason = clean;
                }
                let was_flapping = state.flapping();
                state.record(record);
                let rec = state.last.as_ref().expect("just recorded");
                let (at, reported) = (unix_ms(rec.at), state.state(Instant::now()));
                let history = Arc::make_mut(&mut self.histories[index]);
                history.observe(at, reported);
                history.run(at, reported, rec.duration);
                self.metrics.record_run(
                    &mut self.series[index],
                    &rec.outcome,
                    rec.duration.as_secs_f64(),
                    state.consecutive_fail(),
                );
                let flap_changed = state.flapping() != was_flapping;
                if flap_changed {
                    let name = &self.infos[index].name;
                    if state.flapping() {
                        tracing::warn!(check = %name, "check started flapping");
                    } else {
                        tracing::info!(check = %name, "check stopped flapping");
                    }
                    self.metrics.record_flapping(&self.series[index], state.flapping());
                }
                flap_changed || state.state(Instant::now()) != self.reported[index]
            }
            Event::Drain => {
                if !self.draining {
                    tracing::info!("draining: readiness now fails; liveness stays up");
                }
                self.draining = true;
                true
            }
            Event::Maintenance(Some(m)) => {
                tracing::warn!(reason = %m.reason, until = %humantime::format_rfc3339_seconds(m.until), "maintenance on: readiness fails, the agent says maint");
                self.maintenance = Some(m);
                true
            }
            Event::SharedOutages(outages) => {
                let changed = outages != self.outages;
                self.outages = outages;
                changed
            }
            Event::Reconfigure { checks, how } => {
                self.reconfigure(checks, how);
                true
            }
            Event::Maintenance(None) => {
                if self.maintenance.take().is_some() {
                    tracing::info!("maintenance off");
                }
                true
            }
        }
    }

    /// Swaps in a new check list, keeping the state of checks whose id survives.
    fn reconfigure(&mut self, checks: Vec<(CheckId, CheckInfo, crate::config::Schedule)>, how: Presentation) {
        let mut ids = Vec::with_capacity(checks.len());
        let mut infos = Vec::with_capacity(checks.len());
        let mut states = Vec::with_capacity(checks.len());
        let mut series = Vec::with_capacity(checks.len());
        let mut histories = Vec::with_capacity(checks.len());
        let mut reported = Vec::with_capacity(checks.len());
        let now = unix_ms(std::time::SystemTime::now());
        let mut old_series: Vec<Option<CheckSeries>> = std::mem::take(&mut self.series).into_iter().map(Some).collect();
        for (id, info, schedule) in checks {
            match self.ids.iter().position(|&i| i == id) {
                Some(old) => {
                    states.push(self.states[old].clone());
                    series.push(old_series[old].take().expect("ids are unique"));
                    histories.push(self.histories[old].clone());
                    reported.push(self.reported[old]);
                }
                None => {
                    series.push(declare(&self.metrics, &info));
                    states.push(CheckState::new(schedule));
                    histories.push(Arc::new(CheckHistory::new(now)));
                    reported.push(State::Unknown);
                }
            }
            ids.push(id);
            infos.push(info);
        }
        for (id, info) in self.ids.iter().zip(&self.infos) {
            if !ids.contains(id) && !infos.iter().any(|i: &CheckInfo| i.name == info.name) {
                self.metrics.forget_check(&info.name, &info.targets);
            }
        }
        self.ids = ids;
        self.infos = infos;
        self.states = states;
        self.series = series;
        self.histories = histories;
        self.reported = reported;
        self.how = how;
    }

    /// When the maintenance window ends, on the monotonic clock.
    fn maintenance_ends(&self, now: Instant) -> Option<Instant> {
        let m = self.maintenance.as_ref()?;
        let left = m.until.duration_since(std::time::SystemTime::now()).unwrap_or_default();
        Some(now + left)
    }

    fn override_now(&mut self) -> Option<Override> {
        if self
            .maintenance
            .as_ref()
            .is_some_and(|m| m.until <= std::time::SystemTime::now())
        {
            let m = self.maintenance.take().expect("checked above");
            tracing::info!(reason = %m.reason, "maintenance expired");
        }
        if self.draining {
            Some(Override::Draining)
        } else {
            self.maintenance.clone().map(Override::Maintenance)
        }
    }

    /// Builds and swaps in a new snapshot, logging what changed.
    fn publish(&mut self) {
        let now = Instant::now();
        let wall = unix_ms(std::time::SystemTime::now());
        let mut views = Vec::with_capacity(self.states.len());
        for (i, (state, info)) in self.states.iter().zip(&self.infos).enumerate() {
            let (reported, mut output) = state.report(now);
            let shared_outage = (info.shared && info.critical && reported == State::Known(Status::Fail))
                .then(|| self.outages.iter().find(|o| o.check == info.name))
                .flatten()
                .map(|o| o.reason.clone());
            if let Some(why) = &shared_outage {
                output = Arc::from(format!("{why}; {output}"));
            }
            if reported != self.reported[i] {
                let level_fail = reported == State::Known(Status::Fail);
                if level_fail {
                    tracing::warn!(check = %info.name, from = self.reported[i].as_str(), to = reported.as_str(), reason = %output, "check state changed");
                } else {
                    tracing::info!(check = %info.name, from = self.reported[i].as_str(), to = reported.as_str(), reason = %output, "check state changed");
                }
                self.metrics.record_transition(&mut self.series[i], reported);
                let history = Arc::make_mut(&mut self.histories[i]);
                history.observe(wall, reported);
                history.transition(wall, self.reported[i], reported, &output);
                self.changes.push(crate::notify::Change {
                    check: info.name.clone(),
                    critical: info.critical,
                    from: self.reported[i],
                    to: reported,
                    reason: output.clone(),
                    at: wall,
                    // Set once the new snapshot's status is known.
                    status: Status::Fail,
                });
                self.reported[i] = reported;
            }
            let last = state.last.as_ref();
            views.push(CheckView {
                name: info.name.clone(),
                kind: info.kind,
                critical: info.critical,
                shared: info.shared && info.critical,
                state: reported,
                output,
                observed: last.and_then(|r| r.outcome.observed.clone()),
                measurement: info.measurement,
                component_type: info.component_type,
                time: last.map(|r| r.at),
                duration: last.map(|r| r.duration),
                flapping: state.flapping(),
                starting_warns: state.schedule.while_starting == Status::Warn && state.starting(now),
                shared_outage,
                history: self.histories[i].clone(),
            });
        }
        self.generation += 1;
        let ov = self.override_now();
        let snap = Snapshot::build(self.generation, views, ov, &self.how);
        let status = snap.status();
        if self.overall != Some(status) {
            tracing::info!(
                from = self.overall.map(|s| s.as_str()).unwrap_or("starting"),
                to = status.as_str(),
                "overall status changed"
            );
            self.overall = Some(status);
        }
        self.metrics.record_overall(status.as_str(), snap.draining());
        if !self.changes.is_empty() {
            for c in &mut self.changes {
                c.status = status;
            }
            self.outbox.send(&self.changes);
            self.changes.clear();
        }
        self.out.store(Arc::new(snap));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::checks::Outcome;
    use crate::config::Config;

    fn publisher() -> (Publisher, SharedSnapshot) {
        let cfg = Config::from_toml_str(
            "[[checks]]\nname = \"a\"\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\ninterval = \"1s\"\ntimeout = \"500ms\"\n",
        )
        .unwrap();
        let parts: Vec<_> = cfg
            .checks
            .iter()
            .map(|c| {
                let info = CheckInfo {
                    targets: Vec::new(),
                    name: c.name.as_str().into(),
                    kind: "tcp",
                    critical: true,
                    shared: false,
                    measurement: "connectTime",
                    component_type: "component",
                    max_age: c.schedule.max_age,
                    expected_nodes: None,
                };
                (c.clone(), info)
            })
            .collect();
        let how = Presentation {
            codes: cfg.server.status_codes,
            agent: Default::default(),
        };
        Publisher::new(&parts, how, cfg.redactor, Arc::new(Metrics::new()))
    }

    fn pass() -> Event {
        Event::Result {
            id: 0,
            record: Record {
                outcome: Outcome::pass("ok"),
                duration: Duration::from_millis(1),
                at: SystemTime::now(),
                at_instant: Instant::now(),
            },
        }
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_then_pass_then_stale_without_new_events() {
        let (p, snap) = publisher();
        assert_eq!(snap.load().checks[0].state, State::Unknown);
        assert_eq!(snap.load().status(), Status::Fail);
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(p.run(rx));
        tx.send(pass()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(snap.load().status(), Status::Pass);
        // max_age = 3 × 1s + 500ms; no further results arrive.
        tokio::time::sleep(Duration::from_millis(3400)).await;
        assert_eq!(snap.load().status(), Status::Pass);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let s = snap.load();
        assert_eq!(s.status(), Status::Fail);
        assert!(
            s.checks[0].output.starts_with("stale: last result 3s 50"),
            "{}",
            s.checks[0].output
        );
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn drain_fails_readiness_and_reasons_are_scrubbed() {
        let (mut p, snap) = publisher();
        p.redactor.add(&crate::secret::Secret::new("hunter2-secret"));
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(p.run(rx));
        let mut ev = pass();
        if let Event::Result { record, .. } = &mut ev {
            record.outcome.reason = "server said hunter2-secret".into();
        }
        tx.send(ev).await.unwrap();
        tx.send(Event::Drain).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let s = snap.load();
        assert!(s.draining());
        assert_eq!(s.status(), Status::Fail);
        assert_eq!(&*s.checks[0].output, "server said [REDACTED]");
    }
}

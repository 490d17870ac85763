//! Prometheus metrics: one struct, its own registry, bounded labels.
//!
//! Label values come only from configured check names and closed enums (states,
//! outcomes, route templates, status codes), never from error texts or URLs. The
//! publisher writes check metrics as results arrive; `/metrics` only encodes.
//!
//! Status encoding: `healthgate_check_status{check,state}` is one series per state
//! (`pass`, `warn`, `fail`, `unknown`) with value 1 for the current one.
//! `healthgate_es_cluster_status` is 0 green, 1 yellow, 2 red.

mod check;
mod families;
mod fleet;
mod http;
mod notify;

pub use check::CheckSeries;
use check::{OUTCOMES, STATES};
use families::FACT_FAMILIES;
pub use fleet::FleetFigures;
use fleet::FleetSeries;
use http::HttpSeries;
use notify::NotifySeries;

use std::time::{SystemTime, UNIX_EPOCH};

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::checks::{Fact, Outcome};
use crate::snapshot::Snapshot;
use crate::status::State;

/// Buckets for check durations, in seconds: from a loopback answer to a timeout.
pub const CHECK_DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets for the sidecar's own HTTP latency, in seconds.
pub const HTTP_DURATION_BUCKETS: &[f64] = &[0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];

/// All metric families.
pub struct Metrics {
    collectors: Vec<Box<dyn prometheus::core::Collector>>,
    check_status: IntGaugeVec,
    check_duration: HistogramVec,
    check_runs: IntCounterVec,
    check_consecutive_failures: IntGaugeVec,
    check_flapping: IntGaugeVec,
    upstream_requests: IntCounterVec,
    check_transitions: IntCounterVec,
    check_last_transition: GaugeVec,
    check_result_age: GaugeVec,
    status: IntGaugeVec,
    draining: IntGauge,
    check_max_age: GaugeVec,
    check_critical: IntGaugeVec,
    es_expected_nodes: GaugeVec,
    facts: Vec<(Fact, GaugeVec)>,
    http: HttpSeries,
    fleet: FleetSeries,
    notify: NotifySeries,
    runtime_tasks: IntGauge,
    /// Serialises scrapes (see [`Metrics::scrape_turn`]).
    scrapes: tokio::sync::Mutex<()>,
    /// The runtime the checks run on (the one `Metrics` was made on), whatever
    /// thread encodes a scrape.
    checks_runtime: Option<tokio::runtime::Handle>,
    /// Subjects (follower, index, indicator) seen per check and fact, so a check
    /// removed by a reload can take all its series with it.
    subjects: std::sync::Mutex<std::collections::HashMap<String, std::collections::HashSet<(Fact, String)>>>,
}

/// The registry (which rejects duplicate names at start) plus our collectors in
/// declaration order. `/metrics` encodes from the list directly: each family
/// comes from one collector, so `Registry::gather`'s merging, validation and
/// sorting on every scrape would be pure cost.
struct Reg {
    registry: Registry,
    order: Vec<Box<dyn prometheus::core::Collector>>,
}

impl Reg {
    fn add<C: prometheus::core::Collector + Clone + 'static>(&mut self, c: &C) {
        self.registry
            .register(Box::new(c.clone()))
            .expect("metric names are unique");
        self.order.push(Box::new(c.clone()));
    }
}

fn gauge_vec(r: &mut Reg, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    let g = GaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    r.add(&g);
    g
}

fn int_gauge_vec(r: &mut Reg, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    r.add(&g);
    g
}

fn counter_vec(r: &mut Reg, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    r.add(&c);
    c
}

fn histogram_vec(r: &mut Reg, name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> HistogramVec {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels)
        .expect("valid metric definition");
    r.add(&h);
    h
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates every family in a fresh registry.
    pub fn new() -> Self {
        let mut r = Reg {
            registry: Registry::new(),
            order: Vec::new(),
        };
        let check_status = int_gauge_vec(
            &mut r,
            "healthgate_check_status",
            "Current state of each check (1 for the current state, after hysteresis and staleness).",
            &["check", "state"],
        );
        let check_duration = histogram_vec(
            &mut r,
            "healthgate_check_duration_seconds",
            "Duration of check rounds, in seconds.",
            &["check"],
            CHECK_DURATION_BUCKETS,
        );
        let check_runs = counter_vec(
            &mut r,
            "healthgate_check_runs_total",
            "Check rounds by outcome (pass, warn, fail, timeout, error).",
            &["check", "outcome"],
        );
        let check_consecutive_failures = int_gauge_vec(
            &mut r,
            "healthgate_check_consecutive_failures",
            "Consecutive failing rounds of each check.",
            &["check"],
        );
        let check_flapping = int_gauge_vec(
            &mut r,
            "healthgate_check_flapping",
            // Every child keeps a copy of its family's help text: kept short.
            "1 while the check flaps (state change at or above flap_high, until flap_low).",
            &["check"],
        );
        let upstream_requests = counter_vec(
            &mut r,
            "healthgate_upstream_requests_total",
            "Requests sent to each dependency target (host:port), by check.",
            &["check", "target"],
        );
        let check_transitions = counter_vec(
            &mut r,
            "healthgate_check_transitions_total",
            "Changes of each check's reported state.",
            &["check"],
        );
        let check_last_transition = gauge_vec(
            &mut r,
            "healthgate_check_last_transition_timestamp_seconds",
            "Unix time of each check's last state change.",
            &["check"],
        );
        let check_result_age = gauge_vec(
            &mut r,
            "healthgate_check_result_age_seconds",
            "Age of each check's latest result, in seconds.",
            &["check"],
        );
        let status = int_gauge_vec(
            &mut r,
            "healthgate_status",
            "Overall status of this instance (1 for the current state).",
            &["state"],
        );
        let draining = IntGauge::new(
            "healthgate_draining",
            "1 while the instance is draining before shutdown.",
        )
        .expect("valid metric definition");
        r.add(&draining);
        let build = int_gauge_vec(
            &mut r,
            "healthgate_build_info",
            "Build information; the value is always 1.",
            &["version", "commit"],
        );
        build
            .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("HEALTHGATE_COMMIT")])
            .set(1);
        let facts = FACT_FAMILIES
            .iter()
            .map(|f| {
                let labels: &[&str] = match f.subject {
                    Some(subject) => &["check", subject],
                    None => &["check"],
                };
                (f.fact, gauge_vec(&mut r, f.name, f.help, labels))
            })
            .collect();
        let check_max_age = gauge_vec(
            &mut r,
            "healthgate_check_max_age_seconds",
            "Configured max_age of each check: an older result reports fail (stale).",
            &["check"],
        );
        let check_critical = int_gauge_vec(
            &mut r,
            "healthgate_check_critical",
            "1 when the check is critical (its failure fails the instance).",
            &["check"],
        );
        let es_expected_nodes = gauge_vec(
            &mut r,
            "healthgate_es_expected_nodes",
            "Configured min_nodes of an Elasticsearch check (absent when not set).",
            &["check"],
        );
        let http = HttpSeries::declare(&mut r);
        let fleet = FleetSeries::declare(&mut r);
        let notify = NotifySeries::declare(&mut r);
        let runtime_tasks = IntGauge::new(
            "healthgate_runtime_alive_tasks",
            "Tasks alive in the runtime that runs the checks: flat in steady state, whatever the dependencies do.",
        )
        .expect("valid metric definition");
        r.add(&runtime_tasks);
        #[cfg(target_os = "linux")]
        r.order
            .push(Box::new(prometheus::process_collector::ProcessCollector::for_self()));
        Metrics {
            collectors: r.order,
            check_status,
            check_duration,
            check_runs,
            check_consecutive_failures,
            check_flapping,
            upstream_requests,
            check_transitions,
            check_last_transition,
            check_result_age,
            status,
            draining,
            check_max_age,
            check_critical,
            es_expected_nodes,
            facts,
            http,
            fleet,
            notify,
            runtime_tasks,
            scrapes: tokio::sync::Mutex::new(()),
            checks_runtime: tokio::runtime::Handle::try_current().ok(),
            subjects: Default::default(),
        }
    }

    /// Declares a check so its series exist (as `unknown`) before the first result,
    /// with the configuration values alert rules compare against. The returned
    /// series are what [`Metrics::record_run`] and [`Metrics::record_transition`]
    /// write to.
    pub fn declare_check(
        &self,
        check: &std::sync::Arc<str>,
        critical: bool,
        max_age: std::time::Duration,
        expected_nodes: Option<u64>,
        targets: &[String],
    ) -> CheckSeries {
        let name: &str = check;
        self.check_max_age.with_label_values(&[name]).set(max_age.as_secs_f64());
        self.check_critical.with_label_values(&[name]).set(i64::from(critical));
        if let Some(n) = expected_nodes {
            self.es_expected_nodes.with_label_values(&[name]).set(n as f64);
        }
        let series = CheckSeries::resolve(self, check, targets);
        series.start();
        series
    }

    /// Records one round. Elasticsearch gauges keep their last value when a round
    /// brings no facts (cluster unreachable), so series never vanish mid-outage.
    pub fn record_run(&self, series: &mut CheckSeries, outcome: &Outcome, seconds: f64, consecutive_failures: u32) {
        series.record_run(outcome, seconds, consecutive_failures);
        series.count_requests(outcome.attempted);
        for m in &outcome.facts {
            let Some(index) = self.facts.iter().position(|(f, _)| *f == m.fact) else {
                continue;
            };
            match &m.subject {
                None => series.set_fact(self, index, m.value),
                Some(subject) => {
                    let check = series.name();
                    self.facts[index].1.with_label_values(&[check, subject]).set(m.value);
                    let mut seen = self.subjects.lock().unwrap_or_else(|e| e.into_inner());
                    let set = match seen.get_mut(check) {
                        Some(set) => set,
                        None => seen.entry(check.to_string()).or_default(),
                    };
                    if !set.contains(&(m.fact, subject.clone())) {
                        set.insert((m.fact, subject.clone()));
                    }
                }
            }
        }
    }

    /// Removes every series of a check (it was removed by a reload).
    pub fn forget_check(&self, check: &str, targets: &[String]) {
        // Absent series return an error; there is nothing to remove then.
        for state in STATES {
            let _ = self.check_status.remove_label_values(&[check, state]);
        }
        for outcome in OUTCOMES {
            let _ = self.check_runs.remove_label_values(&[check, outcome]);
        }
        let _ = self.check_duration.remove_label_values(&[check]);
        for g in [
            &self.check_consecutive_failures,
            &self.check_critical,
            &self.check_flapping,
        ] {
            let _ = g.remove_label_values(&[check]);
        }
        for target in targets {
            let _ = self.upstream_requests.remove_label_values(&[check, target]);
        }
        let _ = self.check_transitions.remove_label_values(&[check]);
        for g in [
            &self.check_last_transition,
            &self.check_result_age,
            &self.check_max_age,
            &self.es_expected_nodes,
        ] {
            let _ = g.remove_label_values(&[check]);
        }
        let subjects = self
            .subjects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(check)
            .unwrap_or_default();
        for (fact, g) in &self.facts {
            let _ = g.remove_label_values(&[check]);
            for (f, subject) in &subjects {
                if f == fact {
                    let _ = g.remove_label_values(&[check, subject]);
                }
            }
        }
    }

    /// Records a change of a check's reported state.
    pub fn record_transition(&self, series: &mut CheckSeries, to: State) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        series.record_transition(self, to, now);
    }

    /// Sets the overall status and draining flag.
    pub fn record_overall(&self, status: &str, draining: bool) {
        for s in ["pass", "warn", "fail"] {
            self.status.with_label_values(&[s]).set(i64::from(s == status));
        }
        self.draining.set(i64::from(draining));
    }

    /// Sets whether a check flaps.
    pub fn record_flapping(&self, series: &CheckSeries, flapping: bool) {
        series.set_flapping(flapping);
    }

    /// Sets the fleet's series from one round of peer reads.
    pub fn record_fleet(&self, figures: &FleetFigures) {
        self.fleet.record(figures);
    }

    /// Counts one read of a peer.
    pub fn record_fleet_read(&self, ok: bool) {
        self.fleet.read(ok);
    }

    /// Declares a webhook's series (zero until something happens).
    pub fn declare_notify(&self, name: &str) {
        self.notify.declare_notify(name);
    }

    /// Counts events dropped from a full webhook queue, and its length.
    pub fn notify_queued(&self, name: &str, dropped: u64, len: usize) {
        self.notify.queued(name, dropped, len);
    }

    /// Sets a webhook queue's length.
    pub fn notify_queue_length(&self, name: &str, len: usize) {
        self.notify.queue_length(name, len);
    }

    /// Counts a delivered webhook event.
    pub fn notify_sent(&self, name: &str) {
        self.notify.sent(name);
    }

    /// Counts a failed webhook attempt.
    pub fn notify_attempt_failed(&self, name: &str) {
        self.notify.attempt_failed(name);
    }

    /// Counts a webhook event given up (`gave_up`) or refused (`refused`).
    pub fn notify_failed(&self, name: &str, reason: &str) {
        self.notify.dropped(name, reason);
    }

    /// Counts a caught handler panic.
    pub fn record_panic(&self) {
        self.http.panic();
    }

    /// Counts one HTTP answer under its route template.
    pub fn record_http(&self, route: &'static str, code: u16, seconds: f64) {
        self.http.record(route, code, seconds);
    }

    /// Waits for the previous scrape's encoding to finish; hold the guard while
    /// encoding, so concurrent scrapes cost one body's memory, not many.
    pub async fn scrape_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.scrapes.lock().await
    }

    /// Encodes every family in the Prometheus text format, refreshing result ages
    /// from the snapshot first (a read of memory; no dependency is involved).
    pub fn encode(&self, snapshot: &Snapshot) -> Vec<u8> {
        let now = SystemTime::now();
        for c in &snapshot.checks {
            if let Some(t) = c.time {
                let age = now.duration_since(t).map(|d| d.as_secs_f64()).unwrap_or(0.0);
                self.check_result_age.with_label_values(&[&c.name]).set(age);
            }
        }
        if let Some(rt) = &self.checks_runtime {
            self.runtime_tasks.set(rt.metrics().num_alive_tasks() as i64);
        }
        let mut families = Vec::with_capacity(64);
        for c in &self.collectors {
            families.extend(c.collect().into_iter().filter(|f| !f.get_metric().is_empty()));
        }
        let mut out = Vec::with_capacity(128 * 1024);
        TextEncoder::new()
            .encode(&families, &mut out)
            .expect("encoding to memory cannot fail");
        out
    }
}

#[cfg(test)]
mod tests;

//! One check's series, resolved once.
//!
//! A label lookup (`with_label_values`) hashes the label values and takes the
//! family's lock. The publisher records a dozen values per Elasticsearch round, so
//! at 1,000 checks those lookups were a quarter of its work. A [`CheckSeries`] holds
//! the children of one check instead: recording a round is then a few atomic
//! updates. Fact gauges are resolved on a check's first value of that fact, so a
//! check never gains series for facts its kind does not report.

use std::sync::Arc;

use prometheus::{Gauge, Histogram, IntCounter, IntGauge};

use super::Metrics;
use crate::checks::{Outcome, RunEnd};
use crate::status::State;
use crate::status::Status;

/// The run outcomes, in the order of [`CheckSeries`]'s counters.
pub(super) const OUTCOMES: [&str; 5] = ["pass", "warn", "fail", "timeout", "error"];

/// The reported states, in the order of [`CheckSeries`]'s status gauges.
pub(super) const STATES: [&str; 4] = ["pass", "warn", "fail", "unknown"];

/// The series of one check, made by [`Metrics::declare_check`]; the publisher
/// keeps one per check and hands it back to record.
pub struct CheckSeries {
    name: Arc<str>,
    runs: [IntCounter; 5],
    duration: Histogram,
    consecutive_failures: IntGauge,
    flapping: IntGauge,
    /// Requests per upstream target, in the check's target order.
    upstream: Vec<IntCounter>,
    transitions: IntCounter,
    /// Made at the first transition: the series is absent until there is one.
    last_transition: Option<Gauge>,
    status: [IntGauge; 4],
    /// Per fact family (the index into `Metrics::facts`), once the check has
    /// reported that fact.
    facts: Vec<Option<Gauge>>,
}

impl std::fmt::Debug for CheckSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckSeries")
            .field("check", &self.name)
            .finish_non_exhaustive()
    }
}

fn outcome_index(o: &Outcome) -> usize {
    match o.end {
        RunEnd::Completed => match o.status {
            Status::Pass => 0,
            Status::Warn => 1,
            Status::Fail => 2,
        },
        RunEnd::TimedOut => 3,
        RunEnd::Panicked => 4,
    }
}

fn state_index(s: State) -> usize {
    match s {
        State::Known(Status::Pass) => 0,
        State::Known(Status::Warn) => 1,
        State::Known(Status::Fail) => 2,
        State::Unknown => 3,
    }
}

impl CheckSeries {
    /// Resolves the children of check `name` (creating the series).
    pub(super) fn resolve(m: &Metrics, name: &Arc<str>, targets: &[String]) -> Self {
        let check: &str = name;
        CheckSeries {
            name: name.clone(),
            runs: OUTCOMES.map(|o| m.check_runs.with_label_values(&[check, o])),
            duration: m.check_duration.with_label_values(&[check]),
            consecutive_failures: m.check_consecutive_failures.with_label_values(&[check]),
            flapping: m.check_flapping.with_label_values(&[check]),
            upstream: targets
                .iter()
                .map(|t| m.upstream_requests.with_label_values(&[check, t]))
                .collect(),
            transitions: m.check_transitions.with_label_values(&[check]),
            last_transition: None,
            status: STATES.map(|s| m.check_status.with_label_values(&[check, s])),
            facts: vec![None; m.facts.len()],
        }
    }

    /// The check's name.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Counts one round and its duration.
    pub(super) fn record_run(&self, outcome: &Outcome, seconds: f64, consecutive_failures: u32) {
        self.runs[outcome_index(outcome)].inc();
        self.duration.observe(seconds);
        self.consecutive_failures.set(i64::from(consecutive_failures));
    }

    /// Counts the requests of one round: bit `i` of `attempted` set for each
    /// target `i` a request was sent to.
    pub(super) fn count_requests(&self, attempted: u64) {
        for (i, c) in self.upstream.iter().enumerate().take(64) {
            if attempted & (1 << i) != 0 {
                c.inc();
            }
        }
    }

    /// Sets whether the check flaps.
    pub(super) fn set_flapping(&self, flapping: bool) {
        self.flapping.set(i64::from(flapping));
    }

    /// Sets the fact gauge of family `index` (without a subject), resolving it
    /// on first use.
    pub(super) fn set_fact(&mut self, m: &Metrics, index: usize, value: f64) {
        self.facts[index]
            .get_or_insert_with(|| m.facts[index].1.with_label_values(&[&self.name]))
            .set(value);
    }

    /// A check at its start: `unknown`, no failures yet.
    pub(super) fn start(&self) {
        self.set_state(State::Unknown);
        self.consecutive_failures.set(0);
        self.flapping.set(0);
    }

    /// Marks `to` as the current state.
    fn set_state(&self, to: State) {
        let current = state_index(to);
        for (i, g) in self.status.iter().enumerate() {
            g.set(i64::from(i == current));
        }
    }

    /// Counts a transition to `to` at Unix time `now`.
    pub(super) fn record_transition(&mut self, m: &Metrics, to: State, now: f64) {
        self.set_state(to);
        self.transitions.inc();
        self.last_transition
            .get_or_insert_with(|| m.check_last_transition.with_label_values(&[&self.name]))
            .set(now);
    }
}

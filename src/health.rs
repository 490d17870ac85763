//! Per-check state: hysteresis, staleness, and aggregation into one status.
//!
//! Hysteresis: a check that counts as failing needs `rise` consecutive non-failing
//! results to count as passing again; one that counts as passing needs `fall`
//! consecutive failures to count as failing. The first result is taken as it is
//! (there is nothing to smooth against), so with the defaults (1/1) healthgate adds
//! no delay on top of the load balancer's own rise/fall.
//!
//! Staleness is judged on the monotonic clock when a snapshot is built: a result
//! older than `max_age` reports `fail` with reason `stale`.
//!
//! The counting (hysteresis, the start period, flap detection) is the
//! [`Tracker`], which the scheduler keeps too, to pick the next interval.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::checks::Outcome;
use crate::config::Schedule;
use crate::status::{State, Status};

mod tracker;

pub use tracker::{Phase, Tracker};

/// One completed run, as the scheduler reports it.
#[derive(Debug, Clone)]
pub struct Record {
    /// What the check found.
    pub outcome: Outcome,
    /// How long the run took.
    pub duration: Duration,
    /// Wall-clock time it finished (for display).
    pub at: SystemTime,
    /// Monotonic time it finished (for staleness).
    pub at_instant: Instant,
}

/// Mutable state of one check, owned by the publisher.
#[derive(Debug, Clone)]
pub struct CheckState {
    /// Timing and thresholds.
    pub schedule: Schedule,
    /// Latest raw result.
    pub last: Option<Record>,
    /// Its reason, shared with every snapshot until the next result (a
    /// publication copies a pointer per check, not the text).
    reason: Arc<str>,
    /// Hysteresis, start period and flap detection.
    tracker: Tracker,
}

impl CheckState {
    /// A check with no result yet, started now.
    pub fn new(schedule: Schedule) -> Self {
        Self::started_at(schedule, Instant::now())
    }

    /// A check with no result yet, started at `started` (its start period counts from there).
    pub fn started_at(schedule: Schedule, started: Instant) -> Self {
        CheckState {
            schedule,
            last: None,
            reason: Arc::from(""),
            tracker: Tracker::new(schedule, started),
        }
    }

    /// Folds in a new result.
    pub fn record(&mut self, rec: Record) {
        self.tracker.observe(rec.outcome.status, rec.at_instant);
        self.reason = Arc::from(rec.outcome.reason.as_str());
        self.last = Some(rec);
    }

    /// Consecutive non-failing results.
    pub fn consecutive_ok(&self) -> u32 {
        self.tracker.consecutive_ok
    }

    /// Consecutive failing results (the start period's are not counted).
    pub fn consecutive_fail(&self) -> u32 {
        self.tracker.consecutive_fail
    }

    /// Whether the check is flapping (see [`Tracker::state_change_percent`]).
    pub fn flapping(&self) -> bool {
        self.tracker.flapping()
    }

    /// Whether the check is in its start period at `now` (no non-failing result yet).
    pub fn starting(&self, now: Instant) -> bool {
        self.tracker.starting(now).is_some() && self.tracker.effective().is_none()
    }

    /// When the start period ends, while the check is starting at `now`.
    pub fn start_ends_at(&self, now: Instant) -> Option<Instant> {
        if self.schedule.start_period.is_zero() {
            return None;
        }
        self.starting(now)
            .then(|| now + self.tracker.starting(now).unwrap_or_default())
    }

    /// Whether the latest result is older than `max_age` at `now`.
    pub fn is_stale(&self, now: Instant) -> bool {
        self.last
            .as_ref()
            .is_some_and(|r| now.saturating_duration_since(r.at_instant) > self.schedule.max_age)
    }

    /// When the latest result becomes stale, if it is not yet.
    pub fn stale_at(&self, now: Instant) -> Option<Instant> {
        let at = self.last.as_ref()?.at_instant + self.schedule.max_age;
        (at >= now).then_some(at)
    }

    /// The reported state: what [`CheckState::report`] gives, without the reason.
    pub fn state(&self, now: Instant) -> State {
        match self.tracker.effective() {
            None => State::Unknown,
            Some(_) if self.is_stale(now) => State::Known(Status::Fail),
            Some(effective) => State::Known(self.on_flap(effective)),
        }
    }

    /// `on_flap` applied: a flapping check reports at least that status.
    fn on_flap(&self, effective: Status) -> Status {
        match self.schedule.flap.on_flap {
            Some(at_least) if self.tracker.flapping() => effective.max(at_least),
            _ => effective,
        }
    }

    /// The reported state and the reason shown with it.
    pub fn report(&self, now: Instant) -> (State, Arc<str>) {
        if let Some(left) = self
            .tracker
            .starting(now)
            .filter(|_| self.tracker.effective().is_none())
        {
            let secs = left.as_secs_f64().ceil() as u64;
            let reason = match &self.last {
                None => format!("starting ({secs} s left)"),
                Some(_) => format!("starting ({secs} s left): {}", self.reason),
            };
            return (State::Unknown, reason.into());
        }
        let Some(last) = &self.last else {
            return (State::Unknown, Arc::from("no result yet"));
        };
        if self.is_stale(now) {
            let age = now.saturating_duration_since(last.at_instant);
            return (
                State::Known(Status::Fail),
                format!("stale: last result {} ago", humantime::format_duration(round_ms(age))).into(),
            );
        }
        let Some(effective) = self.tracker.effective() else {
            // Only the start period's failures so far, and the period is over:
            // the next result is taken as it is.
            return (State::Unknown, format!("start period over: {}", self.reason).into());
        };
        let raw = last.outcome.status;
        let t = &self.tracker;
        let reason: Arc<str> = if effective == Status::Fail && raw != Status::Fail {
            format!(
                "recovering ({} of {} passes needed): {}",
                t.consecutive_ok, self.schedule.rise, self.reason
            )
            .into()
        } else if effective != Status::Fail && raw == Status::Fail {
            format!(
                "failing, still counted {} ({} of {} failures needed): {}",
                effective, t.consecutive_fail, self.schedule.fall, self.reason
            )
            .into()
        } else {
            self.reason.clone()
        };
        let shown = self.on_flap(effective);
        if shown != effective {
            let reason = format!("flapping ({:.0} % state change): {reason}", t.state_change_percent());
            return (State::Known(shown), reason.into());
        }
        (State::Known(effective), reason)
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// Folds check states into the overall status: any critical `fail`/`unknown` →
/// `fail`; any non-critical `fail`/`unknown`, or any `warn` → `warn`; else `pass`.
pub fn aggregate<'a>(states: impl IntoIterator<Item = (bool, State)> + 'a) -> Status {
    let mut overall = Status::Pass;
    for (critical, state) in states {
        let s = match state {
            State::Known(Status::Pass) => Status::Pass,
            State::Known(Status::Warn) => Status::Warn,
            State::Known(Status::Fail) | State::Unknown if critical => return Status::Fail,
            State::Known(Status::Fail) | State::Unknown => Status::Warn,
        };
        overall = overall.max(s);
    }
    overall
}

#[cfg(test)]
mod tests;

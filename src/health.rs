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

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::checks::Outcome;
use crate::config::Schedule;
use crate::status::{State, Status};

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
    /// Status after hysteresis; `None` before the first result.
    effective: Option<Status>,
    /// Consecutive non-failing results.
    pub consecutive_ok: u32,
    /// Consecutive failing results.
    pub consecutive_fail: u32,
}

impl CheckState {
    /// A check with no result yet.
    pub fn new(schedule: Schedule) -> Self {
        CheckState {
            schedule,
            last: None,
            reason: Arc::from(""),
            effective: None,
            consecutive_ok: 0,
            consecutive_fail: 0,
        }
    }

    /// Folds in a new result.
    pub fn record(&mut self, rec: Record) {
        let raw = rec.outcome.status;
        if raw == Status::Fail {
            self.consecutive_fail = self.consecutive_fail.saturating_add(1);
            self.consecutive_ok = 0;
        } else {
            self.consecutive_ok = self.consecutive_ok.saturating_add(1);
            self.consecutive_fail = 0;
        }
        self.effective = Some(match self.effective {
            None => raw,
            Some(Status::Fail) if raw != Status::Fail => {
                if self.consecutive_ok >= self.schedule.rise {
                    raw
                } else {
                    Status::Fail
                }
            }
            Some(held @ (Status::Pass | Status::Warn)) if raw == Status::Fail => {
                if self.consecutive_fail >= self.schedule.fall {
                    Status::Fail
                } else {
                    held
                }
            }
            Some(_) => raw,
        });
        self.reason = Arc::from(rec.outcome.reason.as_str());
        self.last = Some(rec);
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
        match self.effective {
            None => State::Unknown,
            Some(_) if self.is_stale(now) => State::Known(Status::Fail),
            Some(effective) => State::Known(effective),
        }
    }

    /// The reported state and the reason shown with it.
    pub fn report(&self, now: Instant) -> (State, Arc<str>) {
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
        let effective = self.effective.expect("a check with a result has an effective status");
        let raw = last.outcome.status;
        let reason = if effective == Status::Fail && raw != Status::Fail {
            format!(
                "recovering ({} of {} passes needed): {}",
                self.consecutive_ok, self.schedule.rise, self.reason
            )
            .into()
        } else if effective != Status::Fail && raw == Status::Fail {
            format!(
                "failing, still counted {} ({} of {} failures needed): {}",
                effective, self.consecutive_fail, self.schedule.fall, self.reason
            )
            .into()
        } else {
            self.reason.clone()
        };
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

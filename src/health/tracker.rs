//! The counting half of a check's state, from raw statuses alone: hysteresis
//! (`rise`/`fall`), the start period and flap detection, and from them the
//! phase that picks the next interval.
//!
//! The publisher (what is reported) and the scheduler (when the next round
//! runs) each keep a [`Tracker`] and feed it the same results in the same
//! order, so they agree without talking to each other.

use tokio::time::Instant;

use crate::config::Schedule;
use crate::status::Status;

/// Raw results kept for flap detection (Nagios: 21 states, 20 changes).
const FLAP_WINDOW: usize = 21;
/// The 20 changes between them.
const CHANGE_MASK: u32 = (1 << (FLAP_WINDOW - 1)) - 1;

/// Where a check is, for picking its next interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// In the start period, before a first non-failing result: `start_interval`.
    Starting,
    /// A change is pending (a failure before `fall`, a pass before `rise`):
    /// `fast_interval`.
    Changing,
    /// Failing and not changing: `down_interval`.
    Down,
    /// Passing (or warning) and not changing: `interval`.
    Steady,
}

/// Hysteresis, start period and flap state of one check.
#[derive(Debug, Clone)]
pub struct Tracker {
    schedule: Schedule,
    started: Instant,
    /// Status after hysteresis; `None` before the first counted result.
    effective: Option<Status>,
    /// A non-failing result was seen, or the start period is over.
    ready: bool,
    /// Consecutive non-failing results.
    pub consecutive_ok: u32,
    /// Consecutive failing results (not counting those of the start period).
    pub consecutive_fail: u32,
    /// The latest raw status.
    last_raw: Option<Status>,
    /// Whether each of the last 20 results changed the raw status, newest in
    /// bit 0: flap detection without keeping the results themselves.
    changes: u32,
    /// Results seen, up to [`FLAP_WINDOW`].
    seen: u8,
    flapping: bool,
}

impl Tracker {
    /// A check that started at `started`, with no result yet.
    pub fn new(schedule: Schedule, started: Instant) -> Tracker {
        Tracker {
            schedule,
            started,
            effective: None,
            ready: schedule.start_period.is_zero(),
            consecutive_ok: 0,
            consecutive_fail: 0,
            last_raw: None,
            changes: 0,
            seen: 0,
            flapping: false,
        }
    }

    /// Folds in one raw result that finished at `at`.
    pub fn observe(&mut self, raw: Status, at: Instant) {
        self.remember(raw);
        if !self.ready {
            if raw == Status::Fail && at < self.started + self.schedule.start_period {
                // Docker's start period: a failure while starting is not counted.
                return;
            }
            self.ready = true;
        }
        if raw == Status::Fail {
            self.consecutive_fail = self.consecutive_fail.saturating_add(1);
            self.consecutive_ok = 0;
        } else {
            self.consecutive_ok = self.consecutive_ok.saturating_add(1);
            self.consecutive_fail = 0;
        }
        self.effective = Some(match self.effective {
            // The first counted result is taken as it is: nothing to smooth against.
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
    }

    fn remember(&mut self, raw: Status) {
        let changed = self.last_raw.is_some_and(|last| last != raw);
        self.changes = ((self.changes << 1) | u32::from(changed)) & CHANGE_MASK;
        self.last_raw = Some(raw);
        self.seen = self.seen.saturating_add(1).min(FLAP_WINDOW as u8);
        if self.changes == 0 && !self.flapping {
            return;
        }
        let percent = self.state_change_percent();
        let flap = self.schedule.flap;
        if !self.flapping && percent >= f64::from(flap.high) && flap.high > 0 {
            self.flapping = true;
        } else if self.flapping && percent <= f64::from(flap.low) {
            self.flapping = false;
        }
    }

    /// Nagios' percent state change: over the last 21 raw results, each of the
    /// 20 changes between neighbours weighs `0.75 + (x - 1) * 0.5 / 19` for
    /// x = 1 (oldest) to 20 (newest), so recent changes count more; the sum
    /// times 100 / 20. 0 until 21 results exist.
    pub fn state_change_percent(&self) -> f64 {
        if usize::from(self.seen) < FLAP_WINDOW {
            return 0.0;
        }
        // Bit b is the change b results ago: position x = 20 - b, oldest first.
        let weights: f64 = (0..20)
            .filter(|b| self.changes & (1 << b) != 0)
            .map(|b| 0.75 + f64::from(19 - b) * 0.5 / 19.0)
            .sum();
        weights * 100.0 / 20.0
    }

    /// Whether the check is flapping.
    pub fn flapping(&self) -> bool {
        self.flapping
    }

    /// Status after hysteresis; `None` before the first counted result.
    pub fn effective(&self) -> Option<Status> {
        self.effective
    }

    /// Time left in the start period at `now`, while the check is starting.
    pub fn starting(&self, now: Instant) -> Option<std::time::Duration> {
        let end = self.started + self.schedule.start_period;
        (!self.ready && now < end).then(|| end - now)
    }

    /// The phase at `now`.
    pub fn phase(&self, now: Instant) -> Phase {
        if self.starting(now).is_some() {
            return Phase::Starting;
        }
        match self.effective {
            None => Phase::Steady,
            Some(Status::Fail) if self.consecutive_ok > 0 => Phase::Changing,
            Some(Status::Fail) => Phase::Down,
            Some(_) if self.consecutive_fail > 0 => Phase::Changing,
            Some(_) => Phase::Steady,
        }
    }

    /// The interval to the next round, chosen at `now`.
    pub fn next_interval(&self, now: Instant) -> std::time::Duration {
        let s = &self.schedule;
        match self.phase(now) {
            Phase::Starting => s.start_interval,
            Phase::Changing => s.fast_interval,
            Phase::Down => s.down_interval,
            Phase::Steady => s.interval,
        }
    }
}

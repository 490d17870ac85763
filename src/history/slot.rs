//! A time slot's aggregate and the two slot widths.

use std::time::SystemTime;

use super::{MINUTE_SLOTS, TEN_MINUTE_SLOTS};
use crate::status::{State, Status};

/// A slot width and how many slots of it are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// One-minute slots over the last hour.
    Minute,
    /// Ten-minute slots over the last 24 hours.
    TenMinutes,
}

impl Resolution {
    /// The slot width in milliseconds.
    pub const fn width_ms(self) -> u64 {
        match self {
            Resolution::Minute => 60_000,
            Resolution::TenMinutes => 600_000,
        }
    }

    /// How many slots are kept.
    pub const fn slots(self) -> usize {
        match self {
            Resolution::Minute => MINUTE_SLOTS,
            Resolution::TenMinutes => TEN_MINUTE_SLOTS,
        }
    }
}

/// The four reported states, in the order of a slot's arrays.
pub const STATES: [State; 4] = [
    State::Known(Status::Pass),
    State::Known(Status::Warn),
    State::Known(Status::Fail),
    State::Unknown,
];

pub(super) fn index(state: State) -> usize {
    match state {
        State::Known(Status::Pass) => 0,
        State::Known(Status::Warn) => 1,
        State::Known(Status::Fail) => 2,
        State::Unknown => 3,
    }
}

/// Milliseconds since the Unix epoch (0 before it).
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One time slot's aggregate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Slot {
    /// The slot's number: its start divided by the width (0: never used).
    pub n: u32,
    /// Milliseconds spent in each state (pass, warn, fail, unknown).
    pub ms: [u32; 4],
    /// Runs that finished in the slot, by the state they left the check in.
    pub runs: [u16; 4],
    /// The shortest run, in microseconds.
    pub min_us: u32,
    /// The longest run, in microseconds.
    pub max_us: u32,
    /// All runs' durations added, in units of 100 µs (the mean's numerator).
    pub sum_100us: u32,
}

impl Slot {
    pub(super) fn fresh(n: u32) -> Slot {
        Slot { n, ..Slot::default() }
    }

    /// Runs counted in the slot.
    pub fn run_count(&self) -> u32 {
        self.runs.iter().map(|&r| u32::from(r)).sum()
    }

    /// The mean run duration in milliseconds, if any run finished in it.
    pub fn mean_ms(&self) -> Option<f64> {
        let n = self.run_count();
        (n > 0).then(|| f64::from(self.sum_100us) / 10.0 / f64::from(n))
    }

    /// The worst state the check was in during the slot (fail, warn, pass,
    /// then unknown: a slot that only saw the start is unknown, not down);
    /// `None` for a slot without data.
    pub fn worst(&self) -> Option<State> {
        [2, 1, 0, 3]
            .into_iter()
            .find(|&i| self.ms[i] > 0 || self.runs[i] > 0)
            .map(|i| STATES[i])
    }
}

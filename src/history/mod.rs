//! What each check did over the last day: time-slotted aggregates and the
//! last transitions, in bounded memory, kept by the publisher and published
//! with every snapshot.
//!
//! Two rings of fixed time slots per check (wall-clock aligned, so every
//! instance's 14:05 is the same minute): 60 one-minute slots (the last hour,
//! the status page's bar) and 144 ten-minute slots (the last 24 hours). A slot
//! holds the milliseconds spent in each reported state, the runs that finished
//! in it by the state they left, and the runs' min/mean/max duration. Time is
//! what uptime is made of: a failing check that is probed faster (or slower)
//! than a passing one does not weigh more (or less), and `unknown` (before the
//! first result) is its own state, never counted as down. The journal keeps the
//! last 100 transitions with their reasons (capped at 100 bytes).
//!
//! Memory is fixed: 204 slots of 40 bytes (8,160 bytes) plus the journal
//! (100 × 32 bytes plus up to 100 bytes of reason each) per check, whatever
//! the interval. The publisher changes a history copy-on-write (`Arc`), so
//! while a snapshot holds the previous version, one check has two rings.
//!
//! Everything here is a pure function of the times it is given (Unix
//! milliseconds): the tests play a day in microseconds.

pub mod file;
mod render;
mod slot;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::status::State;

pub use render::{rfc3339, to_json, HistoryEntry, SLOT_FIELDS};
use slot::index;
pub use slot::{unix_ms, Resolution, Slot, STATES};

/// One-minute slots kept (the last hour).
pub const MINUTE_SLOTS: usize = 60;
/// Ten-minute slots kept (the last 24 hours).
pub const TEN_MINUTE_SLOTS: usize = 144;
/// Transitions kept per check.
pub const JOURNAL: usize = 100;
/// Bytes of a transition's reason kept (cut at a character boundary).
pub const REASON_CAP: usize = 100;

/// One reported-state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// When (Unix milliseconds).
    pub at: u64,
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// The reason reported with the new state (capped).
    pub reason: Arc<str>,
}

/// One check's history.
#[derive(Debug, Clone)]
pub struct CheckHistory {
    minutes: Box<[Slot]>,
    tens: Box<[Slot]>,
    journal: Arc<VecDeque<Transition>>,
    current: State,
    mark: u64,
}

impl CheckHistory {
    /// An empty history whose check is `unknown` from `now` on.
    pub fn new(now: u64) -> CheckHistory {
        CheckHistory {
            minutes: vec![Slot::default(); MINUTE_SLOTS].into_boxed_slice(),
            tens: vec![Slot::default(); TEN_MINUTE_SLOTS].into_boxed_slice(),
            journal: Arc::new(VecDeque::new()),
            current: State::Unknown,
            mark: now,
        }
    }

    /// A history read back from a file: its slots and journal, the check
    /// `unknown` from `now` (the time the process was down is not counted).
    /// Slots outside their ring's window are dropped by the ring itself.
    pub fn restore(minutes: &[Slot], tens: &[Slot], journal: Vec<Transition>, now: u64) -> CheckHistory {
        let mut h = CheckHistory::new(now);
        for (ring, res, saved) in [
            (&mut h.minutes, Resolution::Minute, minutes),
            (&mut h.tens, Resolution::TenMinutes, tens),
        ] {
            for s in saved {
                let i = (u64::from(s.n) % res.slots() as u64) as usize;
                if s.n > ring[i].n && u64::from(s.n) * res.width_ms() <= now {
                    ring[i] = *s;
                }
            }
        }
        let skip = journal.len().saturating_sub(JOURNAL);
        h.journal = Arc::new(journal.into_iter().skip(skip).collect());
        h
    }

    /// The stored slots of both rings (not the time since the last mark).
    pub fn stored(&self, res: Resolution) -> impl Iterator<Item = &Slot> {
        let ring = match res {
            Resolution::Minute => &self.minutes,
            Resolution::TenMinutes => &self.tens,
        };
        ring.iter().filter(|s| s.n > 0)
    }

    /// The bytes one history occupies at most, journal full (what the README
    /// and BENCHMARKS.md state).
    pub const fn max_bytes() -> usize {
        std::mem::size_of::<CheckHistory>()
            + (MINUTE_SLOTS + TEN_MINUTE_SLOTS) * std::mem::size_of::<Slot>()
            + JOURNAL * (std::mem::size_of::<Transition>() + REASON_CAP + '…'.len_utf8() + 16)
    }

    /// The state held since the last [`observe`](Self::observe).
    pub fn current(&self) -> State {
        self.current
    }

    /// Accounts the time from the last mark to `at` to the state held until
    /// then, and holds `state` from `at` on. Times before the mark (a clock
    /// stepped back) account nothing.
    pub fn observe(&mut self, at: u64, state: State) {
        if at > self.mark {
            let (from, held) = (self.mark, self.current);
            self.account(from, at, held);
            self.mark = at;
        }
        self.current = state;
    }

    /// Counts a run that finished at `at` leaving the check in `state`.
    pub fn run(&mut self, at: u64, state: State, duration: Duration) {
        let us = u32::try_from(duration.as_micros()).unwrap_or(u32::MAX);
        for (ring, res) in [
            (&mut self.minutes, Resolution::Minute),
            (&mut self.tens, Resolution::TenMinutes),
        ] {
            let slot = slot_at(ring, res, at);
            let first = slot.run_count() == 0;
            let i = index(state);
            slot.runs[i] = slot.runs[i].saturating_add(1);
            slot.min_us = if first { us } else { slot.min_us.min(us) };
            slot.max_us = slot.max_us.max(us);
            slot.sum_100us = slot.sum_100us.saturating_add(us / 100);
        }
    }

    /// Records a transition in the journal (the oldest leaves past 100).
    pub fn transition(&mut self, at: u64, from: State, to: State, reason: &Arc<str>) {
        let reason = if reason.len() <= REASON_CAP {
            reason.clone()
        } else {
            let mut end = REASON_CAP;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            Arc::from(format!("{}…", &reason[..end]))
        };
        let journal = Arc::make_mut(&mut self.journal);
        if journal.len() == JOURNAL {
            journal.pop_front();
        }
        journal.push_back(Transition { at, from, to, reason });
    }

    /// The transitions kept, oldest first.
    pub fn transitions(&self) -> impl DoubleEndedIterator<Item = &Transition> + ExactSizeIterator {
        self.journal.iter()
    }

    /// When the current state began: the latest transition into it.
    pub fn since(&self) -> Option<u64> {
        self.journal.back().filter(|t| t.to == self.current).map(|t| t.at)
    }

    /// The `len` slots of a resolution ending with the one holding `now`,
    /// oldest first (a slot without data has `n == 0`), with the time since
    /// the last mark counted to the current state.
    pub fn slots(&self, res: Resolution, now: u64) -> Vec<Slot> {
        let ring = match res {
            Resolution::Minute => &self.minutes,
            Resolution::TenMinutes => &self.tens,
        };
        let width = res.width_ms();
        let last = now / width;
        let first = (last + 1).saturating_sub(res.slots() as u64);
        let mut out: Vec<Slot> = (first..=last)
            .map(|n| {
                let s = ring[(n % res.slots() as u64) as usize];
                if u64::from(s.n) == n && n > 0 {
                    s
                } else {
                    Slot::default()
                }
            })
            .collect();
        if now > self.mark {
            let i = index(self.current);
            let mut t = self.mark.max(first * width);
            while t < now {
                let n = t / width;
                let end = ((n + 1) * width).min(now);
                let slot = &mut out[(n - first) as usize];
                slot.n = n as u32;
                slot.ms[i] = slot.ms[i].saturating_add((end - t) as u32);
                t = end;
            }
        }
        out
    }

    /// The share of known time spent serving (pass or warn) over the last
    /// `window` (one hour from the minute slots, anything longer from the
    /// ten-minute ones); `None` without any known time.
    pub fn uptime(&self, window: Duration, now: u64) -> Option<f64> {
        let res = if window <= Duration::from_secs(3600) {
            Resolution::Minute
        } else {
            Resolution::TenMinutes
        };
        let keep = (window.as_millis() as u64).div_ceil(res.width_ms()) as usize;
        let slots = self.slots(res, now);
        let (mut up, mut known) = (0u64, 0u64);
        for s in slots.iter().rev().take(keep) {
            up += u64::from(s.ms[0]) + u64::from(s.ms[1]);
            known += u64::from(s.ms[0]) + u64::from(s.ms[1]) + u64::from(s.ms[2]);
        }
        (known > 0).then(|| up as f64 / known as f64)
    }

    fn account(&mut self, from: u64, to: u64, state: State) {
        let i = index(state);
        for (ring, res) in [
            (&mut self.minutes, Resolution::Minute),
            (&mut self.tens, Resolution::TenMinutes),
        ] {
            let width = res.width_ms();
            // Older than the ring is forgotten anyway: start where it begins.
            let mut t = from.max(to.saturating_sub(width * res.slots() as u64));
            while t < to {
                let n = t / width;
                let end = ((n + 1) * width).min(to);
                let slot = slot_at(ring, res, t);
                slot.ms[i] = slot.ms[i].saturating_add((end - t) as u32);
                t = end;
            }
        }
    }
}

/// The slot holding time `at`, emptied first if it still holds an older period.
fn slot_at(ring: &mut [Slot], res: Resolution, at: u64) -> &mut Slot {
    let n = at / res.width_ms();
    let slot = &mut ring[(n % res.slots() as u64) as usize];
    if u64::from(slot.n) != n {
        *slot = Slot::fresh(n as u32);
    }
    slot
}

#[cfg(test)]
mod tests;

//! The scheduler owns time: one task per check, each running its check on its own
//! interval, with a hard timeout and a random first-run delay.
//!
//! A round is awaited before the next is scheduled, so two rounds of one check never
//! overlap; a round that runs past its next tick is followed at once by one round,
//! then the cadence returns to its grid, with no burst for the ticks missed. The timeout drops the check's future, which cancels its I/O. A global
//! semaphore bounds how many rounds are in flight at once (time spent waiting for a
//! permit is not charged to the check's timeout).
//!
//! Compromise: first runs are spread over the jitter window in steps of
//! [`SLOT`] (10 ms), on one grid for the whole process, not at any instant. Checks
//! with the same interval whose first runs share a slot then stay together, and
//! the process wakes once for all of them. With 1,000 checks a second that is 100
//! wake-ups a second instead of 1,000. Each wake-up on this machine costs more than the
//! round it runs: after a millisecond asleep, the caches are cold again.
//! Measured in BENCHMARKS.md (item 20). The price: the requests of a slot
//! leave together instead of spread over its 10 ms, which no dependency notices.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use rand::Rng;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::checks::{Check, Outcome};
use crate::config::Schedule;
use crate::health::{Record, Tracker};
use crate::publisher::{CheckId, Event};

/// Starts one task per check, with ids 0..n; results flow to `tx`. Tasks end
/// when `tx` closes or the returned set is dropped.
pub fn spawn_all(
    checks: Vec<(Arc<dyn Check>, Schedule)>,
    tx: mpsc::Sender<Event>,
    max_in_flight: usize,
) -> JoinSet<()> {
    let permits = Arc::new(Semaphore::new(max_in_flight));
    let mut set = JoinSet::new();
    for (id, (check, schedule)) in checks.into_iter().enumerate() {
        set.spawn(run_check(id as CheckId, check, schedule, tx.clone(), permits.clone()));
    }
    set
}

/// Starts the task of one check; abort the handle to stop it.
pub fn spawn_one(
    id: CheckId,
    check: Arc<dyn Check>,
    schedule: Schedule,
    tx: mpsc::Sender<Event>,
    permits: Arc<Semaphore>,
) -> tokio::task::AbortHandle {
    tokio::spawn(run_check(id, check, schedule, tx, permits)).abort_handle()
}

/// The step of the first-run grid (see the module docs).
pub const SLOT: Duration = Duration::from_millis(10);

/// The origin of the slot grid, shared by every check of the process, including
/// checks a reload adds.
static GRID: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// When the first round starts: a random point in `[now, now + jitter)`, moved to
/// the next slot boundary. With no jitter, now.
fn first_start(now: Instant, jitter: Duration) -> Instant {
    if jitter.is_zero() {
        return now;
    }
    let at = now + rand::rng().random_range(Duration::ZERO..jitter);
    on_grid(at, *GRID.get_or_init(|| now), SLOT.min(jitter))
}

/// The first instant at or after `at` that is a whole number of `slot`s away
/// from `origin`, before or after it.
fn on_grid(at: Instant, origin: Instant, slot: Duration) -> Instant {
    let slot_ns = slot.as_nanos().max(1);
    if at >= origin {
        let steps = (at - origin).as_nanos().div_ceil(slot_ns);
        origin + nanos(steps * slot_ns)
    } else {
        // Under tokio's paused clock a test's runtime may start before the origin.
        let steps = (origin - at).as_nanos() / slot_ns;
        origin - nanos(steps * slot_ns)
    }
}

fn nanos(n: u128) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

async fn run_check(
    id: CheckId,
    check: Arc<dyn Check>,
    schedule: Schedule,
    tx: mpsc::Sender<Event>,
    permits: Arc<Semaphore>,
) {
    // The timer rounds deadlines up to the next millisecond, so even a zero
    // delay would wait for a tick; with no jitter the first round starts now.
    let now = Instant::now();
    let start = first_start(now, schedule.jitter);
    if start > now {
        tokio::time::sleep_until(start).await;
    }
    // The interval follows the state (fast while changing, slow while down,
    // the start interval while starting); this task's own tracker sees the same
    // results as the publisher's, so both agree on the phase.
    let mut tracker = Tracker::new(schedule, now);
    let mut tick = start;
    loop {
        let Ok(permit) = permits.acquire().await else {
            return;
        };
        let record = run_once(check.as_ref(), schedule.timeout).await;
        drop(permit);
        tracker.observe(record.outcome.status, record.at_instant);
        if tx.send(Event::Result { id, record }).await.is_err() {
            return;
        }
        let now = Instant::now();
        tick = next_tick(tick, tracker.next_interval(now), now);
        if tick > now {
            tokio::time::sleep_until(tick).await;
        }
    }
}

/// The next tick: one `interval` after the last. Ticks count from the first
/// run's slot, not from when a round ended, so checks that share a slot keep
/// sharing it. A round that ran past its next tick is followed at once (the
/// tick returned is the last one due, in the past), then the cadence returns
/// to its grid, with no burst for the ticks missed.
fn next_tick(last: Instant, interval: Duration, now: Instant) -> Instant {
    let next = last + interval;
    if next > now {
        return next;
    }
    let missed = (now - next).as_nanos() / interval.as_nanos().max(1);
    next + nanos(missed * interval.as_nanos())
}

/// Runs one round under the timeout, catching panics.
pub async fn run_once(check: &dyn Check, timeout: Duration) -> Record {
    let started = Instant::now();
    let fut = AssertUnwindSafe(check.run(timeout)).catch_unwind();
    let mut outcome = match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_panic)) => Outcome::panicked(),
        Err(_elapsed) => Outcome::timeout(timeout),
    };
    outcome.attempted = check.attempts().map_or(1, crate::checks::Attempts::take);
    Record {
        outcome,
        duration: started.elapsed(),
        at: SystemTime::now(),
        at_instant: Instant::now(),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod timing_tests;

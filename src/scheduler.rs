//! The scheduler owns time: one task per check, each running its check on its own
//! interval, with a hard timeout and a random first-run delay.
//!
//! A round is awaited before the next is scheduled, so two rounds of one check never
//! overlap; a round that runs long delays the next tick instead of queueing a burst.
//! The timeout drops the check's future, which cancels its I/O. A global semaphore
//! bounds how many rounds are in flight at once (time spent waiting for a permit is
//! not charged to the check's timeout).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use rand::Rng;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::checks::{Check, Outcome};
use crate::config::Schedule;
use crate::health::Record;
use crate::publisher::Event;

/// Identifies a running check across reloads (positions change, ids do not).
pub type CheckId = u64;

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

fn first_delay(jitter: Duration) -> Duration {
    if jitter.is_zero() {
        Duration::ZERO
    } else {
        rand::rng().random_range(Duration::ZERO..jitter)
    }
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
    let delay = first_delay(schedule.jitter);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let next = Instant::now() + schedule.interval;
    let mut ticks = tokio::time::interval_at(next, schedule.interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let Ok(permit) = permits.acquire().await else {
            return;
        };
        let record = run_once(check.as_ref(), schedule.timeout).await;
        drop(permit);
        if tx.send(Event::Result { id, record }).await.is_err() {
            return;
        }
        ticks.tick().await;
    }
}

/// Runs one round under the timeout, catching panics.
pub async fn run_once(check: &dyn Check, timeout: Duration) -> Record {
    let started = Instant::now();
    let fut = AssertUnwindSafe(check.run(timeout)).catch_unwind();
    let outcome = match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_panic)) => Outcome::panicked(),
        Err(_elapsed) => Outcome::timeout(timeout),
    };
    Record {
        outcome,
        duration: started.elapsed(),
        at: SystemTime::now(),
        at_instant: Instant::now(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::checks::{RunEnd, Status};

    struct Slow {
        runs: Arc<AtomicUsize>,
        in_flight: Arc<AtomicUsize>,
        max_seen: Arc<AtomicUsize>,
        takes: Duration,
    }

    #[async_trait]
    impl Check for Slow {
        async fn run(&self, _budget: Duration) -> Outcome {
            self.runs.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_seen.fetch_max(now, Ordering::SeqCst);
            // Decrement even when the scheduler drops this future at its timeout.
            struct Guard(Arc<AtomicUsize>);
            impl Drop for Guard {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, Ordering::SeqCst);
                }
            }
            let _g = Guard(self.in_flight.clone());
            tokio::time::sleep(self.takes).await;
            Outcome::pass("done")
        }
        fn measurement(&self) -> &'static str {
            "test"
        }
    }

    fn schedule(interval_ms: u64, timeout_ms: u64) -> Schedule {
        Schedule {
            interval: Duration::from_millis(interval_ms),
            timeout: Duration::from_millis(timeout_ms),
            jitter: Duration::ZERO,
            rise: 1,
            fall: 1,
            max_age: Duration::from_secs(60),
        }
    }

    fn slow(takes_ms: u64) -> (Arc<Slow>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let s = Arc::new(Slow {
            runs: runs.clone(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_seen: max_seen.clone(),
            takes: Duration::from_millis(takes_ms),
        });
        (s, runs, max_seen)
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_is_enforced_by_the_scheduler() {
        let (check, _, _) = slow(10_000);
        let rec = run_once(check.as_ref(), Duration::from_millis(500)).await;
        assert_eq!(rec.outcome.status, Status::Fail);
        assert_eq!(rec.outcome.end, RunEnd::TimedOut);
        assert_eq!(rec.outcome.reason, "timed out after 500ms");
        assert!(rec.duration >= Duration::from_millis(500) && rec.duration < Duration::from_millis(600));
    }

    #[tokio::test(start_paused = true)]
    async fn runs_on_interval_and_never_overlaps() {
        let (check, runs, max_seen) = slow(1_500);
        let (tx, mut rx) = mpsc::channel(16);
        let _set = spawn_all(vec![(check as Arc<dyn Check>, schedule(1_000, 1_000))], tx, 8);
        let mut results = Vec::new();
        for _ in 0..5 {
            results.push(rx.recv().await.expect("result"));
        }
        // Every round hit the 1 s timeout; rounds never ran concurrently.
        assert_eq!(max_seen.load(Ordering::SeqCst), 1);
        assert!(runs.load(Ordering::SeqCst) >= 5);
        for ev in results {
            let Event::Result { record, .. } = ev else {
                panic!("unexpected event")
            };
            assert_eq!(record.outcome.end, RunEnd::TimedOut);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn cadence_follows_interval() {
        let (check, _, _) = slow(10);
        let (tx, mut rx) = mpsc::channel(16);
        let t0 = Instant::now();
        let _set = spawn_all(vec![(check as Arc<dyn Check>, schedule(2_000, 1_000))], tx, 8);
        let mut at = Vec::new();
        for _ in 0..3 {
            rx.recv().await.expect("result");
            at.push(Instant::now().duration_since(t0).as_millis());
        }
        assert_eq!(at, [10, 2_010, 4_010]);
    }

    struct Panics;
    #[async_trait]
    impl Check for Panics {
        async fn run(&self, _budget: Duration) -> Outcome {
            panic!("boom")
        }
        fn measurement(&self) -> &'static str {
            "test"
        }
    }

    #[tokio::test]
    async fn a_panicking_check_fails_instead_of_dying() {
        let rec = run_once(&Panics, Duration::from_secs(1)).await;
        assert_eq!(rec.outcome.end, RunEnd::Panicked);
        assert_eq!(rec.outcome.status, Status::Fail);
    }
}

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;
use crate::checks::RunEnd;
use crate::status::Status;

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
        max_age: Duration::from_secs(60),
        ..Schedule::fixed(
            Duration::from_millis(interval_ms),
            Duration::from_millis(timeout_ms),
            1,
            1,
        )
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

#[test]
fn the_grid_rounds_up_to_the_next_slot_on_either_side_of_its_origin() {
    let origin = Instant::now();
    let slot = Duration::from_millis(10);
    let ms = Duration::from_millis;
    for (after, want) in [(0, 0), (1, 10), (9, 10), (10, 10), (11, 20), (1_005, 1_010)] {
        assert_eq!(
            on_grid(origin + ms(after), origin, slot),
            origin + ms(want),
            "{after} ms"
        );
    }
    let early = origin + ms(5_000);
    for (before, want) in [(1, 0), (10, 10), (15, 10), (2_000, 2_000)] {
        assert_eq!(
            on_grid(early - ms(before), early, slot),
            early - ms(want),
            "-{before} ms"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn jittered_first_runs_share_slots_and_keep_them() {
    let (tx, mut rx) = mpsc::channel(1_024);
    let mut checks = Vec::new();
    for _ in 0..200 {
        let (check, _, _) = slow(3);
        let mut s = schedule(1_000, 500);
        s.jitter = Duration::from_secs(1);
        checks.push((check as Arc<dyn Check>, s));
    }
    let _set = spawn_all(checks, tx, 1_000);
    let mut starts = std::collections::HashMap::<CheckId, Vec<Instant>>::new();
    for _ in 0..600 {
        let Some(Event::Result { id, record }) = rx.recv().await else {
            panic!("unexpected event")
        };
        starts.entry(id).or_default().push(record.at_instant - record.duration);
    }
    let origin = *GRID.get().expect("set by the first jittered check");
    let mut slots = std::collections::HashSet::new();
    for at in starts.values().flatten() {
        let offset = if *at >= origin { *at - origin } else { origin - *at };
        assert_eq!(offset.as_nanos() % SLOT.as_nanos(), 0, "a round started off the grid");
        slots.insert(offset.as_millis() % 1_000);
    }
    // 200 checks over a 1 s window: at most 100 distinct slots, so at most
    // 100 wake-ups a second, however many checks there are.
    assert!(slots.len() <= 100, "{} slots", slots.len());
    assert!(
        slots.len() > 50,
        "first runs should still spread: {} slots",
        slots.len()
    );
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

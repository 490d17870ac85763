//! Check timing that follows the state, under tokio's paused clock: the
//! interval in each phase, the start period, flap detection, and staleness
//! with a long `down_interval`.

use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::config::{FlapPolicy, Schedule};
use crate::health::{CheckState, Phase, Tracker};
use crate::status::{State, Status};

/// A check that answers a scripted sequence (the last status repeats).
struct Scripted(Mutex<Vec<Status>>);

#[async_trait]
impl Check for Scripted {
    async fn run(&self, _budget: Duration) -> Outcome {
        let mut left = self.0.lock().unwrap();
        let s = if left.len() > 1 { left.remove(0) } else { left[0] };
        Outcome::new(s, s.as_str())
    }
    fn measurement(&self) -> &'static str {
        "test"
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn timed(interval: u64, fast: u64, down: u64, rise: u32, fall: u32) -> Schedule {
    Schedule {
        fast_interval: ms(fast),
        down_interval: ms(down),
        start_interval: ms(fast),
        max_age: ms(down) * 3 + ms(100),
        ..Schedule::fixed(ms(interval), ms(100), rise, fall)
    }
}

/// The gaps between the starts of the first `n` rounds of `script`.
async fn gaps(schedule: Schedule, script: Vec<Status>, n: usize) -> Vec<u128> {
    let check = Arc::new(Scripted(Mutex::new(script)));
    let (tx, mut rx) = mpsc::channel(64);
    let _set = spawn_all(vec![(check as Arc<dyn Check>, schedule)], tx, 8);
    let mut at = Vec::new();
    for _ in 0..n {
        rx.recv().await.expect("result");
        at.push(Instant::now());
    }
    at.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect()
}

use Status::{Fail, Pass};

#[tokio::test(start_paused = true)]
async fn the_interval_follows_the_phase() {
    // fall 3, rise 2: pass (steady), fail, fail (changing: fast), fail (now
    // failing: down), fail (down), pass (changing: fast), pass (steady again).
    let script = vec![Pass, Fail, Fail, Fail, Fail, Pass, Pass, Pass];
    let g = gaps(timed(2_000, 200, 10_000, 2, 3), script, 8).await;
    assert_eq!(g, [2_000, 200, 200, 10_000, 10_000, 200, 2_000]);
}

#[tokio::test(start_paused = true)]
async fn defaults_keep_one_interval() {
    let script = vec![Pass, Fail, Fail, Fail, Pass, Pass];
    let g = gaps(Schedule::fixed(ms(1_000), ms(100), 2, 3), script, 6).await;
    assert_eq!(g, [1_000; 5]);
}

#[tokio::test(start_paused = true)]
async fn the_start_period_uses_the_start_interval_until_a_pass() {
    let s = Schedule {
        start_period: ms(5_000),
        start_interval: ms(500),
        ..timed(2_000, 500, 10_000, 1, 1)
    };
    // Failing while starting: start_interval; the pass ends the period.
    let g = gaps(s, vec![Fail, Fail, Fail, Pass, Pass], 5).await;
    assert_eq!(g, [500, 500, 500, 2_000]);
}

#[test]
fn start_period_failures_do_not_count_then_do() {
    let t0 = Instant::now();
    let s = Schedule {
        start_period: ms(3_000),
        ..Schedule::fixed(ms(1_000), ms(100), 1, 2)
    };
    let mut st = CheckState::started_at(s, t0);
    let rec = |status: Status, at: u64| Record {
        outcome: Outcome::new(status, "x"),
        duration: ms(1),
        at: SystemTime::now(),
        at_instant: t0 + ms(at),
    };
    let (state, reason) = st.report(t0);
    assert_eq!((state, &*reason), (State::Unknown, "starting (3 s left)"));
    st.record(rec(Fail, 1_000));
    st.record(rec(Fail, 2_000));
    let (state, reason) = st.report(t0 + ms(2_000));
    assert_eq!(state, State::Unknown);
    assert_eq!(&*reason, "starting (1 s left): x");
    assert_eq!(st.consecutive_fail(), 0, "failures while starting are not counted");
    assert!(st.starting(t0 + ms(2_000)));
    // The period is over: failures count now (fall 2).
    st.record(rec(Fail, 3_500));
    assert_eq!(
        st.state(t0 + ms(3_500)),
        State::Known(Fail),
        "the first counted result is taken as is"
    );
    assert_eq!(st.consecutive_fail(), 1);

    // A pass ends the period early.
    let mut early = CheckState::started_at(s, t0);
    early.record(rec(Fail, 100));
    early.record(rec(Pass, 200));
    assert!(!early.starting(t0 + ms(300)));
    assert_eq!(early.state(t0 + ms(300)), State::Known(Pass));
    early.record(rec(Fail, 400));
    assert_eq!(
        early.state(t0 + ms(400)),
        State::Known(Pass),
        "fall 2: one failure is not enough"
    );
    assert_eq!(early.consecutive_fail(), 1);
}

#[test]
fn flapping_is_flagged_on_alternation_and_cleared_by_stable_results() {
    let t0 = Instant::now();
    let s = Schedule {
        flap: FlapPolicy {
            low: 20,
            high: 30,
            on_flap: Some(Status::Warn),
        },
        ..Schedule::fixed(ms(1_000), ms(100), 3, 3)
    };
    let mut t = Tracker::new(s, t0);
    // Fewer than 21 results: no verdict yet, however they alternate.
    for i in 0..20 {
        t.observe(if i % 2 == 0 { Pass } else { Fail }, t0);
        assert!(!t.flapping(), "result {i}");
    }
    t.observe(Pass, t0);
    // 20 changes out of 20: 100 %.
    assert!((t.state_change_percent() - 100.0).abs() < 1e-9);
    assert!(t.flapping());
    // Stable results push the changes out of the window, newest first weighing more.
    let mut cleared_after = None;
    for i in 1..=21 {
        t.observe(Pass, t0);
        if !t.flapping() {
            cleared_after = Some(i);
            break;
        }
    }
    let n = cleared_after.expect("flapping ends once results are stable");
    assert!((10..=21).contains(&n), "cleared after {n} stable results");
    assert!(t.state_change_percent() <= 20.0);

    // on_flap = "warn": a passing but flapping check reports warn, with a reason.
    let mut st = CheckState::started_at(s, t0);
    for i in 0..21 {
        st.record(Record {
            outcome: Outcome::new(if i % 2 == 0 { Pass } else { Fail }, "x"),
            duration: ms(1),
            at: SystemTime::now(),
            at_instant: t0,
        });
    }
    assert!(st.flapping());
    let (state, reason) = st.report(t0);
    assert_eq!(state, State::Known(Status::Warn));
    assert!(reason.starts_with("flapping (100 % state change)"), "{reason}");
}

#[test]
fn the_weights_are_nagios_ones() {
    let t0 = Instant::now();
    let mut t = Tracker::new(Schedule::fixed(ms(1_000), ms(100), 1, 1), t0);
    // 20 passes then one failure: only the newest change, weight 1.25.
    for _ in 0..20 {
        t.observe(Pass, t0);
    }
    t.observe(Fail, t0);
    assert!((t.state_change_percent() - 1.25 * 100.0 / 20.0).abs() < 1e-9);
    // A change at the oldest position weighs 0.75.
    let mut t = Tracker::new(Schedule::fixed(ms(1_000), ms(100), 1, 1), t0);
    t.observe(Fail, t0);
    for _ in 0..20 {
        t.observe(Pass, t0);
    }
    assert!((t.state_change_percent() - 0.75 * 100.0 / 20.0).abs() < 1e-9);
}

#[test]
fn phases_and_intervals() {
    let t0 = Instant::now();
    let mut t = Tracker::new(timed(2_000, 200, 10_000, 2, 3), t0);
    assert_eq!(t.phase(t0), Phase::Steady);
    t.observe(Pass, t0);
    assert_eq!(t.next_interval(t0), ms(2_000));
    t.observe(Fail, t0);
    assert_eq!(t.phase(t0), Phase::Changing);
    t.observe(Fail, t0);
    t.observe(Fail, t0);
    assert_eq!(t.phase(t0), Phase::Down);
    assert_eq!(t.next_interval(t0), ms(10_000));
    t.observe(Pass, t0);
    assert_eq!(t.phase(t0), Phase::Changing);
    t.observe(Pass, t0);
    assert_eq!(t.phase(t0), Phase::Steady);
}

#[test]
fn max_age_outlasts_a_long_down_interval() {
    let text = "[[checks]]\nname = \"x\"\nkind = \"tcp\"\naddress = \"127.0.0.1:1\"\ninterval = \"1s\"\ntimeout = \"500ms\"\ndown_interval = \"10s\"\n";
    let cfg = crate::config::Config::from_toml_str(text).unwrap();
    let s = cfg.checks[0].schedule;
    assert_eq!(s.max_age, ms(30_500), "3 x the longest interval + the timeout");
    // A failing check polled every 10 s is not stale between rounds.
    let t0 = Instant::now();
    let mut st = CheckState::started_at(s, t0);
    st.record(Record {
        outcome: Outcome::new(Fail, "down"),
        duration: ms(1),
        at: SystemTime::now(),
        at_instant: t0,
    });
    assert!(!st.is_stale(t0 + ms(10_500)));
    assert!(st.is_stale(t0 + ms(31_000)));
}

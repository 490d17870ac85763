use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::*;
use crate::checks::Outcome;
use crate::config::Schedule;
use crate::status::Status;

fn schedule(rise: u32, fall: u32) -> Schedule {
    Schedule {
        max_age: Duration::from_secs(7),
        ..Schedule::fixed(Duration::from_secs(2), Duration::from_secs(1), rise, fall)
    }
}

fn rec(status: Status) -> Record {
    Record {
        outcome: Outcome::new(status, status.as_str()),
        duration: Duration::from_millis(3),
        at: SystemTime::now(),
        at_instant: Instant::now(),
    }
}

/// The reported state, checking that `state()` (the publisher's cheap test for a
/// change) agrees with `report()` (what is published).
fn reported(s: &CheckState) -> State {
    let state = s.report(Instant::now()).0;
    assert_eq!(s.state(Instant::now()), state);
    state
}

fn feed(state: &mut CheckState, seq: &[Status]) -> Vec<&'static str> {
    seq.iter()
        .map(|s| {
            state.record(rec(*s));
            reported(state).as_str()
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn unknown_before_first_result() {
    let s = CheckState::new(schedule(2, 3));
    let (state, reason) = s.report(Instant::now());
    assert_eq!(reported(&s), State::Unknown);
    assert_eq!(state, State::Unknown);
    assert_eq!(&*reason, "no result yet");
}

#[tokio::test(start_paused = true)]
async fn defaults_follow_every_result() {
    use Status::*;
    let mut s = CheckState::new(schedule(1, 1));
    assert_eq!(
        feed(&mut s, &[Pass, Fail, Pass, Warn, Fail]),
        ["pass", "fail", "pass", "warn", "fail"]
    );
}

#[tokio::test(start_paused = true)]
async fn fall_needs_consecutive_failures() {
    use Status::*;
    let mut s = CheckState::new(schedule(1, 3));
    assert_eq!(
        feed(&mut s, &[Pass, Fail, Fail, Pass, Fail, Fail, Fail]),
        ["pass", "pass", "pass", "pass", "pass", "pass", "fail"]
    );
    // While held, the reason says so.
    s.record(rec(Pass));
    s.record(rec(Fail));
    assert!(s
        .report(Instant::now())
        .1
        .starts_with("failing, still counted pass (1 of 3"));
}

#[tokio::test(start_paused = true)]
async fn rise_needs_consecutive_passes() {
    use Status::*;
    let mut s = CheckState::new(schedule(2, 1));
    assert_eq!(
        feed(&mut s, &[Fail, Pass, Fail, Pass, Warn, Pass]),
        ["fail", "fail", "fail", "fail", "warn", "pass"]
    );
    let mut s = CheckState::new(schedule(2, 1));
    feed(&mut s, &[Fail, Pass]);
    assert!(s
        .report(Instant::now())
        .1
        .starts_with("recovering (1 of 2 passes needed)"));
}

#[tokio::test(start_paused = true)]
async fn stale_after_max_age() {
    let mut s = CheckState::new(schedule(1, 1));
    s.record(rec(Status::Pass));
    tokio::time::advance(Duration::from_secs(7)).await;
    assert_eq!(reported(&s), State::Known(Status::Pass));
    assert!(s.stale_at(Instant::now()).is_some());
    tokio::time::advance(Duration::from_millis(1)).await;
    let (state, reason) = s.report(Instant::now());
    assert_eq!(reported(&s), State::Known(Status::Fail));
    assert_eq!(state, State::Known(Status::Fail));
    assert!(reason.starts_with("stale"), "{reason}");
    assert_eq!(s.stale_at(Instant::now()), None);
}

#[test]
fn aggregation_rules() {
    use crate::status::State::*;
    use Status::*;
    assert_eq!(aggregate([(true, Known(Pass)), (false, Known(Pass))]), Pass);
    assert_eq!(aggregate([(true, Known(Pass)), (true, Known(Warn))]), Warn);
    assert_eq!(aggregate([(true, Known(Pass)), (false, Known(Fail))]), Warn);
    assert_eq!(aggregate([(true, Known(Pass)), (false, Unknown)]), Warn);
    assert_eq!(aggregate([(true, Unknown), (false, Known(Pass))]), Fail);
    assert_eq!(aggregate([(true, Known(Warn)), (true, Known(Fail))]), Fail);
    assert_eq!(aggregate(std::iter::empty()), Pass);
}

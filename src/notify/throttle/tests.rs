use std::time::Duration;

use super::*;
use crate::status::Status;

const PASS: State = State::Known(Status::Pass);
const WARN: State = State::Known(Status::Warn);
const FAIL: State = State::Known(Status::Fail);

fn change(from: State, to: State) -> Change {
    Change {
        check: "es".into(),
        critical: true,
        from,
        to,
        reason: "why".into(),
        at: 0,
        status: Status::Fail,
    }
}

fn rules(min: u64) -> Rules {
    Rules {
        on: vec![FAIL],
        send_resolved: true,
        min_interval: Duration::from_secs(min),
    }
}

fn sent(v: Verdict) -> Option<(State, State)> {
    match v {
        Verdict::Send(c) => Some((c.from, c.to)),
        _ => None,
    }
}

#[test]
fn arrivals_in_on_states_and_their_resolution_are_sent() {
    let mut t = Throttle::new(rules(0));
    let now = Instant::now();
    assert_eq!(
        sent(t.offer(change(State::Unknown, PASS), now)),
        None,
        "a start that passes says nothing"
    );
    assert_eq!(sent(t.offer(change(PASS, WARN), now)), None);
    assert_eq!(sent(t.offer(change(WARN, FAIL), now)), Some((WARN, FAIL)));
    // Leaving fail for warn resolves the failure; then warn -> pass is news to nobody.
    assert_eq!(sent(t.offer(change(FAIL, WARN), now)), Some((FAIL, WARN)));
    assert_eq!(sent(t.offer(change(WARN, PASS), now)), None);
}

#[test]
fn without_send_resolved_only_arrivals_are_sent() {
    let mut t = Throttle::new(Rules {
        send_resolved: false,
        ..rules(0)
    });
    let now = Instant::now();
    assert!(sent(t.offer(change(PASS, FAIL), now)).is_some());
    assert_eq!(sent(t.offer(change(FAIL, PASS), now)), None);
}

#[test]
fn a_flapping_check_sends_one_event_per_interval_merged() {
    let mut t = Throttle::new(rules(30));
    let t0 = Instant::now();
    assert_eq!(sent(t.offer(change(PASS, FAIL), t0)), Some((PASS, FAIL)));
    // Twenty flaps in the next 30 s: all held.
    for i in 0..20u64 {
        let (from, to) = if i % 2 == 0 { (FAIL, PASS) } else { (PASS, FAIL) };
        assert_eq!(t.offer(change(from, to), t0 + Duration::from_secs(i)), Verdict::Held);
    }
    // It ended on fail, which the receiver already knows: nothing to say.
    assert_eq!(t.next_due(), Some(t0 + Duration::from_secs(30)));
    assert!(t.due(t0 + Duration::from_secs(29)).is_empty());
    assert!(t.due(t0 + Duration::from_secs(30)).is_empty());
    // One more flap to pass after the interval: sent at once.
    assert_eq!(
        sent(t.offer(change(FAIL, PASS), t0 + Duration::from_secs(31))),
        Some((FAIL, PASS))
    );
    // Back to fail within the interval: held, then sent merged from pass.
    assert_eq!(t.offer(change(PASS, WARN), t0 + Duration::from_secs(32)), Verdict::Held);
    assert_eq!(t.offer(change(WARN, FAIL), t0 + Duration::from_secs(33)), Verdict::Held);
    let due = t.due(t0 + Duration::from_secs(61));
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].from, due[0].to), (PASS, FAIL));
    assert_eq!(t.next_due(), None);
}

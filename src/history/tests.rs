use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::status::Status;

const PASS: State = State::Known(Status::Pass);
const FAIL: State = State::Known(Status::Fail);
const WARN: State = State::Known(Status::Warn);
/// 2026-12-02T00:00:00Z.
const DAY0: u64 = 1_796_169_600_000;
const S: u64 = 1000;
const MIN: u64 = 60 * S;
const HOUR: u64 = 60 * MIN;

/// Plays a check probed every `every` ms from `from` to `to`, in `state`.
fn play(h: &mut CheckHistory, from: u64, to: u64, every: u64, state: State) {
    let mut t = from;
    while t < to {
        h.observe(t, state);
        h.run(t, state, Duration::from_millis(3));
        t += every;
    }
    h.observe(to, state);
}

#[test]
fn a_day_of_results_fills_both_rings_and_uptime_is_time_weighted() {
    let mut h = CheckHistory::new(DAY0);
    // 23 hours passing every 10 s, then one hour failing probed every second:
    // the failing hour has ten times the results but counts as one hour.
    play(&mut h, DAY0, DAY0 + 23 * HOUR, 10 * S, PASS);
    play(&mut h, DAY0 + 23 * HOUR, DAY0 + 24 * HOUR, S, FAIL);
    let now = DAY0 + 24 * HOUR;
    let day = h.uptime(Duration::from_secs(86_400), now).unwrap();
    assert!((day - 23.0 / 24.0).abs() < 0.001, "{day}");
    assert_eq!(h.uptime(Duration::from_secs(3600), now), Some(0.0));
    let minutes = h.slots(Resolution::Minute, now - 1);
    assert_eq!(minutes.len(), 60);
    assert!(minutes.iter().all(|s| s.worst() == Some(FAIL)));
    assert_eq!(minutes[10].runs[2], 60, "60 one-second results per minute");
    assert_eq!(minutes[10].ms[2], 60_000);
    let tens = h.slots(Resolution::TenMinutes, now - 1);
    assert_eq!(tens.len(), 144);
    assert_eq!(tens[0].worst(), Some(PASS));
    assert_eq!(tens[0].runs[0], 60, "a 10 s interval gives 60 results per ten minutes");
    assert_eq!(tens[143].worst(), Some(FAIL));
    assert_eq!(tens[0].mean_ms(), Some(3.0));
    // A day later still, the old day is gone from both rings.
    let later = now + 25 * HOUR;
    assert!(h.stored(Resolution::TenMinutes).count() <= 144);
    let gone = h.slots(Resolution::TenMinutes, later);
    assert!(gone[..140]
        .iter()
        .all(|s| s.worst().is_none() || s.worst() == Some(FAIL)));
}

#[test]
fn long_intervals_still_fill_every_minute_and_unknown_is_not_down() {
    let mut h = CheckHistory::new(DAY0);
    // Unknown for the first 5 minutes (starting), then a result every 5 minutes.
    play(&mut h, DAY0 + 5 * MIN, DAY0 + HOUR, 5 * MIN, WARN);
    let now = DAY0 + HOUR;
    let minutes = h.slots(Resolution::Minute, now - 1);
    assert!(minutes[..5].iter().all(|s| s.worst() == Some(State::Unknown)));
    assert!(minutes[5..].iter().all(|s| s.worst() == Some(WARN)), "{minutes:?}");
    // Warn serves; the unknown start is not counted at all.
    assert_eq!(h.uptime(Duration::from_secs(3600), now), Some(1.0));
}

#[test]
fn the_time_since_the_last_result_counts_to_the_current_state() {
    let mut h = CheckHistory::new(DAY0);
    h.observe(DAY0, FAIL);
    let slots = h.slots(Resolution::Minute, DAY0 + 90 * S);
    assert_eq!(slots[58].ms[2], 60_000);
    assert_eq!(slots[59].ms[2], 30_000);
    assert_eq!(h.uptime(Duration::from_secs(3600), DAY0 + 90 * S), Some(0.0));
    // A clock stepped back accounts nothing and breaks nothing.
    h.observe(DAY0 - HOUR, PASS);
    assert_eq!(h.current(), PASS);
}

#[test]
fn the_journal_keeps_the_last_hundred_with_capped_reasons() {
    let mut h = CheckHistory::new(DAY0);
    let long: Arc<str> = Arc::from("é".repeat(5000));
    for i in 0..150u64 {
        let (from, to) = if i % 2 == 0 { (PASS, FAIL) } else { (FAIL, PASS) };
        h.observe(DAY0 + i * S, to);
        h.transition(DAY0 + i * S, from, to, &long);
    }
    assert_eq!(h.transitions().len(), JOURNAL);
    assert_eq!(h.transitions().next().unwrap().at, DAY0 + 50 * S);
    let reason = &h.transitions().next().unwrap().reason;
    assert!(reason.len() <= REASON_CAP + 3, "{}", reason.len());
    assert_eq!(h.since(), Some(DAY0 + 149 * S));
}

#[test]
fn the_file_round_trip_keeps_slots_and_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.json");
    let mut h = CheckHistory::new(DAY0);
    play(&mut h, DAY0, DAY0 + 2 * HOUR, 10 * S, PASS);
    h.transition(DAY0 + HOUR, PASS, FAIL, &Arc::from("cluster red"));
    file::save(&path, &[("es", "elasticsearch", &h)], DAY0 + 2 * HOUR).unwrap();
    let back = file::load(&path, DAY0 + 2 * HOUR + 30 * S).unwrap();
    let (kind, r) = &back["es"];
    assert_eq!(kind, "elasticsearch");
    assert_eq!(r.transitions().next().unwrap().reason.as_ref(), "cluster red");
    assert_eq!(
        r.current(),
        State::Unknown,
        "the process was down: unknown until a result"
    );
    let now = DAY0 + 2 * HOUR + 30 * S;
    assert_eq!(
        r.slots(Resolution::TenMinutes, now)[..143],
        h.slots(Resolution::TenMinutes, DAY0 + 2 * HOUR - 1)[1..],
    );
    assert_eq!(r.uptime(Duration::from_secs(3600), now), Some(1.0));
}

#[test]
fn a_corrupt_or_foreign_file_is_reported_and_a_missing_one_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.json");
    assert!(file::load(&path, DAY0).unwrap().is_empty());
    std::fs::write(&path, b"{\"format\": \"healthgate-hist").unwrap();
    let e = file::load(&path, DAY0).unwrap_err().to_string();
    assert!(e.contains("not a healthgate history file"), "{e}");
    std::fs::write(&path, br#"{"format":"healthgate-history/9","saved":0,"checks":[]}"#).unwrap();
    let e = file::load(&path, DAY0).unwrap_err().to_string();
    assert!(e.contains("format \"healthgate-history/9\""), "{e}");
    std::fs::write(&path, b"\x00\xff<script>").unwrap();
    assert!(file::load(&path, DAY0).is_err());
}

#[test]
fn a_thousand_full_histories_fit_the_stated_budget() {
    // Each history at its largest (every slot used, a full journal of
    // reasons at the cap, none shared), plus the copy of its rings the
    // publisher makes while a snapshot still holds the previous version.
    let rings = (MINUTE_SLOTS + TEN_MINUTE_SLOTS) * std::mem::size_of::<Slot>();
    let worst = CheckHistory::max_bytes() + rings;
    eprintln!(
        "slot {} B, rings {rings} B, transition {} B, one history at most {} B, with the copy {worst} B",
        std::mem::size_of::<Slot>(),
        std::mem::size_of::<Transition>(),
        CheckHistory::max_bytes()
    );
    assert_eq!(std::mem::size_of::<Slot>(), 40);
    assert!(1000 * worst < 32 << 20, "{} bytes at 1,000 checks", 1000 * worst);
}

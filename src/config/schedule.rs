//! When a check runs and how its results are smoothed: the shared keys of every
//! `[[checks]]` entry, with defaults from `[defaults]`.
//!
//! Intervals follow the state (HAProxy's `fastinter`/`downinter`, Envoy's edge
//! and unhealthy intervals): `fast_interval` while the state is changing,
//! `down_interval` while the check is failing, `start_interval` during the
//! `start_period` (Docker's `--start-period`/`--start-interval`). Defaults keep
//! one interval throughout. No phase polls faster than `fast_interval`, so the
//! worst-case request rate of one check is one round per `fast_interval`.

use std::time::Duration;

use super::fields::Table;
use crate::status::Status;

/// The longest start period accepted: a dependency not ready within an hour
/// is not starting, it is broken.
const MAX_START_PERIOD: Duration = Duration::from_secs(3600);

/// When and how often a check runs, and how its results are smoothed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Time between the starts of two rounds while the state is steady.
    pub interval: Duration,
    /// Hard limit for one round, enforced by the scheduler.
    pub timeout: Duration,
    /// The first round starts after a random delay in `[0, jitter)`.
    pub jitter: Duration,
    /// Consecutive passes before a failing check counts as passing again.
    pub rise: u32,
    /// Consecutive failures before a passing check counts as failing.
    pub fall: u32,
    /// A result older than this is reported as `fail` with reason `stale`.
    pub max_age: Duration,
    /// The interval while the state is changing: after a first failure before
    /// `fall` is reached, after a first pass before `rise` is reached.
    pub fast_interval: Duration,
    /// The interval while the check is failing and not changing.
    pub down_interval: Duration,
    /// Until the first non-failing result, or until this much time has
    /// passed, failures do not count and the check reports `unknown`.
    pub start_period: Duration,
    /// The interval during the start period.
    pub start_interval: Duration,
    /// How a starting critical check counts in the aggregate: `Fail` keeps the
    /// instance out of rotation until it is ready, `Warn` lets it serve.
    pub while_starting: Status,
    /// Flap detection.
    pub flap: FlapPolicy,
}

/// Flap detection (Nagios): the weighted percentage of state changes over the
/// last 21 raw results; flapping starts at `high` and ends at `low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlapPolicy {
    /// Flapping ends when the state change falls to this percentage or below.
    pub low: u8,
    /// Flapping starts when the state change reaches this percentage.
    pub high: u8,
    /// What a flapping check reports at least (`None`: only flagged).
    pub on_flap: Option<Status>,
}

impl Schedule {
    /// One interval throughout, no start period, default flap thresholds,
    /// `max_age` derived: what a check gets when only these are given.
    pub fn fixed(interval: Duration, timeout: Duration, rise: u32, fall: u32) -> Schedule {
        Schedule {
            interval,
            timeout,
            jitter: Duration::ZERO,
            rise,
            fall,
            max_age: interval * 3 + timeout,
            fast_interval: interval,
            down_interval: interval,
            start_period: Duration::ZERO,
            start_interval: interval,
            while_starting: Status::Fail,
            flap: FlapPolicy::default(),
        }
    }

    /// The longest interval this schedule can use (what staleness waits for).
    pub fn longest_interval(&self) -> Duration {
        self.interval.max(self.down_interval).max(self.start_interval)
    }
}

impl Default for FlapPolicy {
    fn default() -> Self {
        FlapPolicy {
            low: 20,
            high: 30,
            on_flap: None,
        }
    }
}

/// The `[defaults]` values before per-check overrides; `None` means "derive".
#[derive(Clone, Copy)]
pub(super) struct Base {
    interval: Duration,
    timeout: Duration,
    jitter: Option<Duration>,
    rise: u32,
    fall: u32,
    fast_interval: Option<Duration>,
    down_interval: Option<Duration>,
    start_period: Option<Duration>,
    start_interval: Option<Duration>,
    while_starting: Option<Status>,
    flap_low: Option<u8>,
    flap_high: Option<u8>,
    on_flap: Option<Option<Status>>,
}

/// Reads `[defaults]`.
pub(super) fn parse_defaults(t: Option<&Table>) -> Base {
    let mut b = Base {
        interval: Duration::from_secs(2),
        timeout: Duration::from_secs(1),
        jitter: None,
        rise: 1,
        fall: 1,
        fast_interval: None,
        down_interval: None,
        start_period: None,
        start_interval: None,
        while_starting: None,
        flap_low: None,
        flap_high: None,
        on_flap: None,
    };
    if let Some(t) = t {
        b.interval = t.duration("interval").unwrap_or(b.interval);
        b.timeout = t.duration("timeout").unwrap_or(b.timeout);
        b.jitter = t.duration("jitter");
        b.rise = t.count("rise").unwrap_or(b.rise);
        b.fall = t.count("fall").unwrap_or(b.fall);
        b.fast_interval = t.duration("fast_interval");
        b.down_interval = t.duration("down_interval");
        b.start_period = t.duration("start_period");
        b.start_interval = t.duration("start_interval");
        b.while_starting = while_starting(t);
        b.flap_low = percent(t, "flap_low");
        b.flap_high = percent(t, "flap_high");
        b.on_flap = on_flap(t);
        t.finish();
    }
    b
}

fn while_starting(t: &Table) -> Option<Status> {
    match t.str("while_starting").as_deref() {
        None => None,
        Some("fail") => Some(Status::Fail),
        Some("warn") => Some(Status::Warn),
        Some(other) => {
            t.problem(
                "while_starting",
                &format!("invalid value \"{other}\" (expected fail, which keeps a starting instance out of rotation, or warn)"),
            );
            None
        }
    }
}

fn on_flap(t: &Table) -> Option<Option<Status>> {
    match t.str("on_flap").as_deref() {
        None => None,
        Some("none") => Some(None),
        Some("warn") => Some(Some(Status::Warn)),
        Some("fail") => Some(Some(Status::Fail)),
        Some(other) => {
            t.problem(
                "on_flap",
                &format!("invalid value \"{other}\" (expected none, warn or fail)"),
            );
            None
        }
    }
}

fn percent(t: &Table, key: &str) -> Option<u8> {
    let n = t.u64(key)?;
    if n > 100 {
        t.problem(key, &format!("must be a percentage from 0 to 100, found {n}"));
        return None;
    }
    Some(n as u8)
}

fn fmt(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(d)
}

/// Reads a check's schedule keys over the defaults, reporting every problem.
pub(super) fn parse(t: &Table, base: Base) -> Option<Schedule> {
    let interval = t.duration("interval").unwrap_or(base.interval);
    let timeout = t.duration("timeout").unwrap_or(base.timeout);
    let jitter = t
        .duration("jitter")
        .or(base.jitter)
        .unwrap_or_else(|| (interval / 10).min(Duration::from_secs(1)));
    let rise = t.count("rise").unwrap_or(base.rise);
    let fall = t.count("fall").unwrap_or(base.fall);
    let fast_interval = t.duration("fast_interval").or(base.fast_interval).unwrap_or(interval);
    let down_interval = t.duration("down_interval").or(base.down_interval).unwrap_or(interval);
    let start_period = t.duration("start_period").or(base.start_period).unwrap_or_default();
    let start_interval = t
        .duration("start_interval")
        .or(base.start_interval)
        .unwrap_or(fast_interval);
    let while_starting = while_starting(t).or(base.while_starting).unwrap_or(Status::Fail);
    let defaults = FlapPolicy::default();
    let flap = FlapPolicy {
        low: percent(t, "flap_low").or(base.flap_low).unwrap_or(defaults.low),
        high: percent(t, "flap_high").or(base.flap_high).unwrap_or(defaults.high),
        on_flap: on_flap(t).or(base.on_flap).unwrap_or(defaults.on_flap),
    };
    let longest = interval.max(down_interval).max(start_interval);
    let max_age = t.duration("max_age").unwrap_or(longest * 3 + timeout);
    let mut ok = true;
    let mut bad = |key: &str, message: String| {
        t.problem(key, &message);
        ok = false;
    };
    if interval < Duration::from_millis(10) {
        bad("interval", "must be at least 10ms".into());
    }
    if timeout.is_zero() {
        bad("timeout", "must be greater than zero".into());
    } else if timeout > interval {
        bad(
            "timeout",
            format!(
                "{} is longer than the interval {} (a round must end before the next starts)",
                fmt(timeout),
                fmt(interval)
            ),
        );
    }
    if jitter > interval {
        bad("jitter", "must not be longer than the interval".into());
    }
    if fast_interval > interval {
        bad(
            "fast_interval",
            format!(
                "{} is longer than the interval {} (it is used while the state changes, to decide sooner)",
                fmt(fast_interval),
                fmt(interval)
            ),
        );
    }
    if start_interval < fast_interval {
        bad(
            "start_interval",
            format!(
                "{} is shorter than fast_interval {} (no phase polls faster than fast_interval)",
                fmt(start_interval),
                fmt(fast_interval)
            ),
        );
    }
    // An interval left to its default follows another key, whose own problem
    // says it already: one mistake, one message.
    let fast_set = t.has("fast_interval") || base.fast_interval.is_some();
    for (key, value, set) in [
        ("fast_interval", fast_interval, fast_set),
        (
            "down_interval",
            down_interval,
            t.has("down_interval") || base.down_interval.is_some(),
        ),
        (
            "start_interval",
            start_interval,
            t.has("start_interval") || base.start_interval.is_some(),
        ),
    ] {
        if set && !timeout.is_zero() && value < timeout {
            bad(
                key,
                format!(
                    "{} is shorter than the timeout {} (a round must end before the next starts)",
                    fmt(value),
                    fmt(timeout)
                ),
            );
        }
    }
    if start_period > MAX_START_PERIOD {
        bad(
            "start_period",
            format!(
                "{} is longer than the longest start period, {}",
                fmt(start_period),
                fmt(MAX_START_PERIOD)
            ),
        );
    }
    if flap.low > flap.high {
        bad(
            "flap_low",
            format!(
                "{} % is above flap_high {} % (flapping starts at flap_high and ends at flap_low)",
                flap.low, flap.high
            ),
        );
    }
    if max_age <= longest {
        let which = if longest == interval {
            "the interval".to_string()
        } else if longest == down_interval {
            format!("down_interval ({})", fmt(down_interval))
        } else {
            format!("start_interval ({})", fmt(start_interval))
        };
        bad(
            "max_age",
            format!("must be longer than {which}, or every result would be stale"),
        );
    }
    ok.then_some(Schedule {
        interval,
        timeout,
        jitter,
        rise,
        fall,
        max_age,
        fast_interval,
        down_interval,
        start_period,
        start_interval,
        while_starting,
        flap,
    })
}

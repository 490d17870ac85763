//! `/history`'s body.
//!
//! ```json
//! {"now":"2026-12-02T14:05:09Z","slotFields":["pass_ms","warn_ms",...],
//!  "checks":[{"name":"es","kind":"elasticsearch","critical":true,"state":"pass",
//!    "since":"2026-12-02T13:58:01Z","uptime1h":0.9981,"uptime24h":0.9999,
//!    "minutes":{"start":"2026-12-02T13:06:00Z","slotSeconds":60,"slots":[null,[...],...]},
//!    "tenMinutes":{...},
//!    "transitions":[{"time":"...","from":"pass","to":"fail","reason":"..."}]}]}
//! ```
//!
//! A slot is an array in `slotFields` order (compact: a day of 1,000 checks is
//! ~200,000 slots), `null` when there is no data. Reasons appear only when the
//! request may see details.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::ser::{SerializeTuple, Serializer};
use serde::Serialize;

use super::{CheckHistory, Resolution, Slot};
use crate::status::State;

/// The order of a slot's fields in `/history`.
pub const SLOT_FIELDS: [&str; 11] = [
    "pass_ms",
    "warn_ms",
    "fail_ms",
    "unknown_ms",
    "pass_runs",
    "warn_runs",
    "fail_runs",
    "unknown_runs",
    "min_ms",
    "mean_ms",
    "max_ms",
];

/// One check as `/history` shows it.
pub struct HistoryEntry<'a> {
    /// Name.
    pub name: &'a str,
    /// Kind word.
    pub kind: &'a str,
    /// Critical or not.
    pub critical: bool,
    /// Reported state now.
    pub state: State,
    /// Its history.
    pub history: &'a CheckHistory,
}

/// RFC 3339 time of Unix milliseconds, to the second.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// A slot as `/history` writes it: an array in [`SLOT_FIELDS`] order, or
/// `null` without data. Serialised straight to the output (no intermediate
/// JSON values: a day of 1,000 checks is 204,000 of them).
struct SlotOut(Slot);

impl Serialize for SlotOut {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = &self.0;
        if s.n == 0 {
            return ser.serialize_none();
        }
        let ms = |us: u32| (f64::from(us) / 100.0).round() / 10.0;
        let runs = s.run_count() > 0;
        let mut t = ser.serialize_tuple(SLOT_FIELDS.len())?;
        for v in s.ms {
            t.serialize_element(&v)?;
        }
        for v in s.runs {
            t.serialize_element(&v)?;
        }
        t.serialize_element(&runs.then(|| ms(s.min_us)))?;
        t.serialize_element(&s.mean_ms().map(|m| (m * 10.0).round() / 10.0))?;
        t.serialize_element(&runs.then(|| ms(s.max_us)))?;
        t.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RingOut {
    start: String,
    slot_seconds: u64,
    slots: Vec<SlotOut>,
}

fn ring(h: &CheckHistory, res: Resolution, now: u64) -> RingOut {
    let first = (now / res.width_ms() + 1).saturating_sub(res.slots() as u64);
    RingOut {
        start: rfc3339(first * res.width_ms()),
        slot_seconds: res.width_ms() / 1000,
        slots: h.slots(res, now).into_iter().map(SlotOut).collect(),
    }
}

#[derive(Serialize)]
struct TransitionOut<'a> {
    time: String,
    from: &'static str,
    to: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryOut<'a> {
    name: &'a str,
    kind: &'a str,
    critical: bool,
    state: &'static str,
    since: Option<String>,
    #[serde(rename = "uptime1h")]
    uptime_1h: Option<f64>,
    #[serde(rename = "uptime24h")]
    uptime_24h: Option<f64>,
    minutes: RingOut,
    ten_minutes: RingOut,
    transitions: Vec<TransitionOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BodyOut<'a> {
    now: String,
    slot_fields: [&'static str; 11],
    checks: Vec<EntryOut<'a>>,
}

fn round4(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 10_000.0).round() / 10_000.0)
}

fn entry<'a>(e: &HistoryEntry<'a>, details: bool, now: u64) -> EntryOut<'a> {
    let h = e.history;
    EntryOut {
        name: e.name,
        kind: e.kind,
        critical: e.critical,
        state: e.state.as_str(),
        since: h.since().map(rfc3339),
        uptime_1h: round4(h.uptime(Duration::from_secs(3600), now)),
        uptime_24h: round4(h.uptime(Duration::from_secs(86_400), now)),
        minutes: ring(h, Resolution::Minute, now),
        ten_minutes: ring(h, Resolution::TenMinutes, now),
        transitions: h
            .transitions()
            .rev()
            .map(|t| TransitionOut {
                time: rfc3339(t.at),
                from: t.from.as_str(),
                to: t.to.as_str(),
                reason: details.then_some(&*t.reason),
            })
            .collect(),
    }
}

/// The `/history` body for these checks (newest transitions first).
pub fn to_json(entries: &[HistoryEntry<'_>], details: bool, now: SystemTime) -> Vec<u8> {
    let now = super::unix_ms(now);
    let body = BodyOut {
        now: rfc3339(now),
        slot_fields: SLOT_FIELDS,
        checks: entries.iter().map(|e| entry(e, details, now)).collect(),
    };
    serde_json::to_vec(&body).expect("histories serialise")
}

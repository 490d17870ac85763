//! The pictures, drawn here as inline SVG (no image request, nothing for
//! the CSP to allow): the bar of the last hour's one-minute slots and the
//! round-duration sparkline.
//!
//! Neighbouring slots of the same worst state are drawn as one rectangle with
//! one tooltip covering them (the run counts added up): a calm hour is one
//! rectangle, not sixty, which keeps the page small at 1,000 checks.

use maud::{html, Markup};

use crate::history::{rfc3339, Resolution, Slot, STATES};
use crate::status::{State, Status};

fn class(s: Option<State>) -> &'static str {
    match s {
        Some(State::Known(Status::Pass)) => "p",
        Some(State::Known(Status::Warn)) => "w",
        Some(State::Known(Status::Fail)) => "f",
        Some(State::Unknown) => "u",
        None => "n",
    }
}

/// `HH:MM` of a slot number (UTC).
fn hhmm(n: u64, res: Resolution) -> String {
    let t = rfc3339(n * res.width_ms());
    t[11..16].to_string()
}

/// The bar: one rectangle per run of equal slots, oldest on the left; each
/// title gives the time span, the state word and the runs by state.
pub(super) fn bar(slots: &[Slot], first: u64, res: Resolution) -> Markup {
    let mut runs: Vec<(usize, usize, Option<State>, [u32; 4])> = Vec::new();
    for (i, s) in slots.iter().enumerate() {
        let worst = if s.n == 0 { None } else { s.worst() };
        match runs.last_mut() {
            Some(r) if r.2 == worst => {
                r.1 = i + 1;
                for k in 0..4 {
                    r.3[k] += u32::from(s.runs[k]);
                }
            }
            _ => runs.push((i, i + 1, worst, s.runs.map(u32::from))),
        }
    }
    let len = slots.len();
    html! {
        svg class="bar" viewBox={ "0 0 " (len) " 10" } preserveAspectRatio="none" role="img" aria-label="the last hour, one-minute slots" {
            @for (from, to, worst, counts) in &runs {
                rect x=(from) width={ (to - from) } height="10" class=(class(*worst)) {
                    title {
                        (hhmm(first + *from as u64, res)) "–" (hhmm(first + *to as u64, res)) " UTC: "
                        @match worst {
                            Some(s) => { (s.as_str()) }
                            None => { "no data" }
                        }
                        @let total: u32 = counts.iter().sum();
                        @if total > 0 {
                            " · " (total) " runs"
                            @for (k, st) in STATES.iter().enumerate() {
                                @if counts[k] > 0 && total != counts[k] { ", " (st.as_str()) " " (counts[k]) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The sparkline of the mean round duration per slot (gaps where no round
/// finished), scaled to the largest mean; `None` without any round.
pub(super) fn spark(slots: &[Slot]) -> Option<(Markup, f64, f64)> {
    let means: Vec<Option<f64>> = slots
        .iter()
        .map(|s| if s.n == 0 { None } else { s.mean_ms() })
        .collect();
    let top = means.iter().flatten().copied().fold(0.0f64, f64::max);
    let max_ms = slots
        .iter()
        .filter(|s| s.n != 0 && s.run_count() > 0)
        .map(|s| f64::from(s.max_us) / 1000.0)
        .fold(0.0f64, f64::max);
    let n = means.iter().flatten().count();
    if n == 0 {
        return None;
    }
    let scale = if top > 0.0 { 18.0 / top } else { 0.0 };
    // One polyline per stretch of slots with rounds; a lone slot is drawn
    // as a short dash across its width, so it shows.
    let mut lines: Vec<String> = Vec::new();
    let mut current: Vec<(usize, f64)> = Vec::new();
    let flush = |current: &mut Vec<(usize, f64)>, lines: &mut Vec<String>| {
        match current.as_slice() {
            [] => {}
            [(i, y)] => lines.push(format!("{i},{y:.1} {},{y:.1}", i + 1)),
            points => lines.push(
                points
                    .iter()
                    .map(|(i, y)| format!("{i}.5,{y:.1}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
        current.clear();
    };
    for (i, m) in means.iter().enumerate() {
        match m {
            Some(v) => current.push((i, 19.0 - v * scale)),
            None => flush(&mut current, &mut lines),
        }
    }
    flush(&mut current, &mut lines);
    let sum: f64 = means.iter().flatten().sum();
    let markup = html! {
        svg class="spark" viewBox={ "0 0 " (slots.len()) " 20" } preserveAspectRatio="none" role="img" aria-label="mean round duration per minute" {
            @for points in &lines { polyline points=(points) {} }
        }
    };
    Some((markup, sum / n as f64, max_ms))
}

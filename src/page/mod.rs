//! The status page (`/status`) and the badges, rendered from a snapshot (and
//! the fleet view): pure functions of what is published, so a page request
//! never touches a dependency, and the handlers render each page once per
//! snapshot.
//!
//! The page is one self-contained HTML document: inline style and script,
//! allowed by hash in a strict Content-Security-Policy ([`assets::csp`]),
//! pictures as inline SVG, no external request of any kind. Every value from
//! elsewhere (reasons, peers' names) is escaped by maud and bounded by
//! [`text::clean`]. The script swaps in the fragment of `/status?format=json`
//! every 2 s; the same fragment is the page's `<main>`, so with JavaScript off
//! the page shows the same state (and refreshes itself every 10 s).

pub mod assets;
pub mod badge;
mod svg;
pub mod text;

use std::time::{Duration, SystemTime};

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::fleet::FleetView;
use crate::history::{rfc3339, unix_ms, Resolution};
use crate::snapshot::{CheckView, Override, Snapshot};
use crate::status::{State, Status};
use text::{clean, NAME_CHARS, REASON_CHARS};

/// What a page shows.
pub struct PageInput<'a> {
    /// The snapshot.
    pub snap: &'a Snapshot,
    /// The fleet view, with `[fleet]`.
    pub fleet: Option<&'a FleetView>,
    /// Whether reasons may be shown (the details policy).
    pub details: bool,
    /// This instance's name.
    pub instance: &'a str,
    /// The time the page is rendered at.
    pub now: SystemTime,
}

/// Icon, word and CSS class of a state: never colour alone.
fn look(s: State) -> (&'static str, &'static str, &'static str) {
    match s {
        State::Known(Status::Pass) => ("✔", "PASS", "s-pass"),
        State::Known(Status::Warn) => ("▲", "WARN", "s-warn"),
        State::Known(Status::Fail) => ("✖", "FAIL", "s-fail"),
        State::Unknown => ("…", "UNKNOWN", "s-unknown"),
    }
}

/// The overall word: the status, or why the instance refuses traffic.
fn overall_word(snap: &Snapshot) -> &'static str {
    match &snap.override_ {
        Some(Override::Draining) => "DRAINING",
        Some(Override::Maintenance(_)) => "MAINTENANCE",
        None => look(State::Known(snap.status())).1,
    }
}

/// The document title (also sent in the JSON, for the script).
pub fn title(input: &PageInput<'_>) -> String {
    format!(
        "{} · {} · healthgate",
        overall_word(input.snap),
        clean(input.instance, NAME_CHARS)
    )
}

fn ago(ms: u64, now: u64) -> String {
    let secs = now.saturating_sub(ms) / 1000;
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=172_799 => format!("{} h {} min ago", secs / 3600, secs % 3600 / 60),
        _ => format!("{} days ago", secs / 86_400),
    }
}

fn percent(x: Option<f64>) -> String {
    match x {
        Some(v) if (0.9999..1.0).contains(&v) => "99.99 %".into(),
        Some(v) => format!("{:.2} %", v * 100.0),
        None => "no data".into(),
    }
}

fn check_card(c: &CheckView, details: bool, now: u64) -> Markup {
    let (icon, word, class) = look(c.state);
    let h = &c.history;
    let minutes = h.slots(Resolution::Minute, now);
    let first = (now / Resolution::Minute.width_ms() + 1).saturating_sub(minutes.len() as u64);
    let spark = svg::spark(&minutes);
    html! {
        article class={ "check " (class) } id={ "check-" (c.name) } {
            div class="head" {
                span class="icon" aria-hidden="true" { (icon) }
                span class="word" { (word) }
                h3 { (c.name) }
                span class="tag" { (c.kind) }
                span class="tag" { @if c.critical { "critical" } @else { "non-critical" } }
                @if c.shared_outage.is_some() { span class="tag" { "shared outage" } }
                @if c.flapping { span class="tag" { "flapping" } }
                @if c.starting_warns { span class="tag" { "starting" } }
            }
            @if details {
                p class="reason" { (clean(&c.output, REASON_CHARS)) }
            } @else if let Some(why) = &c.shared_outage {
                p class="reason" { (clean(why, REASON_CHARS)) }
            } @else {
                p class="reason hidden" { "reason hidden (server.show_details)" }
            }
            dl {
                div { dt { "since" } dd {
                    @match h.since() {
                        Some(t) => { time datetime=(rfc3339(t)) { (rfc3339(t)[11..19].to_string()) " UTC" } " (" (ago(t, now)) ")" }
                        None => { "the start" }
                    }
                } }
                div { dt { "uptime 1 h" } dd { (percent(h.uptime(Duration::from_secs(3600), now))) } }
                div { dt { "24 h" } dd { (percent(h.uptime(Duration::from_secs(86_400), now))) } }
                @if let Some(d) = c.duration { div { dt { "last round" } dd { (format!("{:.1} ms", d.as_secs_f64() * 1000.0)) } } }
            }
            div class="viz" {
                (svg::bar(&minutes, first, Resolution::Minute))
                div class="axis" { span { "−60 min" } span { "now" } }
                @if let Some((line, mean, max)) = &spark {
                    (line)
                    div class="axis" { span { "round duration" } span { (format!("mean {mean:.1} ms · max {max:.1} ms")) } }
                }
            }
        }
    }
}

fn fleet_section(f: &FleetView, details: bool) -> Markup {
    let (icon, word, class) = look(State::Known(f.status));
    html! {
        h2 { "Fleet" }
        div class={ "overall " (class) } {
            span class="icon" aria-hidden="true" { (icon) }
            div { h1 { (word) } p { "the regional answer (/fleet): " (clean(&f.summary(), REASON_CHARS)) } }
        }
        @if f.outages.iter().any(|o| o.engaged) {
            p { "shared outages: "
                @for o in f.outages.iter().filter(|o| o.engaged) {
                    (clean(&o.check, NAME_CHARS)) " (failing on " (o.failing) " of " (o.of) ") "
                }
            }
        }
        table {
            thead { tr { th { "member" } th { "address" } th { "state" } th { "last answer" } th { "failing" } } }
            tbody {
                @for m in &f.members {
                    tr {
                        td { (clean(m.instance.as_deref().unwrap_or("?"), NAME_CHARS)) @if m.is_self { " (this one)" } }
                        td { (clean(&m.address, NAME_CHARS)) }
                        td {
                            @match m.status.as_str() {
                                "serving" => { "✔ serving" }
                                "not_serving" => { "✖ not serving" }
                                _ => { "… unreachable" }
                            }
                            @if let Some(d) = &m.duplicate_of { " (same as " (clean(d, NAME_CHARS)) ")" }
                        }
                        td { @match m.age_seconds { Some(a) => { (format!("{a:.1} s ago")) } None => { "never" } } }
                        td {
                            (clean(&m.failing.join(", "), REASON_CHARS))
                            @if details { @if let Some(r) = &m.reason { " " (clean(r, REASON_CHARS)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The fragment the script swaps in: everything inside `<main>`.
pub fn fragment(input: &PageInput<'_>) -> String {
    let snap = input.snap;
    let now = unix_ms(input.now);
    let status = State::Known(snap.status());
    let (icon, _, class) = look(status);
    let failing = snap
        .checks
        .iter()
        .filter(|c| c.state == State::Known(Status::Fail))
        .count();
    let markup = html! {
        div class={ "overall " (class) } {
            span class="icon" aria-hidden="true" { (icon) }
            div {
                h1 { (overall_word(snap)) }
                p {
                    (clean(input.instance, NAME_CHARS)) " · HTTP " (snap.code()) " · "
                    (snap.checks.len()) " checks, " (failing) " failing"
                    @if let Some(h) = snap.headline() { " · " (clean(&h, REASON_CHARS)) }
                    " · as of " (rfc3339(now)[11..19].to_string()) " UTC"
                }
            }
        }
        @if let Some(f) = input.fleet { (fleet_section(f, input.details)) }
        h2 { "Checks" }
        section class="checks" {
            @for c in &snap.checks { (check_card(c, input.details, now)) }
        }
    };
    markup.into_string()
}

/// The whole page.
pub fn page(input: &PageInput<'_>) -> String {
    let fragment = fragment(input);
    let (_, _, class) = look(State::Known(input.snap.status()));
    let colour = match input.snap.status() {
        Status::Pass => "%231e8e3e",
        Status::Warn => "%23b06000",
        Status::Fail => "%23c5221f",
    };
    let icon = format!("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'><circle cx='5' cy='5' r='5' fill='{colour}'/></svg>");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title(input)) }
                link rel="icon" href=(icon);
                style { (PreEscaped(assets::CSS)) }
                noscript { meta http-equiv="refresh" content="10"; }
            }
            body class=(class) {
                div id="lost" role="alert" { "healthgate is not answering: this page shows the last state it sent" }
                main id="main" { (PreEscaped(fragment)) }
                footer {
                    "healthgate " (env!("CARGO_PKG_VERSION")) " · updates every 2 s · "
                    a href="history" { "history (JSON)" } " · " a href="healthz" { "healthz" }
                    @if input.fleet.is_some() { " · " a href="fleet" { "fleet" } }
                }
                script { (PreEscaped(assets::JS)) }
            }
        }
    }
    .into_string()
}

/// `/status?format=json`: the title, the overall status and the fragment.
pub fn json(input: &PageInput<'_>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "status": input.snap.status().as_str(),
        "generation": input.snap.generation,
        "title": title(input),
        "html": fragment(input),
    }))
    .expect("JSON values serialise")
}

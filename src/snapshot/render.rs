//! Rendering check views into response bodies.
//!
//! JSON follows draft-inadarei-api-health-check (`application/health+json`):
//! `status`, and `checks` keyed `name:measurement`, each an array with one object
//! (`componentId`, `componentType`, `status`, `time`, `observedValue`,
//! `observedUnit`, `output`). Before its first result a check's status is
//! `unknown`, a value the draft does not define but that says what is true.

use axum::http::StatusCode;
use bytes::Bytes;
use serde::{Serialize, Serializer};

use super::{CheckView, Override, Prepared};
use crate::checks::Observed;
use crate::config::AgentReplies;
use crate::config::StatusCodes;
use crate::health::aggregate;
use crate::status::State;
use crate::status::Status;

/// `Content-Type` of the health+json answers.
pub const HEALTH_JSON: &str = "application/health+json";
/// `Content-Type` of the text answers (`?format=text`, `?verbose`).
pub const TEXT: &str = "text/plain; charset=utf-8";

/// The body formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/health+json`.
    Json = 0,
    /// `OK` on a 2xx answer, else `FAIL`/`DRAINING`/`MAINT` (see `render::word`), for
    /// consumers that match the body.
    Text = 1,
    /// Kubernetes-style `[+]name ok` lines.
    Verbose = 2,
}

/// What a body is about: every check (criticality applies) or one check alone
/// (its own status decides, critical or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Subject {
    Aggregate,
    Alone,
}

fn overall(checks: &[&CheckView], ov: Option<&Override>, subject: Subject) -> Status {
    if ov.is_some() {
        Status::Fail
    } else {
        aggregate(
            checks
                .iter()
                .map(|c| (c.decides() || subject == Subject::Alone, c.state)),
        )
    }
}

/// Renders one answer.
pub(super) fn prepare(
    checks: &[&CheckView],
    ov: Option<&Override>,
    codes: StatusCodes,
    format: Format,
    details: bool,
    subject: Subject,
) -> Prepared {
    let status = overall(checks, ov, subject);
    let code = match status {
        Status::Pass => codes.pass,
        Status::Warn => codes.warn,
        Status::Fail => codes.fail,
    };
    let (content_type, body) = match format {
        Format::Json => (HEALTH_JSON, render_health(checks, ov, status, details)),
        Format::Text => (TEXT, Bytes::from(word(status, ov, code))),
        Format::Verbose => (TEXT, Bytes::from(verbose(checks, ov, status, details))),
    };
    Prepared::new(
        StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        content_type,
        body,
    )
}

/// The text answer. It starts with `OK` exactly when the HTTP status is 2xx,
/// whatever `server.status_codes` maps, so a consumer that matches the body
/// (Route 53 string matching, HAProxy `http-check expect string OK`,
/// blackbox_exporter, Nagios `check_http -s OK`) agrees with one that reads the
/// status code. Other answers start with `FAIL`, `DRAINING` or `MAINT`; the
/// status follows as a second word when the first does not already say it
/// (`OK warn`, `FAIL warn`).
pub fn word(status: Status, ov: Option<&Override>, code: u16) -> String {
    let served = (200..300).contains(&code);
    let first = match (served, ov) {
        (true, _) => "OK",
        (false, Some(Override::Draining)) => "DRAINING",
        (false, Some(Override::Maintenance(_))) => "MAINT",
        (false, None) => "FAIL",
    };
    let second = match (served, ov) {
        (true, None) if status == Status::Pass => None,
        (false, None) if status == Status::Fail => None,
        (_, None) => Some(status.as_str()),
        (true, Some(Override::Draining)) => Some("draining"),
        (true, Some(Override::Maintenance(_))) => Some("maintenance"),
        (false, Some(_)) => None,
    };
    match second {
        Some(w) => format!("{first} {w}\n"),
        None => format!("{first}\n"),
    }
}

/// The aggregate's top-level `output`: the override, or the shared outages
/// the fleet guard holds; `None` when the checks speak for themselves.
pub(super) fn headline(checks: &[&CheckView], ov: Option<&Override>) -> Option<String> {
    ov.map(override_text).or_else(|| shared_outages(checks))
}

fn override_text(ov: &Override) -> String {
    match ov {
        Override::Draining => "draining: shutting down".into(),
        Override::Maintenance(m) => format!(
            "maintenance until {}: {}",
            humantime::format_rfc3339_seconds(m.until),
            m.reason
        ),
    }
}

/// The aggregate's `output` when the fleet guard keeps this instance serving:
/// the checks in a shared outage and why (shown whatever the details policy:
/// it names checks and counts instances, nothing more).
fn shared_outages(checks: &[&CheckView]) -> Option<String> {
    let texts: Vec<&str> = checks.iter().filter_map(|c| c.shared_outage.as_deref()).collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// One short printable ASCII line for the agent protocol (HAProxy shows it in
/// its stats and logs).
fn agent_reason(text: &str) -> String {
    let ascii: String = text
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    ascii.chars().take(100).collect()
}

/// The agent-check reply: always a full state line.
pub(super) fn agent_line(checks: &[&CheckView], ov: Option<&Override>, replies: &AgentReplies) -> Bytes {
    let line = match ov {
        Some(Override::Draining) => "drain".to_string(),
        Some(Override::Maintenance(m)) => format!("maint #{}", agent_reason(&m.reason)),
        None => match overall(checks, None, Subject::Aggregate) {
            Status::Pass => replies.pass.clone(),
            Status::Warn => replies.warn.clone(),
            Status::Fail => {
                let why = checks
                    .iter()
                    .find(|c| {
                        c.decides() && c.state != State::Known(Status::Pass) && c.state != State::Known(Status::Warn)
                    })
                    .map(|c| format!("{}: {}", c.name, c.output))
                    .unwrap_or_default();
                format!("down #{}", agent_reason(&why))
            }
        },
    };
    Bytes::from(format!("{line}\n"))
}

/// The health+json body.
pub(super) fn render_health(checks: &[&CheckView], ov: Option<&Override>, status: Status, details: bool) -> Bytes {
    let body = Health {
        status: status.as_str(),
        version: "1",
        release_id: env!("CARGO_PKG_VERSION"),
        service_id: "healthgate",
        output: headline(checks, ov),
        checks: Checks { checks, details },
    };
    // Written straight from borrowed fields into one buffer sized from the check
    // count: a thousand checks re-render several times a second, and building a
    // tree of JSON values first was thousands of small allocations per render,
    // fragmenting the heap of the probe thread (which renders on first use).
    let mut bytes = Vec::with_capacity(256 + checks.len() * 160);
    serde_json::to_writer(&mut bytes, &body).expect("writing JSON to memory cannot fail");
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// The aggregate body; fields in this order (`status` first, for string matchers
/// that only read the beginning).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health<'a> {
    status: &'static str,
    version: &'static str,
    release_id: &'static str,
    service_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    checks: Checks<'a>,
}

/// `checks`: `name:measurement` → a one-element array, in configuration order.
struct Checks<'a> {
    checks: &'a [&'a CheckView],
    details: bool,
}

impl Serialize for Checks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries = self
            .checks
            .iter()
            .map(|c| (Key(&c.name, c.measurement), [Entry::new(c, self.details)]));
        s.collect_map(entries)
    }
}

/// A `name:measurement` key, written without allocating it first.
struct Key<'a>(&'a str, &'static str);

impl Serialize for Key<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}:{}", self.0, self.1))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    component_id: &'a str,
    component_type: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    critical: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_value: Option<ObservedValue<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_unit: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    /// The latest round's duration in milliseconds (a detail).
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<f64>,
    /// Present, and true, while the check flaps.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    flapping: bool,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ObservedValue<'a> {
    Text(&'a str),
    Number(f64),
}

impl<'a> Entry<'a> {
    fn new(c: &'a CheckView, details: bool) -> Self {
        let (observed_value, observed_unit) = match (&c.observed, details) {
            (Some(Observed::Text(t)), true) => (Some(ObservedValue::Text(t)), None),
            (Some(Observed::Number(n, unit)), true) => (Some(ObservedValue::Number(*n)), Some(*unit)),
            _ => (None, None),
        };
        Entry {
            component_id: &c.name,
            component_type: c.component_type,
            status: c.state.as_str(),
            critical: (!c.critical).then_some(false),
            time: c.time.map(|t| humantime::format_rfc3339_millis(t).to_string()),
            observed_value,
            observed_unit,
            output: (details && !c.output.is_empty()).then_some(&*c.output),
            duration_ms: c.duration.filter(|_| details).map(millis),
            flapping: c.flapping,
        }
    }
}

/// A duration in milliseconds, to a tenth.
fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

fn verbose(checks: &[&CheckView], ov: Option<&Override>, status: Status, details: bool) -> String {
    let mut out = String::new();
    for c in checks {
        let (mark, word) = match c.state {
            State::Known(Status::Pass) => ('+', "ok"),
            State::Known(Status::Warn) => ('!', "warn"),
            State::Known(Status::Fail) => ('-', "failed"),
            State::Unknown => ('?', "unknown"),
        };
        out.push_str(&format!("[{mark}]{} {word}", c.name));
        match (c.duration.filter(|_| details), c.flapping) {
            (Some(d), true) => out.push_str(&format!(" ({} ms, flapping)", millis(d))),
            (Some(d), false) => out.push_str(&format!(" ({} ms)", millis(d))),
            (None, true) => out.push_str(" (flapping)"),
            (None, false) => {}
        }
        if c.state != State::Known(Status::Pass) {
            if details {
                out.push_str(&format!(": {}", c.output));
            } else {
                out.push_str(": reason withheld");
            }
        }
        out.push('\n');
    }
    if let Some(ov) = ov {
        out.push_str(&format!("[-]{}\n", override_text(ov)));
    }
    out.push_str(match status {
        Status::Pass => "healthz check passed\n",
        Status::Warn => "healthz check passed with warnings\n",
        Status::Fail => "healthz check failed\n",
    });
    out
}

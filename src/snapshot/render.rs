//! Rendering check views into response bodies.
//!
//! JSON follows draft-inadarei-api-health-check (`application/health+json`):
//! `status`, and `checks` keyed `name:measurement`, each an array with one object
//! (`componentId`, `componentType`, `status`, `time`, `observedValue`,
//! `observedUnit`, `output`). Before its first result a check's status is
//! `unknown`, a value the draft does not define but that says what is true.

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::{AgentReplies, CheckView, Override, Prepared};
use crate::checks::{Observed, Status};
use crate::config::StatusCodes;
use crate::health::{aggregate, State};

/// The body formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/health+json`.
    Json = 0,
    /// One word (`OK`/`WARN`/`FAIL`), for Route 53 string matching.
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
                .map(|c| (c.critical || subject == Subject::Alone, c.state)),
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
        Format::Json => ("application/health+json", render_health(checks, ov, status, details)),
        Format::Text => ("text/plain; charset=utf-8", Bytes::from(word(status))),
        Format::Verbose => (
            "text/plain; charset=utf-8",
            Bytes::from(verbose(checks, ov, status, details)),
        ),
    };
    Prepared {
        status: StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        content_type,
        body,
    }
}

fn word(status: Status) -> &'static str {
    match status {
        Status::Pass => "OK\n",
        Status::Warn => "WARN\n",
        Status::Fail => "FAIL\n",
    }
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
                        c.critical && c.state != State::Known(Status::Pass) && c.state != State::Known(Status::Warn)
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
pub fn render_health(checks: &[&CheckView], ov: Option<&Override>, status: Status, details: bool) -> Bytes {
    let mut map = Map::new();
    for c in checks {
        let mut o = Map::new();
        o.insert("componentId".into(), json!(c.name));
        o.insert("componentType".into(), json!(c.component_type));
        o.insert("status".into(), json!(c.state.as_str()));
        if !c.critical {
            o.insert("critical".into(), json!(false));
        }
        if let Some(t) = c.time {
            o.insert("time".into(), json!(humantime::format_rfc3339_millis(t).to_string()));
        }
        if details {
            match &c.observed {
                Some(Observed::Text(t)) => {
                    o.insert("observedValue".into(), json!(t));
                }
                Some(Observed::Number(n, unit)) => {
                    o.insert("observedValue".into(), json!(n));
                    o.insert("observedUnit".into(), json!(unit));
                }
                None => {}
            }
            if !c.output.is_empty() {
                o.insert("output".into(), json!(c.output));
            }
        }
        map.insert(
            format!("{}:{}", c.name, c.measurement),
            Value::Array(vec![Value::Object(o)]),
        );
    }
    let mut root = Map::new();
    root.insert("status".into(), json!(status.as_str()));
    root.insert("version".into(), json!("1"));
    root.insert("releaseId".into(), json!(env!("CARGO_PKG_VERSION")));
    root.insert("serviceId".into(), json!("healthgate"));
    if let Some(ov) = ov {
        root.insert("output".into(), json!(override_text(ov)));
    }
    root.insert("checks".into(), Value::Object(map));
    let mut bytes = serde_json::to_vec(&Value::Object(root)).expect("JSON values always serialise");
    bytes.push(b'\n');
    Bytes::from(bytes)
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

//! What one sidecar tells another: `GET /fleet/self`, format `healthgate-fleet/1`.
//!
//! ```json
//! {"format":"healthgate-fleet/1","id":"5f0c9a3e1b2d4c6f","instance":"app-3",
//!  "serving":true,"status":"pass","age_ms":412,
//!  "checks":{"elasticsearch":"pass","app":"pass"}}
//! ```
//!
//! - `id`: random per process, so a sidecar that finds itself among its peers
//!   (a DNS name lists every instance) knows it, and two addresses of one
//!   instance count once;
//! - `serving`: the instance's own verdict, the fleet guard ignored (draining or
//!   maintenance: `false`);
//! - `status`: its checks' aggregate, the guard ignored;
//! - `checks`: each check's reported state (`pass`, `warn`, `fail`, `unknown`),
//!   whatever `show_details` says: states only, never a reason or a value;
//! - `age_ms`: the age of its oldest latest result (`null` before any).
//!
//! About 30 bytes per check. A reader ignores fields it does not know, so a
//! later `/1` may add some; a change of meaning is a new number, and a reader
//! refuses a number it does not know (the member shows as unreachable with
//! the reason).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::snapshot::Snapshot;

/// The format this build writes and reads.
pub const FORMAT: &str = "healthgate-fleet/1";

/// The largest answer read from a peer (1,000 checks fit in a quarter of it).
pub const MAX_ANSWER: usize = 256 * 1024;

/// Who this process is in its fleet.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Random per process start (16 hex digits).
    pub id: String,
    /// The name it gives itself (`fleet.instance`, else the host name).
    pub instance: String,
}

impl Identity {
    /// A fresh identity named `instance` (or after the host).
    pub fn new(instance: Option<&str>) -> Identity {
        let name = instance.map(str::to_string).unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "healthgate".into())
        });
        Identity {
            id: format!("{:016x}", rand::random::<u64>()),
            instance: name,
        }
    }
}

/// One peer's answer, as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerAnswer {
    /// Always [`FORMAT`] when read (checked).
    pub format: String,
    /// The peer's process identity.
    pub id: String,
    /// Its name.
    pub instance: String,
    /// Serving by its own checks.
    pub serving: bool,
    /// Its checks' aggregate (`pass`, `warn`, `fail`).
    pub status: String,
    /// Age of its oldest latest result, in milliseconds.
    pub age_ms: Option<u64>,
    /// Each check's reported state.
    pub checks: BTreeMap<String, String>,
}

/// Why a peer's answer was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// Not JSON, or JSON of another shape.
    #[error("not a healthgate fleet answer ({0})")]
    NotFleet(String),
    /// Another version of the format.
    #[error("answers format \"{0}\"; this healthgate reads {FORMAT} (run the same major version across the fleet)")]
    Version(String),
}

/// The answer this instance gives, from its snapshot.
pub fn render(me: &Identity, snap: &Snapshot, now: SystemTime) -> Vec<u8> {
    let oldest = snap.checks.iter().filter_map(|c| c.time).min();
    let answer = PeerAnswer {
        format: FORMAT.into(),
        id: me.id.clone(),
        instance: me.instance.clone(),
        serving: snap.serving(),
        status: snap.raw_status.as_str().into(),
        age_ms: oldest.map(|t| now.duration_since(t).map(|d| d.as_millis() as u64).unwrap_or(0)),
        checks: snap
            .checks
            .iter()
            .map(|c| (c.name.to_string(), c.state.as_str().to_string()))
            .collect(),
    };
    let mut out = serde_json::to_vec(&answer).expect("writing JSON to memory cannot fail");
    out.push(b'\n');
    out
}

/// Reads a peer's body.
pub fn parse(body: &[u8]) -> Result<PeerAnswer, AnswerError> {
    // The version first, so another version's shape is reported as such.
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
    }
    let head: Head = serde_json::from_slice(body).map_err(|e| AnswerError::NotFleet(short(&e)))?;
    match head.format.as_deref() {
        Some(FORMAT) => {}
        Some(other) if other.starts_with("healthgate-fleet/") => {
            return Err(AnswerError::Version(other.chars().take(40).collect()))
        }
        _ => {
            return Err(AnswerError::NotFleet(
                "no \"format\": \"healthgate-fleet/1\" field".into(),
            ))
        }
    }
    let mut answer: PeerAnswer = serde_json::from_slice(body).map_err(|e| AnswerError::NotFleet(short(&e)))?;
    let known = |s: &str| matches!(s, "pass" | "warn" | "fail" | "unknown");
    if !known(&answer.status) || !answer.checks.values().all(|s| known(s)) {
        return Err(AnswerError::NotFleet(
            "a state other than pass, warn, fail or unknown".into(),
        ));
    }
    if answer.id.is_empty() || answer.id.len() > 64 {
        return Err(AnswerError::NotFleet("an id of 1-64 characters is required".into()));
    }
    if answer.instance.chars().count() > 64 {
        answer.instance = answer.instance.chars().take(64).collect();
    }
    Ok(answer)
}

/// serde's message without the peer's text in it.
fn short(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("invalid JSON at line {} column {}", e.line(), e.column())
        }
        serde_json::error::Category::Data => "JSON of another shape".into(),
        serde_json::error::Category::Io => "unreadable".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_versions_and_garbage_are_named() {
        assert!(matches!(parse(b"<html>"), Err(AnswerError::NotFleet(m)) if m.contains("invalid JSON")));
        assert!(matches!(parse(br#"{"status":"pass"}"#), Err(AnswerError::NotFleet(m)) if m.contains("format")));
        assert_eq!(
            parse(br#"{"format":"healthgate-fleet/2","x":1}"#),
            Err(AnswerError::Version("healthgate-fleet/2".into()))
        );
        let bad_state = br#"{"format":"healthgate-fleet/1","id":"a","instance":"b","serving":true,"status":"pass","age_ms":1,"checks":{"x":"<script>"}}"#;
        assert!(parse(bad_state).is_err());
        let ok = br#"{"format":"healthgate-fleet/1","id":"a","instance":"b","serving":true,"status":"pass","age_ms":null,"checks":{"x":"fail"},"later":"field"}"#;
        assert_eq!(parse(ok).unwrap().checks["x"], "fail");
    }
}

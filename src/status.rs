//! The words every layer shares: a check's verdict ([`Status`]) and what is
//! reported for it ([`State`]: a status, or unknown before the first result).
//!
//! A leaf: configuration parses these words, checks produce them, health
//! aggregates them and snapshots render them, so they belong to none of those.

use std::fmt;

/// The verdict of one check run (or of an aggregate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Serviceable.
    Pass,
    /// Serviceable but degraded (e.g. Elasticsearch yellow).
    Warn,
    /// Not serviceable.
    Fail,
}

impl Status {
    /// The lowercase word used in JSON bodies and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// Parses `pass`, `warn` or `fail`.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pass" => Some(Status::Pass),
            "warn" => Some(Status::Warn),
            "fail" => Some(Status::Fail),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The reported state of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// No result yet.
    Unknown,
    /// After hysteresis.
    Known(Status),
}

impl State {
    /// `pass`, `warn`, `fail` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Known(s) => s.as_str(),
        }
    }
}

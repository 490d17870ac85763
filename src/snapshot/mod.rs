//! The immutable published state, and the response bodies rendered from it.
//!
//! A snapshot is built by the publisher whenever something changes and swapped in
//! atomically. Each body (format × details × aggregate or one check) is rendered
//! at most once per snapshot, by the first request that wants it, and kept in a
//! `OnceLock`: every later request sends bytes that already exist. Rendering
//! lazily keeps publication cheap with many checks (a snapshot nobody asks for
//! costs no rendering). Only `?exclude=` renders per request. None of this ever
//! touches a dependency.

mod render;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use axum::http::StatusCode;
use bytes::Bytes;

use crate::checks::Observed;
use crate::config::{AgentReplies, StatusCodes};
use crate::status::State;
use crate::status::Status;

use render::Subject;
pub use render::{word, Format, HEALTH_JSON, TEXT};

/// One check as published.
#[derive(Debug, Clone)]
pub struct CheckView {
    /// Configured name.
    pub name: Arc<str>,
    /// The `kind` word.
    pub kind: &'static str,
    /// Whether it decides the overall status.
    pub critical: bool,
    /// Critical with `scope = "shared"`: the fleet compares it across instances.
    pub shared: bool,
    /// After hysteresis and staleness.
    pub state: State,
    /// The reason (a detail: hidden unless details are shown).
    pub output: Arc<str>,
    /// Primary observed value (a detail).
    pub observed: Option<Observed>,
    /// Measurement name for the `name:measurement` key.
    pub measurement: &'static str,
    /// `componentType` in the body.
    pub component_type: &'static str,
    /// When the latest result finished.
    pub time: Option<SystemTime>,
    /// How long the latest run took.
    pub duration: Option<Duration>,
    /// Flapping (Nagios percent state change over the last 21 results).
    pub flapping: bool,
    /// In its start period with `while_starting = "warn"`: counts as a
    /// non-critical check in the aggregate until it is ready.
    pub starting_warns: bool,
    /// A shared check failing here and on enough of the fleet (the fleet
    /// guard): counts as warn in the aggregate; the text says why.
    pub shared_outage: Option<Arc<str>>,
    /// What it did over the last day (shared with the publisher until its
    /// next result).
    pub history: Arc<crate::history::CheckHistory>,
}

impl CheckView {
    /// Whether its failure fails the aggregate.
    fn decides(&self) -> bool {
        self.critical && !self.starting_warns && self.shared_outage.is_none()
    }
}

/// A ready-to-send answer.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// HTTP status.
    pub status: StatusCode,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body bytes (cloning is a reference-count increment).
    pub body: Bytes,
    /// The body gzip-compressed, made by the first request that accepts it
    /// (`None` inside: too small to be worth it).
    gzip: OnceLock<Option<Bytes>>,
}

/// Bodies shorter than this are sent as they are: compressing them saves
/// less than a packet.
pub const MIN_GZIP: usize = 1024;

impl Prepared {
    /// An answer, not compressed yet.
    pub fn new(status: StatusCode, content_type: &'static str, body: Bytes) -> Prepared {
        Prepared {
            status,
            content_type,
            body,
            gzip: OnceLock::new(),
        }
    }

    /// The body gzip-compressed, compressed once per answer (so once per
    /// snapshot); `None` when it is too small or would not shrink.
    pub fn gzipped(&self) -> Option<&Bytes> {
        self.gzip
            .get_or_init(|| {
                if self.body.len() < MIN_GZIP {
                    return None;
                }
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.body.len() / 4),
                    flate2::Compression::default(),
                );
                std::io::Write::write_all(&mut enc, &self.body).ok()?;
                let out = enc.finish().ok()?;
                (out.len() < self.body.len()).then(|| Bytes::from(out))
            })
            .as_ref()
    }
}

/// Lazily rendered answers for one subject, indexed by `[format][details]`.
#[derive(Debug, Default)]
struct Cells([[OnceLock<Prepared>; 2]; 3]);

impl Cells {
    fn get(&self, format: Format, details: bool, render: impl FnOnce() -> Prepared) -> &Prepared {
        self.0[format as usize][usize::from(details)].get_or_init(render)
    }
}

/// Why the instance refuses traffic regardless of its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Override {
    /// Shutting down: readiness fails so load balancers move away first.
    Draining,
    /// Taken out by an operator until `until` (or until lifted).
    Maintenance(Maintenance),
}

/// An operator's maintenance window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// Why (one line, shown to load balancers and in bodies).
    pub reason: String,
    /// When it ends by itself.
    pub until: std::time::SystemTime,
}

/// The handle readers use: the publisher stores a new snapshot, readers load
/// the current one without a lock.
pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// How states become answers: HTTP codes and agent replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// HTTP status per overall status.
    pub codes: StatusCodes,
    /// Agent-check replies.
    pub agent: AgentReplies,
}

/// The published state.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases with every publication.
    pub generation: u64,
    /// Aggregate of the checks (before overrides).
    pub checks_status: Status,
    /// Aggregate of the checks with the fleet guard ignored: this instance's
    /// own verdict, which its peers and `/fleet` count.
    pub raw_status: Status,
    /// Set while draining.
    pub override_: Option<Override>,
    /// Checks in configuration order.
    pub checks: Vec<CheckView>,
    /// The status codes used to render (kept for `?exclude=` renders).
    pub codes: StatusCodes,
    /// The HAProxy agent-check line (`up ready 100%`, `down #reason`, `drain`, `maint #reason`).
    pub agent_line: Bytes,
    aggregate: Cells,
    per_check: OnceLock<PerCheck>,
}

/// One-check answers of a snapshot, set up by its first one-check request. Most
/// snapshots never get one, and with 1,000 checks building the name index and
/// the answer cells at every publication was a third of the publisher's work.
#[derive(Debug)]
struct PerCheck {
    by_name: HashMap<Arc<str>, usize>,
    cells: Vec<Cells>,
}

impl Snapshot {
    /// Builds a snapshot and renders its answers.
    pub fn build(generation: u64, checks: Vec<CheckView>, override_: Option<Override>, how: &Presentation) -> Snapshot {
        let codes = how.codes;
        let checks_status = crate::health::aggregate(checks.iter().map(|c| (c.decides(), c.state)));
        let raw_status = crate::health::aggregate(checks.iter().map(|c| (c.critical && !c.starting_warns, c.state)));
        let refs: Vec<&CheckView> = checks.iter().collect();
        let agent_line = render::agent_line(&refs, override_.as_ref(), &how.agent);
        Snapshot {
            agent_line,
            generation,
            checks_status,
            raw_status,
            override_,
            checks,
            codes,
            aggregate: Cells::default(),
            per_check: OnceLock::new(),
        }
    }

    /// The overall status including overrides.
    pub fn status(&self) -> Status {
        if self.override_.is_some() {
            Status::Fail
        } else {
            self.checks_status
        }
    }

    /// Whether this instance serves by its own checks (the guard ignored):
    /// what its fleet counts.
    pub fn serving(&self) -> bool {
        self.override_.is_none() && self.raw_status != Status::Fail
    }

    /// The aggregate's top-level `output` (the override or the shared
    /// outages; `None` when the checks speak for themselves): what every
    /// format says above the checks.
    pub fn headline(&self) -> Option<String> {
        let refs: Vec<&CheckView> = self.checks.iter().collect();
        render::headline(&refs, self.override_.as_ref())
    }

    /// The HTTP status code the aggregate answers with.
    pub fn code(&self) -> u16 {
        match self.status() {
            Status::Pass => self.codes.pass,
            Status::Warn => self.codes.warn,
            Status::Fail => self.codes.fail,
        }
    }

    /// The maintenance window in force, if any.
    pub fn maintenance(&self) -> Option<&Maintenance> {
        match &self.override_ {
            Some(Override::Maintenance(m)) => Some(m),
            _ => None,
        }
    }

    /// Whether the instance is draining.
    pub fn draining(&self) -> bool {
        self.override_ == Some(Override::Draining)
    }

    /// The aggregate answer in a format, rendered once per snapshot.
    pub fn aggregate(&self, format: Format, details: bool) -> &Prepared {
        self.aggregate.get(format, details, || {
            let refs: Vec<&CheckView> = self.checks.iter().collect();
            render::prepare(
                &refs,
                self.override_.as_ref(),
                self.codes,
                format,
                details,
                Subject::Aggregate,
            )
        })
    }

    /// One check's answer by name, rendered once per snapshot.
    pub fn check(&self, name: &str, format: Format, details: bool) -> Option<&Prepared> {
        let per_check = self.per_check.get_or_init(|| PerCheck {
            by_name: self
                .checks
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i))
                .collect(),
            cells: self.checks.iter().map(|_| Cells::default()).collect(),
        });
        let &i = per_check.by_name.get(name)?;
        Some(per_check.cells[i].get(format, details, || {
            render::prepare(
                &[&self.checks[i]],
                self.override_.as_ref(),
                self.codes,
                format,
                details,
                Subject::Alone,
            )
        }))
    }

    /// Renders the aggregate without some checks (per request; reads only).
    pub fn render_excluding(&self, exclude: &[String], format: Format, details: bool) -> Prepared {
        let kept: Vec<&CheckView> = self
            .checks
            .iter()
            .filter(|c| !exclude.iter().any(|e| **e == *c.name))
            .collect();
        render::prepare(
            &kept,
            self.override_.as_ref(),
            self.codes,
            format,
            details,
            Subject::Aggregate,
        )
    }
}

//! The published fleet state and its `/fleet` answers, rendered once per
//! publication (every round of peer reads), like the snapshot's bodies.
//!
//! ```json
//! {"status":"pass","serviceId":"healthgate-fleet",
//!  "output":"4 of 5 members serving (at least 3 required)",
//!  "summary":{"members":5,"serving":4,"required":3,"peersAnswering":4},
//!  "sharedOutages":[],
//!  "discovery":{"addresses":5},
//!  "members":[{"address":"127.0.0.2:9898","instance":"app-1","self":true,
//!              "status":"serving","ageSeconds":0.0,"failing":[]}, ...]}
//! ```

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::Serialize;

use crate::config::{StatusCodes, Threshold};
use crate::snapshot::{Prepared, HEALTH_JSON, TEXT};
use crate::status::Status;

/// The handle readers load the fleet state through.
pub type SharedFleet = Arc<ArcSwap<FleetView>>;

/// What a member is, as far as this instance knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberState {
    /// Serving by its own checks.
    Serving,
    /// Answering, and not serving (its checks fail, or it drains).
    NotServing,
    /// No recent answer: its latest read failed, or it has not been read lately.
    Unreachable,
}

impl MemberState {
    /// The word in bodies, logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberState::Serving => "serving",
            MemberState::NotServing => "not_serving",
            MemberState::Unreachable => "unreachable",
        }
    }

    /// Every state, in metric order.
    pub const ALL: [MemberState; 3] = [MemberState::Serving, MemberState::NotServing, MemberState::Unreachable];
}

/// One member as published.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    /// `host:port` (or `self` for this process when it listens on every address).
    pub address: String,
    /// The name it gives itself, once heard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// This process.
    #[serde(rename = "self")]
    pub is_self: bool,
    /// Its state.
    pub status: MemberState,
    /// Seconds since its last good answer (absent: never heard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<f64>,
    /// Its checks reporting `fail`, by name.
    pub failing: Vec<String>,
    /// Why it is unreachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Another address of an instance listed before (not counted twice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}

/// One shared check as the fleet sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutageView {
    /// The check.
    pub check: String,
    /// Instances reporting it failing (this one included).
    pub failing: usize,
    /// Instances that answered for it (this one included).
    pub of: usize,
    /// Whether the guard holds it as a shared outage.
    pub engaged: bool,
}

/// The fleet state, published after every round.
#[derive(Debug)]
pub struct FleetView {
    /// The regional answer: pass when enough members serve.
    pub status: Status,
    /// Members known (this one included when it has checks).
    pub total: usize,
    /// Members serving.
    pub serving: usize,
    /// How many must serve.
    pub required: usize,
    /// Peers with a recent answer.
    pub answering: usize,
    /// The shared checks.
    pub outages: Vec<OutageView>,
    /// Why discovery last failed, if it did.
    pub discovery_error: Option<String>,
    /// Every member.
    pub members: Vec<MemberView>,
    codes: StatusCodes,
    cells: [OnceLock<Prepared>; 2],
}

impl FleetView {
    /// A view built from its parts.
    pub(super) fn new(
        members: Vec<MemberView>,
        min_healthy: Threshold,
        answering: usize,
        outages: Vec<OutageView>,
        discovery_error: Option<String>,
        codes: StatusCodes,
    ) -> FleetView {
        let counted = || members.iter().filter(|m| m.duplicate_of.is_none());
        let serving = counted().filter(|m| m.status == MemberState::Serving).count();
        let total = counted().count();
        let required = min_healthy.of(total);
        let status = if total > 0 && serving >= required {
            Status::Pass
        } else {
            Status::Fail
        };
        FleetView {
            status,
            total,
            serving,
            required,
            answering,
            outages,
            discovery_error,
            members,
            codes,
            cells: Default::default(),
        }
    }

    /// The view before the first round: nothing known, so `fail`.
    pub fn empty(codes: StatusCodes) -> FleetView {
        let mut v = FleetView::new(Vec::new(), Threshold::Count(1), 0, Vec::new(), None, codes);
        v.discovery_error = Some("no round of peer reads yet".into());
        v
    }

    /// One line: `4 of 5 members serving (at least 3 required)`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} of {} members serving (at least {} required)",
            self.serving, self.total, self.required
        );
        if let Some(e) = &self.discovery_error {
            s.push_str("; ");
            s.push_str(e);
        }
        s
    }

    /// `/fleet` as health+json (`text = false`) or `OK`/`FAIL` text.
    pub fn answer(&self, text: bool) -> &Prepared {
        self.cells[usize::from(text)].get_or_init(|| {
            let code = match self.status {
                Status::Fail => self.codes.fail,
                _ => self.codes.pass,
            };
            let (content_type, body) = if text {
                (TEXT, Bytes::from(crate::snapshot::word(self.status, None, code)))
            } else {
                (HEALTH_JSON, self.json())
            };
            Prepared::new(
                StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                content_type,
                body,
            )
        })
    }

    fn json(&self) -> Bytes {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            status: &'static str,
            service_id: &'static str,
            output: String,
            summary: Summary,
            shared_outages: &'a [OutageView],
            discovery: Discovery<'a>,
            members: &'a [MemberView],
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Summary {
            members: usize,
            serving: usize,
            required: usize,
            peers_answering: usize,
        }
        #[derive(Serialize)]
        struct Discovery<'a> {
            addresses: usize,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a str>,
        }
        let body = Body {
            status: self.status.as_str(),
            service_id: "healthgate-fleet",
            output: self.summary(),
            summary: Summary {
                members: self.total,
                serving: self.serving,
                required: self.required,
                peers_answering: self.answering,
            },
            shared_outages: &self.outages,
            discovery: Discovery {
                addresses: self.members.iter().filter(|m| !m.is_self).count(),
                error: self.discovery_error.as_deref(),
            },
            members: &self.members,
        };
        let mut out = Vec::with_capacity(256 + self.members.len() * 128);
        serde_json::to_writer(&mut out, &body).expect("writing JSON to memory cannot fail");
        out.push(b'\n');
        Bytes::from(out)
    }
}

/// Seconds with millisecond precision, for bodies.
pub(super) fn seconds(d: Duration) -> f64 {
    (d.as_millis() as f64) / 1000.0
}

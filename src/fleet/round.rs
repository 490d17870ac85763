//! What a round of peer reads adds up to: each member's state, the regional
//! answer, and the tallies the guard decides on. Reads memory only.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::guard::Tally;
use super::members::Members;
use super::view::{seconds, MemberState, MemberView};
use crate::snapshot::Snapshot;
use crate::status::{State, Status};

/// How old an answer may be and still count.
#[derive(Debug, Clone, Copy)]
pub(super) struct Windows {
    /// For the regional answer: a full rotation of the sample plus a round.
    pub view: Duration,
    /// For the guard: the last two rounds.
    pub guard: Duration,
}

/// This process as a member, from its own snapshot (an aggregator, with no
/// checks, is not a member).
pub(super) fn own_view(address: String, instance: &str, snap: &Snapshot) -> MemberView {
    MemberView {
        address,
        instance: Some(instance.to_string()),
        is_self: true,
        status: if snap.serving() {
            MemberState::Serving
        } else {
            MemberState::NotServing
        },
        age_seconds: Some(0.0),
        failing: snap
            .checks
            .iter()
            .filter(|c| c.state == State::Known(Status::Fail))
            .map(|c| c.name.to_string())
            .collect(),
        reason: None,
        duplicate_of: None,
    }
}

/// Every peer as a member view, in discovery order. A second address of an
/// instance already listed is shown with `duplicate_of` and not counted.
pub(super) fn peer_views(members: &Members, now: Instant, window: Duration) -> Vec<MemberView> {
    let mut out: Vec<MemberView> = Vec::with_capacity(members.list.len());
    let mut ids: Vec<(&str, &str)> = Vec::new();
    for m in members.list.iter().filter(|m| !m.is_self) {
        let age = m.heard.as_ref().map(|h| now.saturating_duration_since(h.at));
        let (status, reason) = match (&m.error, &m.heard, age) {
            (Some(e), _, _) => (MemberState::Unreachable, Some(e.clone())),
            (None, Some(h), Some(a)) if a <= window => (
                if h.answer.serving {
                    MemberState::Serving
                } else {
                    MemberState::NotServing
                },
                None,
            ),
            (None, Some(_), Some(a)) => (
                MemberState::Unreachable,
                Some(format!("no answer read for {}s", a.as_secs())),
            ),
            _ => (MemberState::Unreachable, Some("not read yet".into())),
        };
        let duplicate_of = m.heard.as_ref().and_then(|h| {
            let found = ids
                .iter()
                .find(|(id, _)| *id == h.answer.id)
                .map(|(_, a)| a.to_string());
            if found.is_none() {
                ids.push((&h.answer.id, &m.address));
            }
            found
        });
        out.push(MemberView {
            address: m.address.clone(),
            instance: m.heard.as_ref().map(|h| h.answer.instance.clone()),
            is_self: false,
            status,
            age_seconds: age.map(seconds),
            failing: m
                .heard
                .as_ref()
                .map(|h| {
                    h.answer
                        .checks
                        .iter()
                        .filter(|(_, s)| *s == "fail")
                        .map(|(c, _)| c.clone())
                        .collect()
                })
                .unwrap_or_default(),
            reason,
            duplicate_of,
        });
    }
    out
}

/// Per shared check: how many fresh peers answered for it and how many fail it.
pub(super) fn tallies(members: &Members, shared: &[Arc<str>], now: Instant, window: Duration) -> (Vec<Tally>, usize) {
    let fresh = members.fresh(now, window);
    let tallies = shared
        .iter()
        .map(|check| {
            let mut t = Tally {
                check: check.clone(),
                answered: 0,
                failing: 0,
            };
            for m in &fresh {
                let Some(state) = m.heard.as_ref().and_then(|h| h.answer.checks.get(&**check)) else {
                    continue;
                };
                t.answered += 1;
                t.failing += usize::from(state == "fail");
            }
            t
        })
        .collect();
    (tallies, fresh.len())
}

//! `mode = "failback"`: the DR gate beside the primary cluster's nodes. It
//! passes only while the secondary replicates this cluster and is caught up,
//! so HAProxy's preemptive `backup` servers cannot send traffic back to a
//! primary that lacks the writes made on the secondary.
//!
//! Each round reads both clusters at once ([`read`]), judges each write index
//! ([`verdict`]) and applies the gate's memory ([`gate`]): split leaders (the
//! secondary promoted) latch the gate, which then stays failing across rounds,
//! reloads and (with `state_file`) restarts, until the planned switch back has
//! been seen caught up for `caught_up_rounds` or an operator confirms.
//!
//! Compromise: a secondary that cannot be read counts as `peer_unreachable`
//! (warn by default, as the table asks): a promotion that happened while this
//! sidecar could not see the secondary is only caught if it is still visible
//! when the secondary answers again (it is: a promoted index stays a leader).

pub mod gate;
pub mod read;
pub mod verdict;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::client::EsClient;
use crate::checks::{Attempts, Check, Fact, Observed, Outcome};
use crate::config::{EsConfig, FailbackConfig};
use crate::status::Status;
use gate::{Gate, Gates};
use read::{Role, Side};
use verdict::Verdict;

/// The failback gate check.
pub struct FailbackCheck {
    indices: Vec<String>,
    fb: FailbackConfig,
    local: EsClient,
    peer: EsClient,
    attempts: Arc<Attempts>,
    gate: Arc<Mutex<Gate>>,
}

impl FailbackCheck {
    /// Builds the check `name`; its gate comes from `gates` (kept across reloads).
    pub fn new(name: &str, cfg: &EsConfig, gates: &Gates) -> Result<Self, String> {
        let fb = cfg.failback.clone().ok_or("mode = \"failback\" without its settings")?;
        let attempts = Arc::new(Attempts::default());
        let local = EsClient::new(cfg, "/", &[])?.sharing_attempts(attempts.clone(), 0);
        let mut peer_cfg = cfg.clone();
        peer_cfg.urls = fb.peer_urls.clone();
        peer_cfg.auth = fb.peer_auth.clone();
        peer_cfg.ca_file = fb.peer_ca_file.clone();
        let peer = EsClient::new(&peer_cfg, "/", &[])?.sharing_attempts(attempts.clone(), cfg.urls.len());
        Ok(FailbackCheck {
            indices: cfg.indices.clone(),
            gate: gates.gate(name, fb.state_file.as_deref()),
            fb,
            local,
            peer,
            attempts,
        })
    }
}

async fn within(client: &EsClient, indices: &[String], deadline: Instant, budget: Duration) -> Result<Side, String> {
    match tokio::time::timeout_at(deadline, read::side(client, indices, deadline)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {}", humantime::format_duration(budget))),
    }
}

#[async_trait]
impl Check for FailbackCheck {
    async fn run(&self, budget: Duration) -> Outcome {
        // Both sides at once, each ending before the scheduler's timeout so a
        // hung secondary gives its own reason instead of cutting off the round.
        let share = budget.mul_f64(0.9);
        let deadline = Instant::now() + share;
        let (local, peer) = tokio::join!(
            within(&self.local, &self.indices, deadline, share),
            within(&self.peer, &self.indices, deadline, share)
        );
        let (outcome, changed) = {
            let mut g = self.gate.lock().unwrap_or_else(|e| e.into_inner());
            decide(&self.fb, &self.indices, &mut g, local, peer)
        };
        if changed {
            gate::save(&self.gate);
        }
        outcome
    }

    fn measurement(&self) -> &'static str {
        "drFailback"
    }

    fn component_type(&self) -> &'static str {
        "datastore"
    }

    fn attempts(&self) -> Option<&Attempts> {
        Some(self.attempts.as_ref())
    }
}

/// The gate gauge: 0 open, 1 open but unprotected, 2 closed, 3 latched.
fn gate_outcome(status: Status, latched: bool, reason: String) -> Outcome {
    let (code, word) = match (latched, status) {
        (true, _) => (3.0, "latched"),
        (false, Status::Fail) => (2.0, "closed"),
        (false, Status::Warn) => (1.0, "unprotected"),
        (false, Status::Pass) => (0.0, "open"),
    };
    let mut o = Outcome::new(if latched { Status::Fail } else { status }, reason);
    o.measure(Fact::EsDrGate, code);
    o.with_observed(Observed::Text(word.into()))
}

fn with_latch(g: &Gate, reason: String) -> String {
    match g.latched() {
        // The round that latched says nothing the latch does not.
        Some(l) if l.reason.starts_with(&reason) => format!("{} (latched since {})", l.reason, l.since),
        Some(l) => format!("{} (latched since {}); now: {reason}", l.reason, l.since),
        None => reason,
    }
}

/// One round's verdict and whether the gate's stored state changed.
fn decide(
    fb: &FailbackConfig,
    indices: &[String],
    g: &mut Gate,
    local: Result<Side, String>,
    peer: Result<Side, String>,
) -> (Outcome, bool) {
    let confirmed_before = g.confirmation().is_some();
    let local = match local {
        Ok(s) => s,
        Err(e) => {
            let latched = g.latched().is_some();
            let o = gate_outcome(Status::Fail, latched, with_latch(g, format!("this cluster: {e}")));
            return (o, confirmed_before != g.confirmation().is_some());
        }
    };
    let mut changed = false;
    let mut problem = identity(g, "local", &local, "this cluster", &mut changed);
    let (peer, peer_error) = match peer {
        Ok(p) if p.uuid == local.uuid => {
            problem = problem.or(Some(format!(
                "urls and peer_urls reach the same cluster (\"{}\", {}): peer_urls must name the secondary",
                p.name, p.uuid
            )));
            (None, None)
        }
        Ok(p) => {
            problem = problem.or_else(|| identity(g, "peer", &p, "the secondary", &mut changed));
            (Some(p), None)
        }
        Err(e) => (None, Some(e)),
    };
    let mut o = Outcome::pass(String::new());
    let mut notes: Vec<(Status, String)> = Vec::new();
    let mut split = Vec::new();
    let mut all_caught_up = problem.is_none() && peer.is_some();
    for index in indices {
        let mine = local.roles.get(index).unwrap_or(&Role::Missing);
        let theirs = peer.as_ref().map(|p| p.roles.get(index).unwrap_or(&Role::Missing));
        let leaders = verdict::Leaders {
            local: local.checkpoints.get(index),
            peer: peer.as_ref().and_then(|p| p.checkpoints.get(index)),
        };
        o.measure_of(Fact::EsDrLocalRole, index, verdict::role_code(mine));
        if let Some(s) = mine.progress() {
            let lag = verdict::lag(s, leaders.peer) as f64;
            o.measure_of(Fact::EsDrReseedLagOperations, index, lag);
        }
        if let Some(t) = theirs {
            o.measure_of(Fact::EsDrPeerRole, index, verdict::role_code(t));
            if let Some(s) = t.progress() {
                let lag = verdict::lag(s, leaders.local) as f64;
                o.measure_of(Fact::EsDrPeerLagOperations, index, lag);
            }
        }
        let v = verdict::judge(fb, index, mine, theirs, leaders);
        let count = g.caught_up.entry(index.clone()).or_insert(0);
        match &v {
            Verdict::CaughtUp(_) => *count = count.saturating_add(1),
            _ => *count = 0,
        }
        let count = *count;
        all_caught_up &= count >= fb.caught_up_rounds;
        match v {
            Verdict::CaughtUp(lag) if count >= fb.caught_up_rounds => notes.push((
                Status::Pass,
                format!("{index}: the secondary follows it, {lag} operations behind"),
            )),
            Verdict::CaughtUp(_) => notes.push((
                Status::Warn,
                format!(
                    "{index}: the secondary caught up for {count} of {} rounds",
                    fb.caught_up_rounds
                ),
            )),
            Verdict::Unprotected(why) if theirs.is_none() => notes.push((fb.peer_unreachable, why)),
            Verdict::Unprotected(why) => notes.push((Status::Warn, why)),
            Verdict::Fail(why) => notes.push((Status::Fail, why)),
            Verdict::SplitLeaders => split.push(index.clone()),
        }
    }
    if let Some(e) = &peer_error {
        let how = if fb.peer_unreachable == Status::Fail {
            " (peer_unreachable = \"fail\")"
        } else {
            ""
        };
        notes.insert(0, (fb.peer_unreachable, format!("the secondary: {e}{how}")));
    }
    if let Some(p) = problem {
        notes.insert(0, (Status::Fail, p));
    }
    if !split.is_empty() {
        let names = split.join(", ");
        let verb = if split.len() == 1 { "is a leader" } else { "are leaders" };
        match g.confirmation() {
            Some(c) => notes.push((
                Status::Warn,
                format!(
                    "{names} {verb} on both clusters; an operator confirmed until {}: {}",
                    c.until, c.reason
                ),
            )),
            None => {
                changed |= g.latch(format!(
                    "{names} {verb} on both clusters (the secondary was promoted and took writes this cluster lacks): re-follow from the secondary, then switch back; or confirm with healthgate dr confirm"
                ));
                notes.push((Status::Fail, format!("{names} {verb} on both clusters")));
            }
        }
    }
    if g.latched().is_some() && all_caught_up && split.is_empty() {
        changed |= g.unlatch(&format!(
            "the switch back was observed: the secondary follows every write index, caught up for {} rounds",
            fb.caught_up_rounds
        ));
    }
    changed |= confirmed_before != g.confirmation().is_some();
    let status = notes.iter().map(|(s, _)| *s).max().unwrap_or(Status::Pass);
    // The worst first: the reason leads with what decides.
    notes.sort_by_key(|n| std::cmp::Reverse(n.0));
    let text: Vec<&str> = notes.iter().map(|(_, t)| t.as_str()).collect();
    let reason = with_latch(g, text.join("; "));
    let mut out = gate_outcome(status, g.latched().is_some(), reason);
    out.facts.extend(o.facts);
    (out, changed)
}

/// Compares a side's cluster UUID with the one remembered; the reason when it differs.
fn identity(g: &mut Gate, side: &str, s: &Side, what: &str, changed: &mut bool) -> Option<String> {
    match g.identity(side, &s.uuid) {
        Ok(new) => {
            *changed |= new;
            None
        }
        Err(old) => Some(format!(
            "{what} is now cluster \"{}\" ({}), not the cluster seen before ({old}): a different cluster behind the same address; if that is intended, confirm with healthgate dr confirm",
            s.name, s.uuid
        )),
    }
}

#[cfg(test)]
mod tests;

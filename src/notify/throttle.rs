//! Which transitions a receiver hears, and how often: pure, so the rules are
//! tested without a clock or a network.
//!
//! A receiver is told when a check arrives in one of the `on` states, and
//! (with `send_resolved`) when it leaves them for a state that is not. At most
//! one event per check goes out per `min_interval`; the changes in between are
//! merged into one event from the state the receiver last heard to the
//! current one, and dropped if the check is back where the receiver last
//! heard it (a flapping check costs the receiver one event per interval, not
//! one per flap).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Change;
use crate::status::State;

/// The announcement rules of one receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// States whose arrival is announced.
    pub on: Vec<State>,
    /// Whether leaving them is announced too.
    pub send_resolved: bool,
    /// At most one event per check this often.
    pub min_interval: Duration,
}

#[derive(Debug, Default)]
struct PerCheck {
    heard: Option<State>,
    sent_at: Option<Instant>,
    held: Option<Change>,
}

/// The per-check memory of one receiver.
#[derive(Debug)]
pub struct Throttle {
    rules: Rules,
    checks: HashMap<Arc<str>, PerCheck>,
}

/// What became of a change.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Send this now.
    Send(Change),
    /// Held until the check's interval has passed.
    Held,
    /// Not for this receiver (or merged away).
    Skip,
}

impl Throttle {
    /// A throttle with no history.
    pub fn new(rules: Rules) -> Throttle {
        Throttle {
            rules,
            checks: HashMap::new(),
        }
    }

    fn wanted(&self, heard: Option<State>, to: State) -> bool {
        let on = |s: State| self.rules.on.contains(&s);
        if heard == Some(to) {
            return false;
        }
        on(to) || (self.rules.send_resolved && heard.is_some_and(on))
    }

    /// Offers a change at `now`.
    pub fn offer(&mut self, change: Change, now: Instant) -> Verdict {
        let min = self.rules.min_interval;
        let entry = self.checks.entry(change.check.clone()).or_default();
        if entry.sent_at.is_some_and(|at| now < at + min) {
            entry.held = Some(change);
            return Verdict::Held;
        }
        let heard = entry.heard;
        self.decide(change, heard, now)
    }

    fn decide(&mut self, mut change: Change, heard: Option<State>, now: Instant) -> Verdict {
        if !self.wanted(heard, change.to) {
            return Verdict::Skip;
        }
        if let Some(h) = heard {
            // Merged changes: from what the receiver last heard.
            change.from = h;
        }
        let entry = self.checks.entry(change.check.clone()).or_default();
        entry.heard = Some(change.to);
        entry.sent_at = Some(now);
        Verdict::Send(change)
    }

    /// When the next held change is due.
    pub fn next_due(&self) -> Option<Instant> {
        let min = self.rules.min_interval;
        self.checks
            .values()
            .filter(|c| c.held.is_some())
            .filter_map(|c| c.sent_at.map(|at| at + min))
            .min()
    }

    /// The held changes due at `now`, merged, that are still worth sending.
    pub fn due(&mut self, now: Instant) -> Vec<Change> {
        let min = self.rules.min_interval;
        let ready: Vec<(Change, Option<State>)> = self
            .checks
            .values_mut()
            .filter(|c| c.sent_at.is_some_and(|at| at + min <= now))
            .filter_map(|c| c.held.take().map(|h| (h, c.heard)))
            .collect();
        let mut out = Vec::new();
        for (change, heard) in ready {
            if let Verdict::Send(c) = self.decide(change, heard, now) {
                out.push(c);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;

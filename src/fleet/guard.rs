//! The shared-outage guard's decision, per shared check, with its own
//! hysteresis: pure (no clock, no I/O), fed one tally per round of peer reads.
//!
//! A check is *in a shared outage* from the first round where at least
//! `min_peers` peers answered for it and at least `shared_quorum` of them
//! report it failing. It leaves only after [`RELEASE_ROUNDS`] rounds in a row
//! without that, so a fleet hovering at the quorum (one peer failing, then
//! not) does not flap the guard, and an instance whose peers stop answering
//! (cut off from them) is evicted three rounds later: it cannot prove the
//! outage is shared.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Rounds in a row below the quorum before the guard lets go.
pub const RELEASE_ROUNDS: u32 = 3;

/// One shared check's count among the peers that answered this round (this
/// instance not included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The check's name.
    pub check: Arc<str>,
    /// Peers that answered and have a check of this name.
    pub answered: usize,
    /// Of those, the ones reporting it `fail`.
    pub failing: usize,
}

/// What a round changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The check entered a shared outage.
    Engaged(Tally),
    /// The check left it (why, for the log).
    Released(Tally),
}

/// The guard's memory: the checks in a shared outage, and for each the
/// rounds in a row that did not confirm it.
#[derive(Debug, Clone)]
pub struct Guard {
    quorum_percent: f64,
    min_peers: usize,
    engaged: BTreeMap<Arc<str>, u32>,
}

impl Guard {
    /// A guard with nothing engaged.
    pub fn new(quorum_percent: f64, min_peers: usize) -> Guard {
        Guard {
            quorum_percent,
            min_peers,
            engaged: BTreeMap::new(),
        }
    }

    /// Whether a tally shows a shared outage this round.
    pub fn confirms(&self, t: &Tally) -> bool {
        t.answered >= self.min_peers && t.failing as f64 * 100.0 >= self.quorum_percent * t.answered as f64
    }

    /// Folds in one round; returns what changed.
    pub fn step(&mut self, tallies: &[Tally]) -> Vec<Change> {
        let mut changes = Vec::new();
        for t in tallies {
            let confirmed = self.confirms(t);
            match (self.engaged.get_mut(&t.check), confirmed) {
                (Some(misses), true) => *misses = 0,
                (Some(misses), false) => {
                    *misses += 1;
                    if *misses >= RELEASE_ROUNDS {
                        self.engaged.remove(&t.check);
                        changes.push(Change::Released(t.clone()));
                    }
                }
                (None, true) => {
                    self.engaged.insert(t.check.clone(), 0);
                    changes.push(Change::Engaged(t.clone()));
                }
                (None, false) => {}
            }
        }
        // A check no longer shared (a reload) leaves at once.
        self.engaged
            .retain(|check, _| tallies.iter().any(|t| &t.check == check));
        changes
    }

    /// Whether a check is in a shared outage.
    pub fn engaged(&self, check: &str) -> bool {
        self.engaged.contains_key(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(answered: usize, failing: usize) -> Vec<Tally> {
        vec![Tally {
            check: "es".into(),
            answered,
            failing,
        }]
    }

    #[test]
    fn engages_at_once_and_lets_go_after_three_rounds() {
        let mut g = Guard::new(50.0, 2);
        assert!(g.step(&tally(4, 1)).is_empty());
        assert!(matches!(g.step(&tally(4, 2))[..], [Change::Engaged(_)]));
        assert!(g.engaged("es"));
        // Hovering at the quorum: 2 of 4, then 1 of 4, alternately. No flap.
        for round in 0..20 {
            let changes = g.step(&tally(4, if round % 2 == 0 { 1 } else { 2 }));
            assert!(changes.is_empty(), "round {round}: {changes:?}");
            assert!(g.engaged("es"));
        }
        assert!(g.step(&tally(4, 0)).is_empty());
        assert!(g.step(&tally(4, 0)).is_empty());
        assert!(matches!(g.step(&tally(4, 0))[..], [Change::Released(_)]));
        assert!(!g.engaged("es"));
    }

    #[test]
    fn too_few_peers_cannot_prove_an_outage_shared() {
        let mut g = Guard::new(50.0, 2);
        assert!(g.step(&tally(1, 1)).is_empty());
        assert!(!g.engaged("es"));
        // Engaged, then isolated (nobody answers): evicted after three rounds.
        g.step(&tally(3, 3));
        for _ in 0..2 {
            assert!(g.step(&tally(0, 0)).is_empty());
        }
        assert!(matches!(g.step(&tally(0, 0))[..], [Change::Released(_)]));
    }
}

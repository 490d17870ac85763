//! The peers this sidecar knows, what each last said, and which ones the next
//! round reads.
//!
//! Sampling: the non-self peers are shuffled once per cycle and each round
//! takes the next `sample` of them, so every peer is read once every
//! ⌈peers / sample⌉ rounds and the fleet as a whole sends N × min(sample, N − 1)
//! requests per interval, not N × (N − 1).

use std::time::Duration;

use rand::seq::SliceRandom;
use tokio::time::Instant;

use super::wire::PeerAnswer;

/// A peer's last good answer.
#[derive(Debug, Clone)]
pub(super) struct Heard {
    pub answer: PeerAnswer,
    pub at: Instant,
}

/// One peer address.
#[derive(Debug, Clone)]
pub(super) struct Member {
    /// `host:port`.
    pub address: String,
    /// Its last good answer, kept while later reads fail.
    pub heard: Option<Heard>,
    /// Why its latest read failed (`None` once a read succeeds).
    pub error: Option<String>,
    /// This process itself (found by its id in an answer, or by its address).
    pub is_self: bool,
}

/// The members and the rotation.
#[derive(Debug, Default)]
pub(super) struct Members {
    pub list: Vec<Member>,
    order: Vec<usize>,
    cursor: usize,
}

impl Members {
    /// Replaces the address set: members still present keep what they said,
    /// new ones start unheard, missing ones leave. Returns (added, removed).
    pub(super) fn set_addresses(&mut self, addresses: &[String], own: impl Fn(&str) -> bool) -> (usize, usize) {
        let mut old: Vec<Option<Member>> = std::mem::take(&mut self.list).into_iter().map(Some).collect();
        let mut added = 0;
        for a in addresses {
            if self.list.iter().any(|m| &m.address == a) {
                continue;
            }
            let kept = old
                .iter_mut()
                .find(|m| m.as_ref().is_some_and(|m| &m.address == a))
                .and_then(Option::take);
            self.list.push(kept.unwrap_or_else(|| {
                added += 1;
                Member {
                    address: a.clone(),
                    heard: None,
                    error: None,
                    is_self: own(a),
                }
            }));
        }
        let removed = old.iter().filter(|m| m.is_some()).count();
        self.order.clear();
        self.cursor = 0;
        (added, removed)
    }

    /// The peers (never this process) the next round reads: all of them, or
    /// the next `sample` of the rotation.
    pub(super) fn next_round(&mut self, sample: Option<usize>) -> Vec<usize> {
        let peers: Vec<usize> = (0..self.list.len()).filter(|&i| !self.list[i].is_self).collect();
        let Some(sample) = sample.filter(|&s| s < peers.len()) else {
            return peers;
        };
        let mut picked = Vec::with_capacity(sample);
        while picked.len() < sample {
            if self.cursor >= self.order.len() {
                self.order = peers.clone();
                self.order.shuffle(&mut rand::rng());
                self.cursor = 0;
            }
            let i = self.order[self.cursor];
            self.cursor += 1;
            if !picked.contains(&i) {
                picked.push(i);
            }
        }
        picked
    }

    /// Rounds it takes to read every peer once.
    pub(super) fn rotation(&self, sample: Option<usize>) -> u32 {
        let peers = self.list.iter().filter(|m| !m.is_self).count().max(1);
        match sample {
            Some(s) => peers.div_ceil(s.max(1)) as u32,
            None => 1,
        }
    }

    /// The members whose latest read succeeded within `window`, one per
    /// instance id (the freshest, when two addresses reach one instance).
    pub(super) fn fresh(&self, now: Instant, window: Duration) -> Vec<&Member> {
        let mut out: Vec<&Member> = Vec::new();
        for m in &self.list {
            let Some(h) = m
                .heard
                .as_ref()
                .filter(|h| m.error.is_none() && now - h.at <= window && !m.is_self)
            else {
                continue;
            };
            match out
                .iter_mut()
                .find(|o| o.heard.as_ref().is_some_and(|o| o.answer.id == h.answer.id))
            {
                Some(o) if o.heard.as_ref().is_some_and(|o| o.at < h.at) => *o = m,
                Some(_) => {}
                None => out.push(m),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_reads_every_peer_once_per_rotation() {
        let mut m = Members::default();
        let addrs: Vec<String> = (0..10).map(|i| format!("10.0.0.{i}:9898")).collect();
        m.set_addresses(&addrs, |a| a == "10.0.0.0:9898");
        assert_eq!(m.rotation(Some(3)), 3);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3 {
            let round = m.next_round(Some(3));
            assert_eq!(round.len(), 3);
            seen.extend(round);
        }
        assert_eq!(seen.len(), 9, "every peer but this process within a rotation");
        assert!(!seen.contains(&0));
        assert_eq!(m.next_round(None).len(), 9);
        assert_eq!(m.next_round(Some(16)).len(), 9);
    }

    #[test]
    fn a_new_address_set_keeps_what_known_members_said() {
        let mut m = Members::default();
        m.set_addresses(&["a:1".into(), "b:1".into()], |_| false);
        m.list[0].error = Some("connection refused".into());
        let (added, removed) = m.set_addresses(&["a:1".into(), "c:1".into(), "c:1".into()], |_| false);
        assert_eq!((added, removed), (1, 1));
        assert_eq!(m.list.len(), 2);
        assert_eq!(m.list[0].error.as_deref(), Some("connection refused"));
    }
}

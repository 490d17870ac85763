//! Cross-cluster replication in the simulated cluster: which index is a leader
//! and which follows what, `GET /<indices>/_ccr/info`, `GET /<indices>/_ccr/stats`,
//! and the run-time transitions of a DR drill (pause, resume, promote, re-seed).
//!
//! Faithful to Elasticsearch where the fixtures are silent (read from its
//! source): `_ccr/info` resolves the names strictly (a missing one is a 404
//! `index_not_found_exception`), lists only follower indices, `active` with the
//! follow parameters while a follow task exists (a fatal exception stops the
//! shard task, not the persistent one), `paused` without parameters otherwise
//! (`TransportFollowInfoAction`). `_ccr/stats` for named indices none of which
//! has a follow task is a 404 `resource_not_found_exception` "No shard follow
//! tasks for follower indices [...]" (`TransportFollowStatsAction`); `_all`
//! lists only followers that have one. A re-seeded follower starts behind by
//! the given number of operations and catches up at the given rate; a caught-up
//! follower's `time_since_last_read_millis` grows up to `read_poll_timeout`
//! (1 m by default) and starts again (`ShardFollowNodeTask` long-polls).

mod answers;

use std::collections::BTreeMap;
use std::time::Instant;

use super::CcrState;

/// The follow task's `read_poll_timeout` (Elasticsearch's default).
const READ_POLL_TIMEOUT_MS: u64 = 60_000;

/// The global checkpoint of every leader shard before any simulated write, in
/// every simulator: two simulators agree on it, so a follower created on one
/// with `behind` operations of lag is that far behind a leader on the other.
const LEADER_CHECKPOINT: i64 = 1_000_000;

/// One index of the simulated cluster.
#[derive(Debug, Clone)]
pub(super) enum Role {
    /// A plain index, or a leader: it takes writes; its shard's global checkpoint.
    Leader(i64),
    /// A follower index (rejects writes).
    Follower(Follower),
}

/// A follower index and its follow task.
#[derive(Debug, Clone)]
pub(super) struct Follower {
    remote_cluster: String,
    leader_index: String,
    paused: bool,
    condition: CcrState,
    /// Operations behind when the task (re)started, how fast it catches up
    /// (operations per second; 0: it stays behind), and since when.
    behind: u64,
    rate: u64,
    since: Instant,
    /// The documentation example's 256 operations of lag, for the default follower.
    docs_example: bool,
}

impl Follower {
    /// The follower shard's global checkpoint.
    fn checkpoint(&self) -> i64 {
        if self.docs_example {
            return 768;
        }
        LEADER_CHECKPOINT - self.lag() as i64
    }

    fn lag(&self) -> u64 {
        if self.docs_example {
            return 256;
        }
        let done = self.since.elapsed().as_secs_f64() * self.rate as f64;
        self.behind.saturating_sub(done as u64)
    }

    /// Milliseconds since the last read: a few while catching up; once caught
    /// up, the long poll's age.
    fn since_last_read_ms(&self) -> u64 {
        if self.docs_example || self.lag() > 0 {
            return 8;
        }
        let caught_up_after = if self.rate == 0 {
            0.0
        } else {
            self.behind as f64 / self.rate as f64
        };
        let idle = (self.since.elapsed().as_secs_f64() - caught_up_after).max(0.0);
        (idle * 1000.0) as u64 % READ_POLL_TIMEOUT_MS
    }
}

/// Every index and its role, and the aliases that name them.
#[derive(Debug)]
pub(crate) struct Ccr {
    indices: BTreeMap<String, Role>,
    aliases: BTreeMap<String, String>,
}

impl Default for Ccr {
    /// `orders` and `logs` (plain indices) and `follower_index`, following
    /// `leader_index` on `remote_cluster` as in the documentation example;
    /// the alias `orders-write` names `orders`.
    fn default() -> Self {
        let mut indices = BTreeMap::new();
        indices.insert("orders".to_string(), Role::Leader(LEADER_CHECKPOINT));
        indices.insert("logs".to_string(), Role::Leader(LEADER_CHECKPOINT));
        let mut f = follower("remote_cluster", "leader_index", 0, 0);
        f.docs_example = true;
        indices.insert("follower_index".to_string(), Role::Follower(f));
        let aliases = BTreeMap::from([("orders-write".to_string(), "orders".to_string())]);
        Ccr { indices, aliases }
    }
}

fn follower(remote: &str, leader: &str, behind: u64, rate: u64) -> Follower {
    Follower {
        remote_cluster: remote.to_string(),
        leader_index: leader.to_string(),
        paused: false,
        condition: CcrState::Following,
        behind,
        rate,
        since: Instant::now(),
        docs_example: false,
    }
}

/// A run-time change to one index, as a DR drill makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexChange {
    /// `POST /<index>/_ccr/pause_follow`.
    Pause,
    /// `POST /<index>/_ccr/resume_follow`.
    Resume,
    /// Pause, close, `unfollow`, open: the follower becomes a leader (irreversible).
    Promote,
    /// Delete the index and `PUT /<index>/_ccr/follow` from `remote_cluster`'s
    /// `leader_index`: a full copy, `behind` operations behind, caught up at
    /// `rate` operations per second.
    Follow {
        /// The remote cluster alias the follower reads from.
        remote_cluster: String,
        /// The leader index there.
        leader_index: String,
        /// Operations behind at the start.
        behind: u64,
        /// Operations per second it catches up.
        rate: u64,
    },
    /// The follow task's condition (lagging, read exceptions, fatal).
    Condition(CcrState),
    /// Create a plain index.
    Create,
    /// A leader takes this many writes: its global checkpoint moves on (a
    /// follower on another simulator does not see them, as with a broken
    /// remote connection).
    Write(u64),
    /// Delete the index.
    Delete,
}

impl Ccr {
    /// The index names, for the APIs that resolve them.
    pub(super) fn names(&self) -> Vec<String> {
        self.indices.keys().cloned().collect()
    }

    /// Applies a change; an error names what Elasticsearch would refuse.
    pub(super) fn apply(&mut self, index: &str, change: IndexChange) -> Result<(), String> {
        if let IndexChange::Create = change {
            if self.indices.contains_key(index) {
                return Err(format!("index [{index}] already exists"));
            }
            self.indices.insert(index.to_string(), Role::Leader(LEADER_CHECKPOINT));
            return Ok(());
        }
        if let IndexChange::Follow {
            remote_cluster,
            leader_index,
            behind,
            rate,
        } = change
        {
            let f = follower(&remote_cluster, &leader_index, behind, rate);
            self.indices.insert(index.to_string(), Role::Follower(f));
            return Ok(());
        }
        let Some(role) = self.indices.get_mut(index) else {
            return Err(format!("no such index [{index}]"));
        };
        if change == IndexChange::Delete {
            self.indices.remove(index);
            return Ok(());
        }
        if let (IndexChange::Write(n), Role::Leader(gcp)) = (&change, &mut *role) {
            *gcp += *n as i64;
            return Ok(());
        }
        let Role::Follower(f) = role else {
            return Err(format!("index [{index}] is not a follower index"));
        };
        match change {
            IndexChange::Pause => f.paused = true,
            IndexChange::Resume => f.paused = false,
            IndexChange::Promote => *role = Role::Leader(f.checkpoint()),
            IndexChange::Condition(CcrState::Paused) => f.paused = true,
            IndexChange::Condition(c) => {
                f.paused = false;
                f.condition = c;
            }
            IndexChange::Create | IndexChange::Delete | IndexChange::Write(_) | IndexChange::Follow { .. } => {}
        }
        Ok(())
    }

    /// Resolves a comma-separated list strictly, as `_ccr/info` does.
    /// `Err(name)` for the first name that resolves to no index.
    fn resolve<'a>(&'a self, list: &'a str) -> Result<Vec<&'a str>, &'a str> {
        if list == "_all" || list == "*" {
            return Ok(self.indices.keys().map(String::as_str).collect());
        }
        let mut out = Vec::new();
        for name in list.split(',').filter(|s| !s.is_empty()) {
            match self.aliases.get(name) {
                Some(target) if self.indices.contains_key(target) => out.push(target.as_str()),
                _ if self.indices.contains_key(name) => out.push(name),
                _ => return Err(name),
            }
        }
        Ok(out)
    }
}

//! The gate's table, per write index: what this (primary) cluster and the
//! secondary are, and what that means for traffic here. Pure: the latch and
//! the caught-up count are applied by the caller ([`super::FailbackCheck`]).
//!
//! | this cluster | the secondary | verdict |
//! | --- | --- | --- |
//! | leader | its follower, active, no fatal exception, lag within `max_lag_operations`, read recently | caught up (pass after `caught_up_rounds`) |
//! | leader | follower but paused, lagging, stale, stopped, following a third cluster; missing; unreachable | unprotected (warn; `peer_unreachable` for the last) |
//! | leader | leader too | split leaders (latches) |
//! | follower of the secondary | leader | re-seeding (fail) |
//! | follower otherwise, or missing | any | fail |

use std::collections::BTreeMap;
use std::time::Duration;

use super::read::{Follow, Role};
use crate::checks::elasticsearch::ccr::Progress;
use crate::config::FailbackConfig;

/// How much later than `read_poll_timeout` a caught-up follower may have read
/// last: the long poll returns after the timeout, plus the round trip.
pub const FRESHNESS_MARGIN: Duration = Duration::from_secs(10);

/// One index's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The secondary follows this cluster and is caught up (lag in operations).
    CaughtUp(i64),
    /// Traffic here is right, DR protection is not.
    Unprotected(String),
    /// The secondary was promoted: it took writes this cluster lacks.
    SplitLeaders,
    /// Traffic must not come here.
    Fail(String),
}

/// The role code exported as a metric: 0 missing, 1 leader, 2 following,
/// 3 paused follower, 4 follower stopped by a fatal exception.
pub fn role_code(role: &Role) -> f64 {
    match role {
        Role::Missing => 0.0,
        Role::Leader => 1.0,
        Role::Follower(f) if f.paused => 3.0,
        Role::Follower(f) if f.stats.as_ref().is_some_and(|s| s.fatal.is_some()) => 4.0,
        Role::Follower(_) => 2.0,
    }
}

/// A leader's own global checkpoint per shard.
pub type Checkpoints = BTreeMap<u64, i64>;

/// Operations a follower is behind: against the leader's own checkpoints when
/// they were read (per shard, the worst), never less than the follower's own
/// view of its leader (which lags behind the leader when the link is slow or broken).
pub fn lag(stats: &Progress, leader: Option<&Checkpoints>) -> i64 {
    let real = leader.and_then(|cps| {
        stats
            .checkpoints
            .iter()
            .filter_map(|(shard, follower)| Some(cps.get(shard)? - follower))
            .max()
    });
    real.unwrap_or(0).max(stats.lag).max(0)
}

fn lag_text(f: &Follow, leader: Option<&Checkpoints>) -> String {
    match &f.stats {
        Some(s) => format!("{} operations behind", lag(s, leader)),
        None if f.paused => "paused".into(),
        None => "no shard task reports yet".into(),
    }
}

/// Where the leaders are: this cluster's and the secondary's checkpoints of the index.
#[derive(Debug, Clone, Copy, Default)]
pub struct Leaders<'a> {
    /// This cluster's, when it leads the index.
    pub local: Option<&'a Checkpoints>,
    /// The secondary's, when it leads the index.
    pub peer: Option<&'a Checkpoints>,
}

/// The verdict for `index`; `peer` is `None` when the secondary could not be read.
pub fn judge(cfg: &FailbackConfig, index: &str, local: &Role, peer: Option<&Role>, leaders: Leaders<'_>) -> Verdict {
    match local {
        Role::Missing => Verdict::Fail(format!("{index} does not exist on this cluster")),
        Role::Follower(f) => {
            let third = cfg.peer_alias.as_deref().filter(|a| *a != f.remote);
            match (third, peer) {
                (Some(alias), _) => Verdict::Fail(format!(
                    "{index} here follows {}:{}, a third cluster, not the secondary (peer_alias \"{alias}\"): it rejects writes",
                    f.remote, f.leader_index
                )),
                (None, Some(Role::Leader)) => Verdict::Fail(format!(
                    "{index} is re-seeding from the secondary, {}: traffic stays on the secondary until the planned switch back",
                    lag_text(f, leaders.peer)
                )),
                (None, Some(Role::Follower(_))) => {
                    Verdict::Fail(format!("{index} is a follower on both clusters: neither takes writes"))
                }
                (None, _) => Verdict::Fail(format!(
                    "{index} is a follower index here (of {}:{}, {}): it rejects writes",
                    f.remote,
                    f.leader_index,
                    lag_text(f, None)
                )),
            }
        }
        Role::Leader => match peer {
            None => Verdict::Unprotected(format!(
                "{index}: the secondary could not be read, DR protection unknown"
            )),
            Some(Role::Missing) => Verdict::Unprotected(format!(
                "{index} does not exist on the secondary: nothing replicates it"
            )),
            Some(Role::Leader) => Verdict::SplitLeaders,
            Some(Role::Follower(f)) => protection(cfg, index, f, leaders.local),
        },
    }
}

fn protection(cfg: &FailbackConfig, index: &str, f: &Follow, leader: Option<&Checkpoints>) -> Verdict {
    let mine = |why: String| Verdict::Unprotected(format!("{index} on the secondary {why}"));
    if let Some(alias) = cfg.alias_on_peer.as_deref().filter(|a| *a != f.remote) {
        return mine(format!(
            "follows {}:{}, a third cluster, not this one (alias_on_peer \"{alias}\")",
            f.remote, f.leader_index
        ));
    }
    if f.paused {
        return mine("is a paused follower: replication stopped".into());
    }
    let Some(s) = &f.stats else {
        return mine("is following but no shard task reports yet".into());
    };
    if let Some(fatal) = &s.fatal {
        return mine(format!("stopped replicating: {fatal}"));
    }
    let behind = lag(s, leader);
    if behind > cfg.max_lag_operations as i64 {
        return mine(format!(
            "is {behind} operations behind (max_lag_operations {})",
            cfg.max_lag_operations
        ));
    }
    let limit = f.read_poll_timeout + FRESHNESS_MARGIN;
    if u128::from(s.since_read_ms) > limit.as_millis() {
        return mine(format!(
            "last read {}s ago (read_poll_timeout {} + {}s)",
            s.since_read_ms / 1000,
            humantime::format_duration(f.read_poll_timeout),
            FRESHNESS_MARGIN.as_secs()
        ));
    }
    Verdict::CaughtUp(behind)
}

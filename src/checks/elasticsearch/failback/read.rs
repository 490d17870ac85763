//! Reading one cluster's side of the gate within a budget: who it is
//! (`GET /`), what each write index is (`GET /<index>/_ccr/info`, one request
//! per configured name so aliases resolve and a missing index is told apart),
//! how far its followers are (`GET /<followers>/_ccr/stats`) and where its
//! leaders are (`GET /<index>/_stats/docs?level=shards`: the sequence numbers a
//! follower on the other cluster is measured against).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::super::ccr;
use super::super::client::{Answer, EsClient};
use super::super::errors::{describe, error_detail};

/// What a write index is on one cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// No such index (or alias).
    Missing,
    /// A leader or plain index: it takes writes.
    Leader,
    /// A follower index: it rejects writes.
    Follower(Follow),
}

impl Role {
    /// A follower's progress, when its shard tasks report it.
    pub fn progress(&self) -> Option<&ccr::Progress> {
        match self {
            Role::Follower(f) => f.stats.as_ref(),
            Role::Missing | Role::Leader => None,
        }
    }
}

/// A follower's task, as `_ccr/info` and `_ccr/stats` describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct Follow {
    /// The remote cluster alias it reads from.
    pub remote: String,
    /// The leader index there.
    pub leader_index: String,
    /// `paused` in `_ccr/info`.
    pub paused: bool,
    /// `read_poll_timeout` of the task (1 m by default).
    pub read_poll_timeout: Duration,
    /// From `_ccr/stats`; `None` when no shard task reports (paused, starting).
    pub stats: Option<ccr::Progress>,
}

/// One cluster, as read this round.
#[derive(Debug, Clone)]
pub struct Side {
    /// `cluster_name`.
    pub name: String,
    /// `cluster_uuid`.
    pub uuid: String,
    /// Every configured index (or alias) and its role.
    pub roles: BTreeMap<String, Role>,
    /// The leaders' own global checkpoints per shard, where readable.
    pub checkpoints: BTreeMap<String, BTreeMap<u64, i64>>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    cluster_name: String,
    #[serde(default)]
    cluster_uuid: String,
}

#[derive(Deserialize)]
struct FollowInfo {
    follower_indices: Vec<FollowerInfo>,
}

#[derive(Deserialize)]
struct FollowerInfo {
    follower_index: String,
    remote_cluster: String,
    leader_index: String,
    status: String,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    read_poll_timeout: Option<String>,
}

fn refused(what: &str, a: &Answer) -> String {
    let mut r = describe(a.status.as_u16(), &a.body, &a.node);
    if a.status.as_u16() == 403 {
        r.push_str(&format!(
            " ({what} needs the cluster privilege \"monitor\" for the user of this side)"
        ));
    }
    r
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, a: &Answer) -> Result<T, String> {
    if !a.status.is_success() {
        return Err(refused(what, a));
    }
    serde_json::from_slice(&a.body).map_err(|e| format!("unexpected answer to {what} from {}: {e}", a.node))
}

/// The role an answer of `_ccr/info` gives one configured name, and the
/// concrete follower index to ask `_ccr/stats` about when it is active. A
/// leader has no entry; an alias is judged by the first index it names.
fn role_of(info: FollowInfo) -> (Role, Option<String>) {
    let Some(f) = info.follower_indices.into_iter().next() else {
        return (Role::Leader, None);
    };
    let poll = f
        .parameters
        .and_then(|p| p.read_poll_timeout)
        .and_then(|t| humantime::parse_duration(&t).ok())
        .unwrap_or(Duration::from_secs(60));
    let active = f.status == "active";
    let role = Role::Follower(Follow {
        remote: f.remote_cluster,
        leader_index: f.leader_index,
        paused: !active,
        read_poll_timeout: poll,
        stats: None,
    });
    (role, active.then_some(f.follower_index))
}

/// The role a `_ccr/info` body gives one configured name (for the fixture tests).
pub fn role_in(body: &[u8]) -> Result<(Role, Option<String>), serde_json::Error> {
    serde_json::from_slice(body).map(role_of)
}

/// Time left until `deadline`, shared evenly by `steps` requests still to make.
fn share(deadline: Instant, steps: u32) -> Duration {
    deadline.saturating_duration_since(Instant::now()) / steps.max(1)
}

/// Reads `indices` on the cluster behind `client` before `deadline`.
pub async fn side(client: &EsClient, indices: &[String], deadline: Instant) -> Result<Side, String> {
    let a = client
        .get("/", &[], share(deadline, 3))
        .await
        .map_err(|e| e.to_string())?;
    let info: Info = parse("GET /", &a)?;
    if info.cluster_uuid.is_empty() || info.cluster_uuid == "_na_" {
        return Err(format!(
            "{} has not joined a cluster yet (cluster_uuid \"_na_\")",
            a.node
        ));
    }
    let budget = share(deadline, 2);
    let answers = futures_util::future::join_all(indices.iter().map(|index| {
        let path = format!("/{index}/_ccr/info");
        async move { (index, client.get(&path, &["master_timeout"], budget).await) }
    }))
    .await;
    let mut roles = BTreeMap::new();
    let mut concrete: Vec<(String, String)> = Vec::new();
    for (index, answer) in answers {
        let a = answer.map_err(|e| e.to_string())?;
        if a.status.as_u16() == 404
            && error_detail(&a.body).and_then(|d| d.0).as_deref() == Some("index_not_found_exception")
        {
            roles.insert(index.clone(), Role::Missing);
            continue;
        }
        let info: FollowInfo = parse(&format!("GET /{index}/_ccr/info"), &a)?;
        let (role, follower) = role_of(info);
        if let Some(f) = follower {
            concrete.push((index.clone(), f));
        }
        roles.insert(index.clone(), role);
    }
    let budget = share(deadline, 1);
    let leaders: Vec<String> = roles
        .iter()
        .filter(|(_, r)| **r == Role::Leader)
        .map(|(n, _)| n.clone())
        .collect();
    let (followed, checkpoints) = tokio::join!(
        follow_stats(client, &concrete, budget),
        futures_util::future::join_all(leaders.iter().map(|name| leader_checkpoints(client, name, budget)))
    );
    for (configured, p) in followed? {
        if let Some(Role::Follower(f)) = roles.get_mut(&configured) {
            f.stats = Some(p);
        }
    }
    let checkpoints = leaders
        .into_iter()
        .zip(checkpoints)
        .filter_map(|(name, c)| Some((name, c?)))
        .collect();
    Ok(Side {
        name: info.cluster_name,
        uuid: info.cluster_uuid,
        roles,
        checkpoints,
    })
}

/// `_ccr/stats` of the active followers, by configured name.
async fn follow_stats(
    client: &EsClient,
    concrete: &[(String, String)],
    budget: Duration,
) -> Result<Vec<(String, ccr::Progress)>, String> {
    if concrete.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = concrete.iter().map(|(_, c)| c.as_str()).collect();
    let path = format!("/{}/_ccr/stats", names.join(","));
    let a = client
        .get(&path, &["timeout"], budget)
        .await
        .map_err(|e| e.to_string())?;
    // A 404 here means no shard task reports yet: no stats, not an error.
    if a.status.as_u16() == 404 {
        return Ok(Vec::new());
    }
    if !a.status.is_success() {
        return Err(refused(&format!("GET {path}"), &a));
    }
    let progress = ccr::progress(&a)?;
    Ok(concrete
        .iter()
        .filter_map(|(configured, follower)| Some((configured.clone(), progress.get(follower)?.clone())))
        .collect())
}

#[derive(Deserialize)]
struct IndexStats {
    indices: BTreeMap<String, IndexShards>,
}

#[derive(Deserialize)]
struct IndexShards {
    shards: BTreeMap<String, Vec<ShardCopy>>,
}

#[derive(Deserialize)]
struct ShardCopy {
    routing: Routing,
    seq_no: Option<SeqNo>,
}

#[derive(Deserialize)]
struct Routing {
    primary: bool,
}

#[derive(Deserialize)]
struct SeqNo {
    global_checkpoint: i64,
}

/// A leader's own global checkpoint per shard (its primary copy's), from
/// `GET /<index>/_stats/docs?level=shards` (`seq_no` is in every shard's
/// stats). `None` when it cannot be read (the user lacks the index privilege
/// `monitor`, say): the follower's own view of the leader is used instead.
async fn leader_checkpoints(client: &EsClient, index: &str, budget: Duration) -> Option<BTreeMap<u64, i64>> {
    let a = client
        .get(&format!("/{index}/_stats/docs?level=shards"), &[], budget)
        .await
        .ok()?;
    if !a.status.is_success() {
        tracing::debug!("failback: {index}/_stats answered {}", a.status);
        return None;
    }
    checkpoints_in(&a.body)
}

/// The primary copies' global checkpoints of the one index of a `_stats` body.
pub fn checkpoints_in(body: &[u8]) -> Option<BTreeMap<u64, i64>> {
    let stats: IndexStats = serde_json::from_slice(body).ok()?;
    let index = stats.indices.into_values().next()?;
    let out: BTreeMap<u64, i64> = index
        .shards
        .into_iter()
        .filter_map(|(id, copies)| {
            let primary = copies.into_iter().find(|c| c.routing.primary)?;
            Some((id.parse().ok()?, primary.seq_no?.global_checkpoint))
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

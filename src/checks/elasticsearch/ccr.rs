//! `mode = "ccr"`: cross-cluster replication follower health from
//! `GET /<followers>/_ccr/stats` (or `GET /_ccr/stats` for every follower).
//!
//! Lag is counted in operations per shard: leader global checkpoint minus
//! follower global checkpoint, the maximum over shards. A `fatal_exception`
//! (replication stopped until paused and resumed) fails; `read_exceptions`
//! (retried by Elasticsearch) warn. A listed follower missing from the answer is
//! paused or not a follower, and fails. Pre-GA names (`fetch_exceptions`,
//! `time_since_last_fetch_millis`, a map keyed by index) are read too.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::client::Answer;
use super::errors::describe;
use crate::checks::transport::one_line;
use crate::checks::{Fact, Observed, Outcome};
use crate::config::EsConfig;
use crate::status::Status;

#[derive(Debug, Deserialize)]
struct Shard {
    #[serde(default)]
    shard_id: Option<u64>,
    leader_global_checkpoint: i64,
    follower_global_checkpoint: i64,
    #[serde(default, alias = "time_since_last_fetch_millis")]
    time_since_last_read_millis: Option<u64>,
    #[serde(default, alias = "fetch_exceptions")]
    read_exceptions: Vec<serde_json::Value>,
    #[serde(default)]
    fatal_exception: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Index {
    index: String,
    #[serde(default)]
    shards: Vec<Shard>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Body {
    /// `GET /<index>/_ccr/stats`.
    Follow { indices: Vec<Index> },
    /// `GET /_ccr/stats`.
    All { follow_stats: FollowStats },
    /// Pre-GA: a map keyed by follower index.
    Legacy(BTreeMap<String, Vec<Shard>>),
}

#[derive(Debug, Deserialize)]
struct FollowStats {
    indices: Vec<Index>,
}

/// The path for a configuration.
pub fn path(cfg: &EsConfig) -> String {
    if cfg.followers.is_empty() {
        "/_ccr/stats".into()
    } else {
        format!("/{}/_ccr/stats", cfg.followers.join(","))
    }
}

/// What one follower looks like, summed over its shards.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Operations behind the leader (max over shards).
    pub lag: i64,
    /// Milliseconds since the last read (max over shards).
    pub since_read_ms: u64,
    /// Read exceptions reported (sum over shards).
    pub read_exceptions: usize,
    /// The first shard's fatal exception, as a reason.
    pub fatal: Option<String>,
    /// Each shard's follower global checkpoint, by shard id.
    pub checkpoints: BTreeMap<u64, i64>,
}

/// Every follower of a successful stats answer, by follower index.
pub fn progress(a: &Answer) -> Result<BTreeMap<String, Progress>, String> {
    let body: Body =
        serde_json::from_slice(&a.body).map_err(|e| format!("unexpected CCR stats answer from {}: {e}", a.node))?;
    Ok(indices_of(body)
        .into_iter()
        .map(|(name, shards)| (name, summarise(&shards)))
        .collect())
}

fn indices_of(body: Body) -> Vec<(String, Vec<Shard>)> {
    match body {
        Body::Follow { indices }
        | Body::All {
            follow_stats: FollowStats { indices },
        } => indices.into_iter().map(|i| (i.index, i.shards)).collect(),
        Body::Legacy(map) => map.into_iter().collect(),
    }
}

fn exception_text(e: &serde_json::Value) -> String {
    let e = e.get("exception").unwrap_or(e);
    let ty = e.get("type").and_then(|t| t.as_str()).unwrap_or("exception");
    match e.get("reason").and_then(|r| r.as_str()) {
        Some(r) => one_line(&format!("{ty}: {r}")),
        None => ty.to_string(),
    }
}

fn summarise(shards: &[Shard]) -> Progress {
    let mut f = Progress {
        lag: 0,
        since_read_ms: 0,
        read_exceptions: 0,
        fatal: None,
        checkpoints: BTreeMap::new(),
    };
    for s in shards {
        f.checkpoints
            .insert(s.shard_id.unwrap_or(0), s.follower_global_checkpoint);
        f.lag = f.lag.max(s.leader_global_checkpoint - s.follower_global_checkpoint);
        f.since_read_ms = f.since_read_ms.max(s.time_since_last_read_millis.unwrap_or(0));
        f.read_exceptions += s.read_exceptions.len();
        if f.fatal.is_none() {
            f.fatal = s
                .fatal_exception
                .as_ref()
                .map(|e| format!("shard {} stopped: {}", s.shard_id.unwrap_or(0), exception_text(e)));
        }
    }
    f
}

/// Turns an answer into a verdict.
pub fn evaluate(cfg: &EsConfig, a: &Answer) -> Outcome {
    if a.status.as_u16() == 404 {
        // Named indices none of which has a follow task: paused, or not
        // followers at all (TransportFollowStatsAction); a missing index is
        // an index_not_found_exception.
        let what = if super::errors::error_detail(&a.body).and_then(|d| d.0).as_deref()
            == Some("resource_not_found_exception")
        {
            "not being followed (paused, or not a follower index)"
        } else {
            "follower index not found"
        };
        let mut o = Outcome::fail(format!("{what}; {}", describe(404, &a.body, &a.node)));
        o.observed = Some(Observed::Text("missing".into()));
        return o;
    }
    if !a.status.is_success() {
        return Outcome::fail(describe(a.status.as_u16(), &a.body, &a.node));
    }
    let body: Body = match serde_json::from_slice(&a.body) {
        Ok(b) => b,
        Err(e) => return Outcome::fail(format!("unexpected CCR stats answer from {}: {e}", a.node)),
    };
    let indices = indices_of(body);
    let mut o = Outcome::pass(String::new());
    let mut notes = Vec::new();
    let mut worst_lag = 0i64;
    let raise = |o: &mut Outcome, s: Status| o.status = o.status.max(s);
    let watched: Vec<String> = if cfg.followers.is_empty() {
        indices.iter().map(|(n, _)| n.clone()).collect()
    } else {
        cfg.followers.clone()
    };
    if watched.is_empty() {
        raise(&mut o, Status::Warn);
        notes.push("no follower indices are being replicated".to_string());
    }
    let mut all = Progress {
        lag: 0,
        since_read_ms: 0,
        read_exceptions: 0,
        fatal: None,
        checkpoints: BTreeMap::new(),
    };
    for name in &watched {
        let Some((_, shards)) = indices.iter().find(|(n, _)| n == name) else {
            raise(&mut o, Status::Fail);
            notes.push(format!(
                "follower \"{name}\" is not being followed (paused, or not a follower index)"
            ));
            continue;
        };
        let f = summarise(shards);
        worst_lag = worst_lag.max(f.lag);
        if !cfg.followers.is_empty() {
            o.measure_of(Fact::EsCcrLagOperations, name, f.lag as f64);
            o.measure_of(
                Fact::EsCcrTimeSinceLastReadSeconds,
                name,
                f.since_read_ms as f64 / 1000.0,
            );
            o.measure_of(Fact::EsCcrReadExceptions, name, f.read_exceptions as f64);
            o.measure_of(Fact::EsCcrFatalException, name, f64::from(u8::from(f.fatal.is_some())));
        }
        if let Some(fatal) = &f.fatal {
            raise(&mut o, Status::Fail);
            notes.push(format!("follower \"{name}\" {fatal}"));
        } else if f.read_exceptions > 0 {
            raise(&mut o, Status::Warn);
            let first = shards
                .iter()
                .flat_map(|s| s.read_exceptions.first())
                .next()
                .map(exception_text)
                .unwrap_or_default();
            notes.push(format!(
                "follower \"{name}\" has {} read exception(s): {first}",
                f.read_exceptions
            ));
        }
        if let Some(max) = cfg.max_lag_operations {
            if f.lag > max as i64 {
                raise(&mut o, Status::Fail);
                notes.push(format!(
                    "follower \"{name}\" lag {} operations > max_lag_operations {max}",
                    f.lag
                ));
            }
        }
        if let Some(max) = cfg.max_time_since_last_read {
            if u128::from(f.since_read_ms) > max.as_millis() {
                raise(&mut o, Status::Fail);
                notes.push(format!(
                    "follower \"{name}\" last read {}s ago > max_time_since_last_read {}",
                    f.since_read_ms / 1000,
                    humantime::format_duration(max)
                ));
            }
        }
        all.lag = all.lag.max(f.lag);
        all.since_read_ms = all.since_read_ms.max(f.since_read_ms);
        all.read_exceptions += f.read_exceptions;
        all.fatal = all.fatal.or(f.fatal);
    }
    if cfg.followers.is_empty() {
        // Every follower, aggregated under one label so series stay bounded.
        o.measure_of(Fact::EsCcrLagOperations, "_all", all.lag as f64);
        o.measure_of(
            Fact::EsCcrTimeSinceLastReadSeconds,
            "_all",
            all.since_read_ms as f64 / 1000.0,
        );
        o.measure_of(Fact::EsCcrReadExceptions, "_all", all.read_exceptions as f64);
        o.measure_of(
            Fact::EsCcrFatalException,
            "_all",
            f64::from(u8::from(all.fatal.is_some())),
        );
    }
    let summary = format!(
        "{} follower(s), max lag {worst_lag} operations, last read {}ms ago, via {}",
        watched.len(),
        all.since_read_ms,
        a.node
    );
    o.reason = if notes.is_empty() {
        summary
    } else {
        format!("{}; {summary}", notes.join("; "))
    };
    o.observed = Some(Observed::Number(worst_lag as f64, "operations"));
    o
}

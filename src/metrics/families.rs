//! The catalogue of fact gauges: metric name, help, and the label that names a
//! fact's subject (follower, index, indicator) when it has one.

use crate::checks::Fact;

/// One fact gauge family.
pub(super) struct FactFamily {
    pub fact: Fact,
    pub name: &'static str,
    pub help: &'static str,
    /// The second label (after `check`), for per-subject facts.
    pub subject: Option<&'static str>,
}

const fn family(fact: Fact, name: &'static str, help: &'static str) -> FactFamily {
    FactFamily {
        fact,
        name,
        help,
        subject: None,
    }
}

const fn per(fact: Fact, name: &'static str, help: &'static str, subject: &'static str) -> FactFamily {
    FactFamily {
        fact,
        name,
        help,
        subject: Some(subject),
    }
}

/// Every exported fact. Values persist between rounds: a round that brings no
/// facts (cluster unreachable) leaves the last known values in place.
pub(super) const FACT_FAMILIES: &[FactFamily] = &[
    family(Fact::EsClusterStatus, "healthgate_es_cluster_status", "Cluster colour from the latest answer: 0 green, 1 yellow, 2 red."),
    family(Fact::EsNodes, "healthgate_es_nodes", "Nodes in the cluster (number_of_nodes)."),
    family(Fact::EsDataNodes, "healthgate_es_data_nodes", "Data nodes in the cluster (number_of_data_nodes)."),
    family(Fact::EsActiveShards, "healthgate_es_active_shards", "Active shards, primaries and replicas."),
    family(Fact::EsActivePrimaryShards, "healthgate_es_active_primary_shards", "Active primary shards."),
    family(Fact::EsRelocatingShards, "healthgate_es_relocating_shards", "Shards relocating between nodes."),
    family(Fact::EsInitializingShards, "healthgate_es_initializing_shards", "Shards initializing."),
    family(Fact::EsUnassignedShards, "healthgate_es_unassigned_shards", "Unassigned shards."),
    family(Fact::EsDelayedUnassignedShards, "healthgate_es_delayed_unassigned_shards", "Unassigned shards whose allocation is delayed."),
    family(Fact::EsActiveShardsPercent, "healthgate_es_active_shards_percent", "Active shards as a percentage of all shards."),
    family(Fact::EsPendingTasks, "healthgate_es_pending_tasks", "Cluster-level tasks waiting to run."),
    family(Fact::EsMaxTaskWaitSeconds, "healthgate_es_task_max_waiting_seconds", "Longest time a pending cluster task has waited, in seconds."),
    per(Fact::EsCcrLagOperations, "healthgate_es_ccr_lag_operations", "Operations a CCR follower is behind its leader (max over shards; follower=\"_all\" aggregates every follower).", "follower"),
    per(Fact::EsCcrTimeSinceLastReadSeconds, "healthgate_es_ccr_time_since_last_read_seconds", "Seconds since a CCR follower last read from its leader (max over shards).", "follower"),
    per(Fact::EsCcrReadExceptions, "healthgate_es_ccr_read_exceptions", "Read exceptions a CCR follower currently reports.", "follower"),
    per(Fact::EsCcrFatalException, "healthgate_es_ccr_fatal_exception", "1 when a CCR follower's shard task stopped with a fatal exception.", "follower"),
    family(Fact::EsHealthReportStatus, "healthgate_es_health_report_status", "Health report colour: 0 green, 1 yellow, 2 red, 3 unknown."),
    per(Fact::EsHealthIndicatorStatus, "healthgate_es_health_indicator_status", "Health report indicator colour: 0 green, 1 yellow, 2 red, 3 unknown.", "indicator"),
    per(Fact::EsIndexStatus, "healthgate_es_index_status", "Colour of a named index: 0 green, 1 yellow, 2 red (a missing index is red).", "index"),
    family(Fact::EsMasterPresent, "healthgate_es_master_present", "1 when the cluster has an elected master, 0 when it has none."),
    family(Fact::EsDrGate, "healthgate_es_dr_gate", "DR failback gate: 0 open, 1 open but the secondary does not protect this cluster, 2 closed, 3 latched (split leaders seen)."),
    per(Fact::EsDrLocalRole, "healthgate_es_dr_local_role", "A write index's CCR role on this cluster: 0 missing, 1 leader, 2 following, 3 paused follower, 4 follower stopped by a fatal exception.", "index"),
    per(Fact::EsDrPeerRole, "healthgate_es_dr_peer_role", "The same index's CCR role on the secondary cluster (same codes).", "index"),
    per(Fact::EsDrPeerLagOperations, "healthgate_es_dr_peer_lag_operations", "Operations the secondary's follower is behind this cluster (max over shards).", "index"),
    per(Fact::EsDrReseedLagOperations, "healthgate_es_dr_reseed_lag_operations", "Operations this cluster's follower, being re-seeded from the secondary, is behind it (max over shards).", "index"),
    family(Fact::HttpStatus, "healthgate_http_check_status_code", "HTTP status code of the latest answer to an http check."),
];

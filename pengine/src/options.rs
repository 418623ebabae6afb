//! Cluster options (`crm_config`) with Pacemaker 2.1's defaults.
//!
//! Names are canonicalised first (`stonith_enabled` is `stonith-enabled`,
//! see `cib::model::names`), so Heartbeat 2.x configurations mean what
//! they meant. Sets are taken in Pacemaker's precedence order with
//! `cib-bootstrap-options` first, and rules (usually date rules) are
//! evaluated at `now`.

use std::collections::BTreeMap;

use cib::model::duration::parse_msec;
use cib::model::names::canonical_cluster_option;
use cib::model::{NvSet, Score};

use crate::nvsets::{is_true, unpack_into};
use crate::rules::RuleInput;

/// What to do without quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoQuorumPolicy {
    Ignore,
    Freeze,
    Stop,
    Demote,
    /// Fence every node of the partition (needs fencing).
    Suicide,
}

/// How node health attributes are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStrategy {
    None,
    MigrateOnRed,
    OnlyGreen,
    Progressive,
    Custom,
}

/// The options the scheduler reads, typed, plus every option as written
/// (canonical names) in `all`.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub all: BTreeMap<String, String>,
    pub stonith_enabled: bool,
    pub stonith_action: String,
    pub symmetric_cluster: bool,
    pub no_quorum_policy: NoQuorumPolicy,
    pub stop_orphan_resources: bool,
    pub stop_orphan_actions: bool,
    pub maintenance_mode: bool,
    pub stop_all_resources: bool,
    pub start_failure_is_fatal: bool,
    pub startup_fencing: bool,
    pub enable_startup_probes: bool,
    pub concurrent_fencing: bool,
    pub shutdown_lock: bool,
    /// Seconds (0 = no limit).
    pub shutdown_lock_limit: i64,
    pub node_health_strategy: HealthStrategy,
    pub node_health_red: Score,
    pub node_health_yellow: Score,
    pub node_health_green: Score,
    pub node_health_base: Score,
    pub placement_strategy: String,
    /// Deprecated cluster-wide defaults still honoured by Pacemaker 2.1.
    pub is_managed_default: bool,
    pub default_resource_stickiness: Score,
    pub cluster_name: Option<String>,
}

impl ClusterOptions {
    pub fn from_sets(sets: &[NvSet], now: i64) -> ClusterOptions {
        let mut all = BTreeMap::new();
        let input = RuleInput { now, ..Default::default() };
        unpack_into(&mut all, sets, Some("cib-bootstrap-options"), &input, false, canonical_cluster_option);
        let get = |n: &str| all.get(n).map(String::as_str);
        let flag = |n: &str, default: bool| match get(n) {
            None => default,
            Some(v) => is_true(Some(v)),
        };
        let score = |n: &str, default: i32| get(n).map_or(Score::from(default), Score::parse);
        let stonith_enabled = flag("stonith-enabled", true);
        let mut no_quorum_policy = match get("no-quorum-policy").map(str::to_ascii_lowercase).as_deref() {
            Some("ignore") => NoQuorumPolicy::Ignore,
            Some("freeze") => NoQuorumPolicy::Freeze,
            Some("demote") => NoQuorumPolicy::Demote,
            Some("suicide") => NoQuorumPolicy::Suicide,
            _ => NoQuorumPolicy::Stop,
        };
        if no_quorum_policy == NoQuorumPolicy::Suicide && !stonith_enabled {
            // Pacemaker: suicide without fencing cannot be honoured.
            no_quorum_policy = NoQuorumPolicy::Stop;
        }
        let node_health_strategy = match get("node-health-strategy").map(str::to_ascii_lowercase).as_deref() {
            Some("migrate-on-red") => HealthStrategy::MigrateOnRed,
            Some("only-green") => HealthStrategy::OnlyGreen,
            Some("progressive") => HealthStrategy::Progressive,
            Some("custom") => HealthStrategy::Custom,
            _ => HealthStrategy::None,
        };
        // migrate-on-red and only-green fix the colour scores.
        let (red, yellow, green) = match node_health_strategy {
            HealthStrategy::MigrateOnRed => (Score::MINUS_INFINITY, Score::ZERO, Score::ZERO),
            HealthStrategy::OnlyGreen => (Score::MINUS_INFINITY, Score::MINUS_INFINITY, Score::ZERO),
            _ => (score("node-health-red", 0), score("node-health-yellow", 0), score("node-health-green", 0)),
        };
        ClusterOptions {
            stonith_enabled,
            stonith_action: get("stonith-action").unwrap_or("reboot").to_string(),
            symmetric_cluster: flag("symmetric-cluster", true),
            no_quorum_policy,
            stop_orphan_resources: flag("stop-orphan-resources", true),
            stop_orphan_actions: flag("stop-orphan-actions", true),
            maintenance_mode: flag("maintenance-mode", false),
            stop_all_resources: flag("stop-all-resources", false),
            start_failure_is_fatal: flag("start-failure-is-fatal", true),
            startup_fencing: flag("startup-fencing", true),
            enable_startup_probes: flag("enable-startup-probes", true),
            concurrent_fencing: flag("concurrent-fencing", false),
            shutdown_lock: flag("shutdown-lock", false),
            shutdown_lock_limit: get("shutdown-lock-limit").and_then(parse_msec).map_or(0, |ms| (ms / 1000) as i64),
            node_health_strategy,
            node_health_red: red,
            node_health_yellow: yellow,
            node_health_green: green,
            node_health_base: score("node-health-base", 0),
            placement_strategy: get("placement-strategy").unwrap_or("default").to_string(),
            is_managed_default: flag("is-managed-default", true),
            default_resource_stickiness: score("default-resource-stickiness", 0),
            cluster_name: get("cluster-name").map(str::to_string),
            all,
        }
    }
}

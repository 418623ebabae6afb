//! Canonical names for options written in Heartbeat 2.x / Pacemaker 1.x
//! spelling.
//!
//! The model keeps every name as written; consumers that look an option
//! up by meaning ask these functions for the current Pacemaker spelling.
//! The tables follow what Pacemaker's own upgrade transforms did
//! (upgrade06.xsl for Heartbeat 2.x -> Pacemaker 1.0, upgrade-2.10.xsl for
//! 2.x -> 3.0) and Pacemaker 2.1's renames (master -> promoted). They are
//! reproduced in docs/MODEL.md.

/// Cluster options (`crm_config` nvpairs): written name -> current name.
const CLUSTER_OPTIONS: &[(&str, &str)] = &[
    ("symmetric_cluster", "symmetric-cluster"),
    ("stonith_enabled", "stonith-enabled"),
    ("stonith_action", "stonith-action"),
    ("no_quorum_policy", "no-quorum-policy"),
    ("default_resource_stickiness", "default-resource-stickiness"),
    ("default_resource_failure_stickiness", "default-resource-failure-stickiness"),
    ("is_managed_default", "is-managed-default"),
    ("stop_orphan_resources", "stop-orphan-resources"),
    ("stop_orphan_actions", "stop-orphan-actions"),
    ("remove_after_stop", "remove-after-stop"),
    ("transition_idle_timeout", "cluster-delay"),
    ("default_action_timeout", "default-action-timeout"),
    ("default_migration_threshold", "default-migration-threshold"),
    ("cluster_recheck_interval", "cluster-recheck-interval"),
    ("dc_deadtime", "dc-deadtime"),
    ("election_timeout", "election-timeout"),
    ("shutdown_escalation", "shutdown-escalation"),
    ("startup_fencing", "startup-fencing"),
    ("pe_error_series_max", "pe-error-series-max"),
    ("pe_warn_series_max", "pe-warn-series-max"),
    ("pe_input_series_max", "pe-input-series-max"),
];

/// Resource meta-attributes (also rsc_defaults): written name -> current
/// name. Heartbeat wrote these with underscores, and often in
/// `instance_attributes` (see [`is_heartbeat_instance_meta`]).
const META_ATTRIBUTES: &[(&str, &str)] = &[
    ("resource_stickiness", "resource-stickiness"),
    ("resource_failure_stickiness", "resource-failure-stickiness"),
    ("target_role", "target-role"),
    ("is_managed", "is-managed"),
    ("allow_migrate", "allow-migrate"),
    ("multiple_active", "multiple-active"),
    ("restart_type", "restart-type"),
    ("migration_threshold", "migration-threshold"),
    ("failure_timeout", "failure-timeout"),
    ("globally_unique", "globally-unique"),
    ("clone_max", "clone-max"),
    ("clone_node_max", "clone-node-max"),
    ("master_max", "promoted-max"),
    ("master_node_max", "promoted-node-max"),
    ("master-max", "promoted-max"),
    ("master-node-max", "promoted-node-max"),
];

/// Heartbeat 2.x accepted these in a resource's `instance_attributes`;
/// Pacemaker 1.0's upgrade moved them to `meta_attributes`.
const HEARTBEAT_INSTANCE_META: &[&str] = &[
    "resource_stickiness",
    "allow_migrate",
    "globally_unique",
    "target_role",
    "clone_max",
    "clone_node_max",
    "master_max",
    "master_node_max",
    "is_managed",
    "resource_failure_stickiness",
];

fn lookup<'a>(table: &[(&str, &'static str)], name: &'a str) -> &'a str {
    table.iter().find(|(old, _)| *old == name).map_or(name, |(_, new)| *new)
}

/// The current name of a cluster option (`crm_config`); unknown names are
/// returned unchanged.
pub fn canonical_cluster_option(name: &str) -> &str {
    lookup(CLUSTER_OPTIONS, name)
}

/// The current name of a resource meta-attribute; unknown names are
/// returned unchanged.
pub fn canonical_meta_attribute(name: &str) -> &str {
    lookup(META_ATTRIBUTES, name)
}

/// Whether Heartbeat 2.x would have read this `instance_attributes` name
/// as a meta-attribute (e.g. `target_role` in seed 002).
pub fn is_heartbeat_instance_meta(name: &str) -> bool {
    HEARTBEAT_INSTANCE_META.contains(&name)
}

/// Every (written, canonical) pair of both tables, for documentation and
/// tests.
pub fn table() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    CLUSTER_OPTIONS
        .iter()
        .map(|(a, b)| ("cluster option", *a, *b))
        .chain(META_ATTRIBUTES.iter().map(|(a, b)| ("meta-attribute", *a, *b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_names_map_to_pacemaker_names() {
        assert_eq!(canonical_cluster_option("no_quorum_policy"), "no-quorum-policy");
        assert_eq!(canonical_cluster_option("default-resource-stickiness"), "default-resource-stickiness");
        assert_eq!(canonical_cluster_option("transition_idle_timeout"), "cluster-delay");
        assert_eq!(canonical_cluster_option("short_resource_names"), "short_resource_names");
        assert_eq!(canonical_meta_attribute("resource_stickiness"), "resource-stickiness");
        assert_eq!(canonical_meta_attribute("target_role"), "target-role");
        assert_eq!(canonical_meta_attribute("master-max"), "promoted-max");
        assert_eq!(canonical_meta_attribute("priority"), "priority");
        assert!(is_heartbeat_instance_meta("target_role"));
        assert!(!is_heartbeat_instance_meta("ip"));
    }

    #[test]
    fn canonical_names_are_fixed_points() {
        for (_, _, new) in table() {
            assert_eq!(canonical_cluster_option(new), new);
            assert_eq!(canonical_meta_attribute(new), new);
        }
    }
}

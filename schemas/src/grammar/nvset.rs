//! Name/value sets (`instance_attributes`, `meta_attributes`,
//! `cluster_property_set`, `utilization`) and their `nvpair`s.

use super::{child, el, rule, V};
use crate::datatype::Ty;
use crate::pattern::{all, attr, many, maybe, one_of, opt_attr, Pat, Spec};

/// Which `nvpair` names a set accepts. From 3.0 on, names that Pacemaker
/// renamed or retired are rejected in the sets where they used to live
/// (they are upgraded away by `cibadmin --upgrade`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    Any,
    /// `cluster_property_set`: retired underscore spellings and old
    /// cluster-infrastructure values.
    ClusterOptions,
    /// A primitive's or template's `meta_attributes`.
    ResourceMeta,
    /// A primitive's or template's `instance_attributes` (3.0 only).
    ResourceInstance,
    /// An `op`'s `meta_attributes`.
    OpMeta,
    /// An `op`'s `instance_attributes` (3.0 only).
    OpInstance,
}

const RETIRED_CLUSTER_OPTIONS: &[&str] = &[
    "cluster-infrastructure", "cluster_recheck_interval", "dc_deadtime", "default-action-timeout",
    "default_action_timeout", "default-migration-threshold", "default_migration_threshold",
    "default-resource-failure-stickiness", "default_resource_failure_stickiness",
    "default-resource-stickiness", "default_resource_stickiness", "election_timeout",
    "expected-quorum-votes", "is-managed-default", "is_managed_default", "no_quorum_policy",
    "notification-agent", "notification-recipient", "remove_after_stop", "shutdown_escalation",
    "startup_fencing", "stonith_action", "stonith_enabled", "stop_orphan_actions",
    "stop_orphan_resources", "symmetric_cluster", "transition_idle_timeout",
];
const RETIRED_INFRASTRUCTURES: &[&str] =
    &["heartbeat", "openais", "classic openais", "classic openais (with plugin)", "cman"];
const RETIRED_RESOURCE_META: &[&str] = &["isolation", "isolation-host", "isolation-instance", "isolation-wrapper"];
const RETIRED_RESOURCE_INSTANCE: &[&str] = &[
    "pcmk_arg_map", "pcmk_list_cmd", "pcmk_monitor_cmd", "pcmk_off_cmd", "pcmk_on_cmd", "pcmk_reboot_cmd",
    "pcmk_status_cmd",
];
const RETIRED_OP_META: &[&str] = &["requires"];
const RETIRED_OP_INSTANCE: &[&str] = &[
    "interval-origin", "start-delay", "enabled", "on-fail", "record-pending", "role", "timeout", "requires",
];

/// A set element named `name`.
pub fn nvset(name: &'static str, v: V, names: Names) -> Spec {
    el(name, nvset_body(v, names))
}

fn nvset_body(v: V, names: Names) -> Pat {
    let mut parts = vec![
        attr("id", Ty::Id),
        maybe("rule", crate::pattern::build(move || rule::rule(rule::for_nvset(v)))),
        many(vec![child!("nvpair", nvpair(v, names))]),
    ];
    if v.ge(1, 2) {
        parts.push(opt_attr("score", Ty::Score));
    }
    one_of(vec![attr("id-ref", Ty::IdRef), all(parts)])
}

fn nvpair(v: V, names: Names) -> Spec {
    let plain = || all(vec![attr("name", Ty::Text), opt_attr("value", Ty::Text)]);
    let except = |list| all(vec![attr("name", Ty::Except(list)), opt_attr("value", Ty::Text)]);
    let name_value = if !v.ge(3, 0) {
        plain()
    } else {
        match names {
            Names::Any => plain(),
            Names::ClusterOptions => one_of(vec![
                all(vec![
                    attr("name", Ty::Enum(&["cluster-infrastructure"])),
                    attr("value", Ty::Except(RETIRED_INFRASTRUCTURES)),
                ]),
                except(RETIRED_CLUSTER_OPTIONS),
            ]),
            Names::ResourceMeta => except(RETIRED_RESOURCE_META),
            Names::OpMeta => except(RETIRED_OP_META),
            Names::ResourceInstance if !v.ge(3, 1) => except(RETIRED_RESOURCE_INSTANCE),
            Names::OpInstance if !v.ge(3, 1) => except(RETIRED_OP_INSTANCE),
            Names::ResourceInstance | Names::OpInstance => plain(),
        }
    };
    let with_id = all(vec![attr("id", Ty::Id), name_value]);
    let pat = if v.ge(2, 9) {
        one_of(vec![all(vec![attr("id-ref", Ty::IdRef), opt_attr("name", Ty::Text)]), with_id])
    } else {
        with_id
    };
    el("nvpair", pat)
}

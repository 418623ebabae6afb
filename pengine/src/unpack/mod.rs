//! Stage 1 of the pipeline: unpacking the CIB into a [`WorkingSet`]
//! (Pacemaker's `cluster_status()`).
//!
//! ```text
//!  Cib ─ options ─> nodes (config) ─> resources (tree, clone instances)
//!        ─> node_state pass: attributes, online/unclean/standby...
//!        ─> history passes: each node's lrm_resource entries, in call
//!           order, give every resource its role, failures and location
//!        ─> remote/guest nodes' status from their connections
//! ```
//!
//! - [`nodes`]: configured nodes, node attributes, online status.
//! - [`resources`]: the resource tree with meta-attributes and flags.
//! - [`history`]: operation history -> roles, failures, orphans.
//! - [`failcount`]: fail counts and failure expiry.
//! - [`on_fail`]: what a failed operation asks for (`on-fail`).
//!
//! Unpacking never fails: odd entries are skipped with a warning in
//! [`WorkingSet::warnings`], as Pacemaker logs and carries on.

pub mod failcount;
pub mod history;
pub mod nodes;
pub mod on_fail;
pub mod resources;

use cib::model::Cib;

use crate::options::{ClusterOptions, NoQuorumPolicy};
use crate::working_set::WorkingSet;

/// Builds the working set of `cib` as of `now` (epoch seconds).
pub fn unpack(cib: &Cib, now: i64) -> WorkingSet {
    let mut options = ClusterOptions::from_sets(&cib.crm_config, now);
    if options.no_quorum_policy == NoQuorumPolicy::Suicide && !(cib.no_quorum_panic.unwrap_or(false) || cib.have_quorum.unwrap_or(false)) {
        // A cluster that never had quorum does not shoot itself.
        options.no_quorum_policy = NoQuorumPolicy::Stop;
    }
    let mut ws = WorkingSet {
        now,
        options,
        have_quorum: cib.have_quorum.unwrap_or(false),
        dc_node: None,
        nodes: Vec::new(),
        resources: Vec::new(),
        top_level: Vec::new(),
        failed_ops: Vec::new(),
        locations: Vec::new(),
        implied_actions: Vec::new(),
        stop_needed: Vec::new(),
        recheck_by: None,
        warnings: Vec::new(),
        legacy_failcounts: failcount::is_legacy(cib.crm_feature_set.as_deref()),
    };
    nodes::unpack_nodes(&mut ws, cib);
    resources::unpack_resources(&mut ws, cib);
    nodes::link_remote_nodes(&mut ws);
    history::unpack_status(&mut ws, cib);
    ws
}

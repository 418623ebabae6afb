//! Probes and recurring monitors (Pacemaker's `pcmk_sched_probes.c` and
//! `pcmk_sched_recurring.c`).
//!
//! A probe (`monitor` with interval 0, expecting "not running") finds out
//! whether a resource is active on a node whose history knows nothing of
//! it; it comes before the resource starts anywhere. A recurring monitor
//! follows each start; one already running since the last start (found in
//! the history) is kept rather than scheduled again.

use cib::model::Role;

use crate::orderings::{OrderFlags, Side};
use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId, Variant};

impl Scheduler<'_> {
    /// `pcmk__schedule_probes`.
    pub(crate) fn schedule_probes(&mut self) {
        if !self.ws.options.enable_startup_probes {
            return;
        }
        for n in 0..self.ws.nodes.len() {
            let node = self.ws.node(NodeId(n));
            if !node.online || node.unclean || node.pending || node.shutdown {
                continue;
            }
            if node.attr("resource-discovery-enabled").is_some_and(|v| !crate::nvsets::is_true(Some(v))) {
                continue;
            }
            for top in self.ws.top_level.clone() {
                self.probe_on_node(top, NodeId(n));
            }
        }
    }

    fn probe_on_node(&mut self, r: RscId, node: NodeId) {
        let res = self.ws.rsc(r);
        if !matches!(res.variant, Variant::Primitive(_)) {
            for c in res.children.clone() {
                self.probe_on_node(c, node);
            }
            return;
        }
        if res.flags.orphan || res.known_on.contains(&node) || res.is_remote_node || res.container.is_some() {
            return;
        }
        if self.ws.node(node).maintenance {
            return;
        }
        let probe = self.custom_action(Some(r), "monitor", 0, Some(node), false);
        // Probes run even for unmanaged resources.
        self.actions[probe].optional = false;
        // Before the resource starts (a clone instance: before the clone
        // starts).
        let top = self.ws.top(r);
        let target = if self.ws.rsc(top).clone_info().is_some() { top } else { r };
        self.order(Side::Action(probe), Side::Task(target, "start".into()), OrderFlags { optional: true, ..Default::default() });
    }

    /// `pcmk__create_recurring_actions` for a primitive with a node.
    pub(crate) fn create_recurring_monitors(&mut self, r: RscId) {
        let Some(prim) = self.ws.rsc(r).primitive() else { return };
        let ops = prim.ops.clone();
        let Some(node) = self.assign[r.0].allocated_to else { return };
        if !self.ws.rsc(r).flags.managed && self.ws.rsc(r).running_on.is_empty() {
            return;
        }
        let next = self.ws.rsc(r).next_role;
        if next == Role::Stopped {
            return;
        }
        let mut seen = Vec::new();
        for op in &ops {
            if op.interval_ms == 0 || op.enabled == Some(false) || seen.contains(&(op.name.clone(), op.interval_ms)) {
                continue;
            }
            seen.push((op.name.clone(), op.interval_ms));
            let role = op.role.unwrap_or(Role::Unknown);
            if role == Role::Stopped || (role != Role::Unknown && role != Role::Started && role != next) {
                continue;
            }
            let start = self.find_action(r, "start", Some(node));
            let mut optional = start.is_none_or(|s| self.actions[s].optional);
            let active = self.ws.active_recurring.contains(&(r, node, op.name.clone(), op.interval_ms));
            if !active {
                optional = false;
            }
            let mon = self.custom_action(Some(r), &op.name, op.interval_ms, Some(node), optional);
            if start.is_none_or(|s| !self.actions[s].runnable) || !self.node_available(node, None) {
                self.actions[mon].runnable = false;
            }
            if let Some(s) = start {
                self.order(Side::Action(s), Side::Action(mon), OrderFlags { implies_then: true, runnable_left: true, ..Default::default() });
            }
        }
    }
}

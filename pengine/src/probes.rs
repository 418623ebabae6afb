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
            // Pending nodes get probes that cannot run yet.
            if !(node.online || node.pending) || node.unclean {
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
        // A probe that cannot run (pending node) holds back the start of
        // a resource active nowhere: it might be active there.
        let hold = !self.actions[probe].runnable && self.ws.rsc(r).running_on.is_empty();
        self.order(Side::Action(probe), Side::Task(target, "start".into()), OrderFlags { optional: true, runnable_left: hold, ..Default::default() });
    }

    /// `pcmk__create_recurring_actions`: each configured recurring
    /// operation, for the active role on the assigned node or, with
    /// `role="Stopped"`, on every other node.
    pub(crate) fn create_recurring_monitors(&mut self, r: RscId) {
        let Some(prim) = self.ws.rsc(r).primitive() else { return };
        let ops = prim.ops.clone();
        let res = self.ws.rsc(r);
        if res.flags.blocked || res.flags.maintenance {
            return;
        }
        // The start the active-role monitors follow; created optional if
        // nothing scheduled one.
        let mut start = None;
        if let Some(node) = self.assign[r.0].allocated_to {
            if !self.ws.node(node).maintenance && (res.next_role != Role::Stopped || !res.flags.managed) {
                start = Some(self.custom_action(Some(r), "start", 0, Some(node), true));
            }
        }
        for op in &ops {
            // A name and interval configured twice is a configuration
            // error: Pacemaker schedules neither (`is_op_dup`).
            let dups = ops.iter().filter(|o| o.name == op.name && o.interval_ms == op.interval_ms).count();
            if op.interval_ms == 0 || op.enabled == Some(false) || dups > 1 {
                continue;
            }
            if op.role == Some(Role::Stopped) {
                self.recurring_for_inactive(r, &op.name, op.interval_ms);
            } else if let Some(s) = start {
                self.recurring_for_active(r, s, &op.name, op.interval_ms, op.role.unwrap_or(Role::Unknown));
            }
        }
    }

    fn recurring_for_active(&mut self, r: RscId, start: usize, name: &str, interval_ms: u64, role: Role) {
        let Some(node) = self.actions[start].node else { return };
        let next = self.ws.rsc(r).next_role;
        if role != Role::Unknown && role != Role::Started && role != next {
            return;
        }
        let mut optional = self.actions[start].optional;
        if !self.ws.active_recurring.contains(&(r, node, name.to_string(), interval_ms)) {
            optional = false;
        }
        let mon = self.custom_action(Some(r), name, interval_ms, Some(node), optional);
        if !self.actions[start].runnable || !self.node_available(node, None) {
            self.actions[mon].runnable = false;
        }
        self.order(Side::Action(start), Side::Action(mon), OrderFlags { implies_then: true, runnable_left: true, ..Default::default() });
    }

    /// `role="Stopped"` monitors: cancelled where the resource will run,
    /// scheduled (expecting "not running") everywhere else, after the
    /// resource stops there.
    fn recurring_for_inactive(&mut self, r: RscId, name: &str, interval_ms: u64) {
        let target = self.assign[r.0].allocated_to;
        if let Some(n) = target {
            if self.ws.active_recurring.contains(&(r, n, name.to_string(), interval_ms)) {
                let cancel = self.custom_action(Some(r), "cancel", interval_ms, Some(n), false);
                self.actions[cancel].cancel_task = Some(name.to_string());
                self.actions[cancel].optional = false;
                self.order(Side::Action(cancel), Side::Task(r, "start".into()), OrderFlags { optional: true, ..Default::default() });
            }
        }
        let managed = self.ws.rsc(r).flags.managed;
        for i in 0..self.ws.nodes.len() {
            let node = NodeId(i);
            if Some(node) == target {
                continue;
            }
            let mut optional = self.ws.active_recurring.contains(&(r, node, name.to_string(), interval_ms));
            let mon = self.custom_action(Some(r), name, interval_ms, Some(node), true);
            self.actions[mon].stopped_monitor = true;
            let stops: Vec<usize> = self.actions.iter().filter(|a| a.rsc == Some(r) && a.task == "stop" && a.node == Some(node)).map(|a| a.id).collect();
            for stop in stops {
                if !self.actions[stop].optional {
                    optional = false;
                }
                if !self.actions[stop].runnable {
                    self.actions[mon].runnable = false;
                }
                if managed {
                    self.order(Side::Action(stop), Side::Action(mon), OrderFlags { implies_then: true, runnable_left: true, ..Default::default() });
                }
            }
            let n = self.ws.node(node);
            if !n.online || n.unclean {
                self.actions[mon].runnable = false;
            } else if !optional && managed {
                self.actions[mon].optional = false;
            }
        }
    }
}

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
            // Online but pending nodes get probes that cannot run yet.
            if !node.online || node.unclean {
                continue;
            }
            if node.attr("resource-discovery-enabled").is_some_and(|v| !crate::nvsets::is_true(Some(v))) {
                continue;
            }
            // Old CIBs (before Pacemaker 1.1.14) could ask for every
            // resource to be probed again.
            if node.attr("probe_complete").is_some_and(|v| !crate::nvsets::is_true(Some(v))) {
                let i = self.actions.len();
                self.actions.push(crate::actions::Action {
                    id: i,
                    rsc: None,
                    task: "probe_again".into(),
                    interval_ms: 0,
                    node: Some(NodeId(n)),
                    optional: false,
                    runnable: true,
                    pseudo: false,
                    reason: None,
                    stonith_action: None,
                    stopped_monitor: false,
                    cancel_task: None,
                    notify_key: None,
                });
                continue;
            }
            for top in self.ws.top_level.clone() {
                self.probe_on_node(top, NodeId(n));
            }
        }
    }

    fn probe_on_node(&mut self, r: RscId, node: NodeId) {
        if let Variant::Clone(_) = self.ws.rsc(r).variant {
            // Pacemaker's `clone_create_probe` puts the instances back in
            // number order (assignment sorted them), and later stages see
            // that order.
            let mut kids = self.ws.rsc(r).children.clone();
            kids.sort_by_key(|k| crate::clone::instance_number(&self.ws.rsc(*k).id));
            self.ws.resources[r.0].children = kids;
        }
        let res = self.ws.rsc(r);
        if let Variant::Clone(_) = res.variant {
            if !res.flags.unique {
                // An anonymous clone is probed once per node, through the
                // instance active there, else one active nowhere.
                let kids = res.children.clone();
                // An instance already probed there is probed again
                // (`find_instance_on`): those of its members that are not
                // known there yet (a cloned group's new member) get a probe.
                let known = kids.iter().copied().find(|k| self.ws.subtree(*k).iter().any(|x| self.ws.rsc(*x).known_on.contains(&node)));
                let pick = known
                    .or_else(|| kids.iter().copied().find(|k| self.assign[k.0].allocated_to == Some(node))).or_else(|| kids.iter().copied().find(|k| self.ws.locations(*k, false).is_empty())).or(kids.first().copied());
                if let Some(k) = pick {
                    self.probe_on_node(k, node);
                }
                return;
            }
        }
        if !matches!(res.variant, Variant::Primitive(_)) {
            for c in res.children.clone() {
                self.probe_on_node(c, node);
            }
            return;
        }
        if res.flags.orphan || res.known_on.contains(&node) || res.is_remote_node || res.container.is_some() {
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
        let mut optional = self.actions[start].optional;
        if !self.ws.active_recurring.contains(&(r, node, name.to_string(), interval_ms)) {
            optional = false;
        }
        // A monitor configured for another role than the one the
        // resource will have (no role: any but Promoted) is not
        // scheduled; running, it is cancelled before the role changes.
        if (role != Role::Unknown && role != next) || (role == Role::Unknown && next == Role::Promoted) {
            if optional {
                let cancel = self.custom_action(Some(r), "cancel", interval_ms, Some(node), false);
                self.actions[cancel].cancel_task = Some(name.to_string());
                self.actions[cancel].optional = false;
                let after = match self.ws.rsc(r).role {
                    Role::Unpromoted | Role::Started if next == Role::Promoted => Some("promote"),
                    Role::Unpromoted | Role::Started if next == Role::Stopped => Some("stop"),
                    Role::Promoted => Some("demote"),
                    _ => None,
                };
                if let Some(t) = after {
                    self.order(Side::Action(cancel), Side::Task(r, t.into()), OrderFlags { runnable_left: true, ..Default::default() });
                }
            }
            return;
        }
        let mon = self.custom_action(Some(r), name, interval_ms, Some(node), optional);
        if !self.actions[start].runnable || !self.node_available(node, None) {
            self.actions[mon].runnable = false;
        }
        self.order(Side::Action(start), Side::Action(mon), OrderFlags { implies_then: true, runnable_left: true, ..Default::default() });
        if next == Role::Promoted {
            self.order(Side::Task(r, "promote".into()), Side::Action(mon), OrderFlags { optional: true, runnable_left: true, ..Default::default() });
        } else if self.ws.rsc(r).role == Role::Promoted {
            self.order(Side::Task(r, "demote".into()), Side::Action(mon), OrderFlags { optional: true, runnable_left: true, ..Default::default() });
        }
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
            // After finding out the resource is not running there.
            if let Some(probe) = self.find_action(r, "monitor", Some(node)) {
                self.order(Side::Action(probe), Side::Action(mon), OrderFlags { optional: true, ..Default::default() });
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

impl Scheduler<'_> {
    /// `pcmk__order_probes`: once orderings are resolved, a probe also
    /// comes before the stops that a restart its start implies would need
    /// (following mandatory orderings from its start, and into groups),
    /// and before whatever a stop of its resource is ordered before.
    pub(crate) fn order_probes(&mut self) {
        let opt = OrderFlags { optional: true, ..Default::default() };
        let mut added: Vec<(usize, usize)> = Vec::new();
        let probes: Vec<usize> = self.actions.iter().filter(|a| a.task == "monitor" && a.interval_ms == 0 && a.rsc.is_some_and(|r| self.ws.rsc(r).is_primitive())).map(|a| a.id).collect();
        // Edges do not change until the end: index them once, so each
        // probe's walk costs what it visits, not a scan of every edge
        // (that scan made this stage quadratic; docs/SCALE.md).
        let idx = ProbeWalkIndex::new(self);
        // One walk per (probe, edge from it), each with its own set of
        // visited actions: `seen[a] == walk` marks a visited in this walk
        // (no clearing between walks).
        let mut seen = vec![0u32; self.actions.len()];
        let mut walk = 0u32;
        for &probe in &probes {
            for &(after, _) in &idx.out[probe] {
                walk += 1;
                self.restart_orderings_for_probe(&idx, probe, after, walk, &mut seen, &mut added);
            }
        }
        // "Stop X then Y" implies "probe X then Y" (an anti-colocation's
        // keeps its type for the graph to filter).
        let mut stop_then: Vec<(usize, usize, bool)> = Vec::new();
        for o in self.orderings.clone() {
            if o.flags.none || o.flags.derived {
                continue;
            }
            let first_rsc = match &o.first {
                Side::Action(a) if self.actions[*a].task == "stop" => self.actions[*a].rsc,
                Side::Task(r, t) if t == "stop" => Some(*r),
                _ => None,
            };
            let Some(first_rsc) = first_rsc else { continue };
            let then_rsc = match &o.then {
                Side::Action(a) => self.actions[*a].rsc,
                Side::Task(r, _) => Some(*r),
            };
            if then_rsc == Some(first_rsc) {
                continue;
            }
            let rsc_probes: Vec<usize> = if self.ws.rsc(first_rsc).is_primitive() { idx.by_rsc[first_rsc.0].iter().copied().filter(|&p| self.actions[p].task == "monitor" && self.actions[p].interval_ms == 0).collect() } else { Vec::new() };
            if rsc_probes.is_empty() {
                continue;
            }
            let thens: Vec<usize> = match &o.then {
                Side::Action(a) => vec![*a],
                Side::Task(r, t) => idx.by_rsc[r.0].iter().copied().filter(|&a| self.actions[a].task == *t && self.actions[a].interval_ms == 0).collect(),
            };
            for p in &rsc_probes {
                for t in &thens {
                    let then = &self.actions[*t];
                    if then.task == "do_shutdown" && then.node.is_some() && then.node != self.actions[*p].node {
                        continue;
                    }
                    if then.task == "stonith" && then.node == self.actions[*p].node && then.stonith_action.as_deref() == Some("on") {
                        continue;
                    }
                    stop_then.push((*p, *t, o.flags.anti_colocation));
                }
            }
        }
        let anti_flags = OrderFlags { anti_colocation: true, ..opt };
        for (f, t, is_anti) in added.into_iter().map(|(f, t)| (f, t, false)).chain(stop_then) {
            if f != t {
                let flags = if is_anti { anti_flags } else { opt };
                self.edges.push(crate::orderings::Edge { first: f, then: t, flags });
            }
        }
    }

    /// `add_restart_orderings_for_probe`.
    fn restart_orderings_for_probe(&self, idx: &ProbeWalkIndex, probe: usize, after: usize, walk: u32, seen: &mut [u32], added: &mut Vec<(usize, usize)>) {
        if seen[after] == walk {
            return;
        }
        seen[after] = walk;
        let probe_rsc = self.actions[probe].rsc.expect("a resource probe");
        let a = &self.actions[after];
        if let Some(ar) = a.rsc {
            if self.ws.rsc(ar).is_primitive() && ar != probe_rsc {
                let task = match a.task.as_str() {
                    "start" => Some("stop"),
                    "promote" => Some("demote"),
                    _ => None,
                };
                if let Some(task) = task {
                    for &then in idx.by_rsc[ar.0].iter() {
                        let x = &self.actions[then];
                        if x.task == task && x.interval_ms == 0 && !x.pseudo {
                            added.push((probe, then));
                        }
                    }
                }
            }
        }
        for &(then, implies_then) in &idx.out[after] {
            if !implies_then {
                // Only into the members of a group (or clone) from its own
                // action.
                let Some(ar) = self.actions[after].rsc else { continue };
                let collective = !self.ws.rsc(ar).is_primitive();
                let Some(tr) = self.actions[then].rsc else { continue };
                if !collective || self.ws.rsc(probe_rsc).parent == Some(ar) || self.ws.rsc(tr).parent != Some(ar) || self.ws.rsc(tr).clone_info().is_some() {
                    continue;
                }
            }
            self.restart_orderings_for_probe(idx, probe, then, walk, seen, added);
        }
    }
}

/// What [`Scheduler::order_probes`] looks up while walking: the edges out
/// of each action (those that are neither `none` nor derived, in edge
/// order, with their `implies_then`) and the actions of each resource
/// (in creation order).
struct ProbeWalkIndex {
    out: Vec<Vec<(usize, bool)>>,
    by_rsc: Vec<Vec<usize>>,
}

impl ProbeWalkIndex {
    fn new(s: &Scheduler<'_>) -> Self {
        let mut out = vec![Vec::new(); s.actions.len()];
        for e in s.edges.iter().filter(|e| !e.flags.none && !e.flags.derived) {
            out[e.first].push((e.then, e.flags.implies_then));
        }
        ProbeWalkIndex { out, by_rsc: s.actions_by_rsc() }
    }
}

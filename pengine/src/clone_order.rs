//! Orderings that involve clones beyond the clone's own brackets
//! (Pacemaker 2.1.5's `pcmk__instance_update_ordered_actions`,
//! `clone_min_ordering`): what only puts an action into the graph.

use crate::orderings::{Edge, OrderFlags};
use crate::schedule::Scheduler;
use crate::working_set::{NodeId, RscId};

impl Scheduler<'_> {
    /// `pe_order_implies_then_printed`: once propagation is over, a
    /// required first puts its then into the graph (a
    /// `clone-one-or-more` pseudo-action an instance starts before)
    /// without that then having made anything else required. Only a
    /// first that can run counts (a placeholder start of an instance
    /// going nowhere is required by its stop, yet prints nothing), and
    /// an unrunnable then stays out of the graph.
    pub(crate) fn print_implied_thens(&mut self) {
        for i in 0..self.edges.len() {
            let e = self.edges[i];
            if e.flags.then_printed && !self.actions[e.first].optional && self.actions[e.first].runnable && self.actions[e.then].runnable && self.actions[e.then].optional {
                self.actions[e.then].optional = false;
            }
        }
    }

    /// `can_interleave_actions`: whether an order from clone `first` into
    /// action `then` (of another clone's instance, or that clone) goes
    /// instance to instance. The clone whose action follows decides,
    /// except for stops and demotions, where the first one does.
    pub(crate) fn interleaved(&self, first: RscId, then: usize) -> bool {
        let Some(tr) = self.actions[then].rsc else { return false };
        let then_clone = self.ws.top(tr);
        if then_clone == first || self.ws.rsc(then_clone).clone_info().is_none() || self.ws.rsc(first).clone_info().is_none() {
            return false;
        }
        let decides = if matches!(self.actions[then].task.as_str(), "stop" | "demote") { first } else { then_clone };
        crate::nvsets::is_true(self.ws.rsc(decides).meta("interleave"))
    }

    /// Whether the members' actions a collective's pseudo-action `a`
    /// summarises make it required (`pcmk__collective_action_flags`,
    /// `pcmk__group_action_flags`): any member's is.
    pub(crate) fn summary_required(&self, r: RscId, a: usize) -> bool {
        let task = match self.actions[a].task.as_str() {
            "running" => "start",
            "stopped" => "stop",
            "promoted" => "promote",
            "demoted" => "demote",
            t => t,
        };
        self.ws.rsc(r).children.iter().any(|c| match self.indexed_actions_of_task(*c, task) {
            Some(ids) => ids.iter().any(|&i| !self.actions[i].optional),
            None => self.actions.iter().any(|x| x.rsc == Some(*c) && x.task == task && x.interval_ms == 0 && !x.optional),
        })
    }

    /// `update_interleaved_actions`: an order between two interleaved
    /// clones also orders each instance of the second after the instance
    /// of the first on the same node (where they will run; where they
    /// run now when the first's action is a stop or demotion). These
    /// edges show in the graph; what they imply is already applied
    /// node by node through the clone's own order (`apply_edge`).
    pub(crate) fn interleave_instance_edges(&mut self) {
        let mut added = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for e in &self.edges {
            if e.flags.none || e.flags.derived {
                continue;
            }
            let (Some(fr), Some(tr)) = (self.actions[e.first].rsc, self.actions[e.then].rsc) else { continue };
            if fr == tr || self.ws.rsc(tr).clone_info().is_none() || self.ws.rsc(fr).clone_info().is_none() || !self.interleaved(fr, e.then) {
                continue;
            }
            let ftask = self.actions[e.first].task.clone();
            // (Firsts are not yet remapped to completions here:
            // `crate::collective_order`.)
            let current = matches!(ftask.as_str(), "stopped" | "demoted" | "stop" | "demote");
            let primitive_instances = self.ws.rsc(fr).children.first().is_some_and(|c| self.ws.rsc(*c).is_primitive());
            let orig = match ftask.as_str() {
                "running" if primitive_instances => "start",
                "stopped" if primitive_instances => "stop",
                "promoted" if primitive_instances => "promote",
                "demoted" if primitive_instances => "demote",
                t => t,
            }
            .to_string();
            let ttask = self.actions[e.then].task.clone();
            for then_inst in self.ws.rsc(tr).children.clone() {
                let Some(first_inst) = self.compatible_instance(then_inst, fr, current) else { continue };
                let Some(fa) = self.actions.iter().position(|a| a.rsc == Some(first_inst) && a.task == orig && a.interval_ms == 0) else { continue };
                let Some(ta) = self.actions.iter().position(|a| a.rsc == Some(then_inst) && a.task == ttask && a.interval_ms == 0) else { continue };
                if seen.insert((fa, ta)) {
                    added.push(Edge { first: fa, then: ta, flags: OrderFlags { optional: true, ..Default::default() } });
                }
            }
        }
        self.edges.extend(added);
    }

    /// `pcmk__find_compatible_instance`: the instance of `clone` on the
    /// node of `inst` (its current node when `current`, else where it is
    /// assigned; without one, its allowed nodes best first).
    fn compatible_instance(&self, inst: RscId, clone: RscId, current: bool) -> Option<RscId> {
        let node_of = |r: RscId| -> Option<NodeId> {
            if current {
                self.ws.locations(r, false).first().copied()
            } else {
                self.assign[r.0].allocated_to.or_else(|| self.ws.subtree(r).iter().find_map(|x| self.assign[x.0].allocated_to))
            }
        };
        let on = |n: NodeId| self.ws.rsc(clone).children.iter().copied().find(|c| !self.ws.subtree(*c).iter().any(|x| self.ws.rsc(*x).flags.blocked) && node_of(*c) == Some(n));
        if let Some(n) = node_of(inst) {
            return on(n);
        }
        let mut nodes: Vec<(NodeId, cib::model::Score)> = self.ws.rsc(inst).allowed_nodes.iter().map(|(n, s)| (*n, *s)).collect();
        nodes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| crate::natural::compare(&self.ws.node(a.0).uname, &self.ws.node(b.0).uname)));
        nodes.into_iter().find_map(|(n, _)| on(n))
    }

    /// `unassign_if_mandatory`: an instance of an interleaved clone that
    /// must start after another clone, with no instance of that clone
    /// on its node, cannot be active: it is unassigned, its starts and
    /// active-role monitors cannot run, its stops are required
    /// (`pcmk__assign_resource` with no node). Repeated until nothing
    /// changes, since that may leave a later clone's instances without
    /// a partner too.
    pub(crate) fn inhibit_uninterleaved_instances(&mut self) {
        let mut changed = true;
        let mut rounds = 0;
        while changed && rounds < 20 {
            changed = false;
            rounds += 1;
            for i in 0..self.edges.len() {
                let e = self.edges[i];
                if e.flags.none || e.flags.derived || !(e.flags.runnable_left || e.flags.implies_then) {
                    continue;
                }
                let (Some(fr), Some(tr)) = (self.actions[e.first].rsc, self.actions[e.then].rsc) else { continue };
                if fr == tr || self.ws.rsc(tr).clone_info().is_none() || self.ws.rsc(fr).clone_info().is_none() || !self.interleaved(fr, e.then) {
                    continue;
                }
                // Stops and demotions may go ahead without a partner.
                if matches!(self.actions[e.first].task.as_str(), "stopped" | "demoted" | "stop" | "demote") {
                    continue;
                }
                for inst in self.ws.rsc(tr).children.clone() {
                    let assigned = self.ws.subtree(inst).iter().any(|x| self.assign[x.0].allocated_to.is_some());
                    if !assigned || self.compatible_instance(inst, fr, false).is_some() {
                        continue;
                    }
                    self.inhibit(inst);
                    changed = true;
                }
            }
        }
    }

    fn inhibit(&mut self, inst: RscId) {
        let members = self.ws.subtree(inst);
        self.unassign(inst);
        for m in &members {
            self.assign[m.0].provisional = false;
        }
        for a in 0..self.actions.len() {
            let act = &self.actions[a];
            if !act.rsc.is_some_and(|r| members.contains(&r)) {
                continue;
            }
            match act.task.as_str() {
                "stop" => self.actions[a].optional = false,
                "start" => self.actions[a].runnable = false,
                _ if act.interval_ms > 0 && !act.stopped_monitor => self.actions[a].runnable = false,
                _ => {}
            }
        }
    }

    /// The action of the instance of `first`'s clone that an interleaved
    /// order pairs with the instance action `then`: the partner on its
    /// node (`pcmk__find_compatible_instance`), with the clone action's
    /// task (`running` is its instances' `start`...).
    pub(crate) fn interleaved_partner_action(&self, first: usize, then: usize) -> Option<usize> {
        let fr = self.actions[first].rsc?;
        let inst = self.actions[then].rsc?;
        let ftask = self.actions[first].task.as_str();
        let current = ftask == "stopped" || ftask == "demoted";
        let task = match ftask {
            "running" => "start",
            "stopped" => "stop",
            "promoted" => "promote",
            "demoted" => "demote",
            t => t,
        };
        let partner = self.compatible_instance(inst, fr, current)?;
        self.actions.iter().position(|a| a.rsc == Some(partner) && a.task == task && a.interval_ms == 0)
    }
}

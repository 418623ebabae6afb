//! Orderings that involve clones beyond the clone's own brackets
//! (Pacemaker 2.1.5's `pcmk__instance_update_ordered_actions`,
//! `clone_min_ordering`): what only puts an action into the graph.

use crate::schedule::Scheduler;
use crate::working_set::RscId;

impl Scheduler<'_> {
    /// `pe_order_implies_then_printed`: once propagation is over, a
    /// required first puts its then into the graph (a
    /// `clone-one-or-more` pseudo-action an instance starts before)
    /// without that then having made anything else required. Only a
    /// first that can run counts: a placeholder start of an instance
    /// going nowhere is required by its stop, yet prints nothing.
    pub(crate) fn print_implied_thens(&mut self) {
        for i in 0..self.edges.len() {
            let e = self.edges[i];
            if e.flags.then_printed && !self.actions[e.first].optional && self.actions[e.first].runnable && self.actions[e.then].optional {
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
        self.ws.rsc(r).children.iter().any(|c| self.actions.iter().any(|x| x.rsc == Some(*c) && x.task == task && x.interval_ms == 0 && !x.optional))
    }
}
